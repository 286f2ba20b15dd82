"""The one tool-call parser: training rewards, evaluation and serving all read calls through here.

Accepted shapes, tried in this order (the first shape present wins, so a tagged answer is never
re-read as loose JSON):

1. ``<TOOLCALL>[...]</TOOLCALL>`` (our training format; one object inside works too)
2. ``<tool_call>{...}</tool_call>``, once or repeatedly (Qwen/Hermes style)
3. fenced code blocks, with or without a ``json`` language tag
4. a bare JSON list or object anywhere in the text

A call is an object with a string ``name`` and ``arguments`` (alias ``parameters``) given as an
object or as a JSON-encoded string; the OpenAI shape ``{"type": "function", "function": {...}}``
is unwrapped. A ``<think>...</think>`` segment is reasoning, never a call.

Almost-JSON is repaired only where the repair is unambiguous: JSON5 (single quotes, trailing
commas, unquoted keys) and Python literals (``True``/``None``). Anything else is not a call.
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import json5

__all__ = [
    "THINK_OPEN",
    "THINK_CLOSE",
    "ToolCall",
    "parse_tool_calls",
    "split_reasoning",
    "format_tool_calls",
    "has_call_markup",
]

# Past this size a "call" is not something a model wrote on purpose, and the slow repair paths
# (json5 is pure Python) would make a hostile input expensive.
_MAX_REPAIR_CHARS = 20_000
# Bare-JSON scanning tries each opening bracket; bound it so pathological text stays linear-ish.
_MAX_BARE_STARTS = 64

_TOOLCALL_RE = re.compile(r"<TOOLCALL>(.*?)(?:</TOOLCALL>|$)", re.DOTALL)
_TOOL_CALL_RE = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.DOTALL)
_FENCE_RE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n?(.*?)```", re.DOTALL)
# The tags of the reasoning segment: the check training writes (training/reasoning.py), the
# grammar that holds its quotes (constrained.py) and this parser all use these two.
THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
# Reasoning comes first: a "<think>" later in the text (inside an argument, say) is content.
_THINK_RE = re.compile(rf"^\s*{THINK_OPEN}(.*?)(?:{THINK_CLOSE}|$)", re.DOTALL)


@dataclass
class ToolCall:
    """One function call: the tool's name and its arguments as a JSON object."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "arguments": self.arguments}


def split_reasoning(text: str) -> tuple[str | None, str]:
    """Return ``(reasoning, answer)``: the ``<think>`` segment (None if absent) and the rest.

    An unclosed ``<think>`` (a truncated generation) makes everything after it reasoning. A lone
    ``</think>`` (chat templates that open the tag in the prompt) ends reasoning at that point.
    """
    if not isinstance(text, str):
        return None, ""
    match = _THINK_RE.match(text)
    if match:
        return match.group(1).strip(), text[match.end() :].strip()
    head, sep, tail = text.partition(THINK_CLOSE)
    if sep:
        return head.strip(), tail.strip()
    return None, text


def has_call_markup(text: str) -> bool:
    """True when the answer uses call tags, even if what is inside them does not parse.

    A malformed call is still a decision to call: rewards must not credit it as a question.
    """
    _, answer = split_reasoning(text)
    return "<TOOLCALL>" in answer or "<tool_call>" in answer


def parse_tool_calls(text: str) -> list[ToolCall] | None:
    """Find the tool calls in a model response; None when it contains no call.

    Never raises: any input, however malformed, yields a list of calls or None. An empty call
    list (``<TOOLCALL>[]</TOOLCALL>``) counts as no call.
    """
    try:
        calls = _parse(text)
    except (RecursionError, MemoryError, ValueError, TypeError):  # pragma: no cover - defensive
        return None
    return calls or None


def format_tool_calls(calls: list[ToolCall] | list[dict[str, Any]]) -> str:
    """Render calls in the canonical ``<TOOLCALL>[...]</TOOLCALL>`` form the default prompt asks for."""
    items = [c.to_dict() if isinstance(c, ToolCall) else {"name": c["name"], "arguments": c.get("arguments", {})} for c in calls]
    return "<TOOLCALL>" + json.dumps(items, ensure_ascii=False) + "</TOOLCALL>"


def _parse(text: Any) -> list[ToolCall]:
    if not isinstance(text, str):
        return []
    _, answer = split_reasoning(text)

    # The tag format that opens first is the answer's: the other tag may sit inside its values
    # (a Hermes call whose argument is the text "<TOOLCALL>").
    opened = [(m.start(), pattern) for pattern in (_TOOLCALL_RE, _TOOL_CALL_RE) if (m := pattern.search(answer))]
    if opened:
        pattern = min(opened, key=lambda found: found[0])[1]
        calls: list[ToolCall] = []
        for body in (m.group(1) for m in pattern.finditer(answer)):
            calls.extend(_calls_from_value(_load_lenient(_strip_fence(body))))
        if calls:
            return calls
        # No call in the tags: the "tag" may be text inside a fenced or bare call's values
        # (an argument holding "<tool_call>", found by the fuzz test below).

    fenced = [m.group(2) for m in _FENCE_RE.finditer(answer)]
    if fenced:
        calls = []
        for body in fenced:
            calls.extend(_calls_from_value(_load_lenient(body)))
        if calls:
            return calls

    return _bare_calls(answer)


def _strip_fence(body: str) -> str:
    match = _FENCE_RE.search(body)
    return match.group(2) if match else body


def _bare_calls(text: str) -> list[ToolCall]:
    """Scan for the first JSON value that holds calls; fall back to a repaired bracket span."""
    decoder = json.JSONDecoder()
    skip_until = 0
    tried = 0
    for start, ch in enumerate(text):
        if ch not in "[{" or start < skip_until:
            continue
        tried += 1
        if tried > _MAX_BARE_STARTS:
            break
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            span = _balanced_span(text, start)
            value = _repair(span) if span is not None else None
            end = start + len(span) if span is not None and value is not None else start
        calls = _calls_from_value(value)
        if calls:
            return calls
        # A JSON value that is not a call list is data: an object nested inside it is not a call.
        skip_until = end
    return []


def _balanced_span(text: str, start: int) -> str | None:
    """The bracketed span starting at ``start``, honouring both quote styles; None if unbalanced."""
    stack: list[str] = []
    quote: str | None = None
    escaped = False
    closing = {"[": "]", "{": "}"}
    end = min(len(text), start + _MAX_REPAIR_CHARS)
    for i in range(start, end):
        ch = text[i]
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in closing:
            stack.append(closing[ch])
        elif ch in "]}":
            if not stack or stack.pop() != ch:
                return None
            if not stack:
                return text[start : i + 1]
    return None


def _load_lenient(body: str) -> Any:
    body = body.strip()
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return _repair(body)


def _repair(body: str) -> Any:
    """Unambiguous repairs only: Python literal syntax (fast, C parser), then JSON5 (slow, pure Python)."""
    # Every call object has a "name" key: text without one cannot hold a call, so skip the work.
    if len(body) > _MAX_REPAIR_CHARS or "name" not in body:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # literal_eval warns on odd literals like "1_a"
            return ast.literal_eval(body)
    except Exception:  # SyntaxError, ValueError, RecursionError, MemoryError...
        pass
    try:
        return json5.loads(body)
    except Exception:  # json5 raises assorted errors on garbage; any of them means "not JSON5"
        return None


def _calls_from_value(value: Any) -> list[ToolCall]:
    if isinstance(value, dict):
        if isinstance(value.get("tool_calls"), list):  # an OpenAI message pasted whole
            value = value["tool_calls"]
        else:
            call = _call_from_object(value)
            return [call] if call else []
    if isinstance(value, (list, tuple)):
        calls = [_call_from_object(item) for item in value]
        # A list is a call list only if every item is a call; otherwise it is data (e.g. numbers).
        if calls and all(calls):
            return calls  # type: ignore[return-value]
    return []


def _call_from_object(obj: Any) -> ToolCall | None:
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("function"), dict) and "name" not in obj:
        obj = obj["function"]
    name = obj.get("name")
    if not isinstance(name, str) or not name.strip():
        return None
    args = obj.get("arguments", obj.get("parameters", {}))
    if isinstance(args, str):
        args = _load_lenient(args) if args.strip() else {}
    if args is None:
        args = {}
    if not isinstance(args, dict):
        return None
    try:
        # Python-literal repair can yield tuples, int keys, sets or bytes: normalize to plain JSON
        # values (or reject), so equal arguments always compare equal downstream.
        args = json.loads(json.dumps(args, allow_nan=False))
    except (TypeError, ValueError):
        return None
    return ToolCall(name=name.strip(), arguments=args)
