"""Dataset rows in the shared RLVR record shape (verl's), read and written without losing fields.

A row is kept as the JSON object it came in (``Record.raw``); tooltune only reads through it, so
fields it does not know (``data_source``, ``ability``, ``extra_info``, anything else) survive a
read/write round trip unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..schema import Behavior, Tool, ToolSchemaError, infer_behavior, parse_tool_calls, tools_from_system_prompt

__all__ = ["row_tools", "Record", "DatasetError", "Problem", "iter_jsonl", "read_records", "write_jsonl", "make_record", "structural_problems"]

_ROLES = {"system", "user", "assistant", "tool", "developer"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one row: where (line, field) and how to fix it."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}" if self.line else f"{self.field}: {self.message}"  # line 0: the whole file


class DatasetError(ValueError):
    """A dataset that cannot be used as is; carries every problem found, not just the first."""

    def __init__(self, path: str | Path, problems: list[Problem]):
        self.path = str(path)
        self.problems = problems
        shown = "\n".join(f"  {p}" for p in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(
            f"{self.path}: {len(problems)} problem(s)\n{shown}{more}\n"
            f"Run `tooltune data validate {self.path}` for the full list."
        )


@dataclass
class Record:
    """One dataset row. ``raw`` is the row exactly as read; the properties are views into it."""

    raw: dict[str, Any]
    line: int = 0
    _tools: list[Tool] | None = field(default=None, repr=False, compare=False)

    @property
    def prompt(self) -> list[dict[str, Any]]:
        return self.raw.get("prompt") or []

    @property
    def system_prompt(self) -> str:
        return next((m.get("content", "") for m in self.prompt if m.get("role") == "system"), "")

    @property
    def user_prompt(self) -> str:
        """The last user message: the request the answer responds to."""
        return next((m.get("content", "") for m in reversed(self.prompt) if m.get("role") == "user"), "")

    @property
    def shape(self) -> str:
        """The row's shape, read from the row itself so hand-written files have one too:
        ``multi_turn`` (an earlier answer or tool result in the prompt), ``parallel`` (two or more
        calls), ``many_tools`` (six or more tools offered), ``nested`` (an object argument), ``single``."""
        if any(m.get("role") in ("assistant", "tool") for m in self.prompt):
            return "multi_turn"
        calls = parse_tool_calls(self.ground_truth) or []
        if len(calls) > 1:
            return "parallel"
        if len(self.tools) >= 6:
            return "many_tools"
        if any(isinstance(v, dict) or isinstance(v, list) and any(isinstance(x, dict) for x in v) for c in calls for v in c.arguments.values()):
            return "nested"
        return "single"

    @property
    def ground_truth(self) -> str:
        return (self.raw.get("reward_model") or {}).get("ground_truth", "")

    @property
    def tools(self) -> list[Tool]:
        """The row's own ``tools`` field when present, else the tools listed in its system prompt."""
        if self._tools is None:
            self._tools = row_tools(self.raw.get("tools"), self.prompt)
        return self._tools

    @property
    def behavior(self) -> Behavior:
        label = self.raw.get("behavior")
        if label in ("execute", "clarify", "refuse"):
            return label
        return infer_behavior(self.ground_truth)

    @property
    def id(self) -> Any:
        """A stable row id when the row carries one (``id`` or ``extra_info.id``/``index``), else None."""
        if "id" in self.raw:
            return self.raw["id"]
        extra = self.raw.get("extra_info")
        if isinstance(extra, dict):
            for key in ("id", "index"):
                if key in extra:
                    return extra[key]
        return None


def row_tools(raw_tools: Any, prompt: Any) -> list[Tool]:
    """A row's tools: its ``tools`` list (unusable entries skipped; validation reports them), else
    the tools its system prompt lists. ``prompt`` is a message list or a plain system-prompt string."""
    if isinstance(raw_tools, list):
        tools = []
        for item in raw_tools:
            try:
                tools.append(Tool.from_dict(item))
            except ToolSchemaError:
                continue
        return tools
    if isinstance(prompt, list):
        system = next((m.get("content", "") for m in prompt if isinstance(m, dict) and m.get("role") == "system"), "")
        return tools_from_system_prompt(system)
    return tools_from_system_prompt(prompt) if isinstance(prompt, str) else []


def make_record(
    system: str,
    user: str,
    ground_truth: str,
    behavior: Behavior,
    data_source: str = "tooltune",
    extra_info: dict[str, Any] | None = None,
) -> Record:
    """Build a row in the shared record shape (verl's field order)."""
    raw = {
        "prompt": [{"role": "system", "content": system}, {"role": "user", "content": user}],
        "reward_model": {"style": "rule", "ground_truth": ground_truth},
        "behavior": behavior,
        "data_source": data_source,
        "ability": "tool_calling",
        "extra_info": extra_info or {},
    }
    return Record(raw=raw)


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, Any, Problem | None]]:
    """Yield ``(line_number, object, problem)`` for each non-blank line; exactly one of the two is set.

    Line numbers are 1-based as an editor shows them. A line that is not JSON yields a Problem
    naming the column, so a reader can report it and keep going.
    """
    with open(path, "rb") as handle:  # bytes: a line that is not UTF-8 is one problem, not a crash
        for number, data in enumerate(handle, start=1):
            if number == 1 and data[:2] == b"\x1f\x8b":  # gzip's magic bytes: one clear problem, not a page of "not UTF-8"
                yield number, None, Problem(number, "<encoding>", "a gzip-compressed file; decompress it first (gunzip FILE)")
                return
            try:
                text = data.decode("utf-8-sig" if number == 1 else "utf-8")  # a byte-order mark from an editor is not data
            except UnicodeDecodeError as exc:
                yield number, None, Problem(number, "<encoding>", f"not UTF-8 text (byte 0x{data[exc.start]:02x} at column {exc.start + 1}); save the file as UTF-8")
                continue
            if not text.strip():
                continue
            try:
                yield number, json.loads(text), None
            except json.JSONDecodeError as exc:
                what = exc.msg.removesuffix(" at")  # Python's "Invalid control character at" would read "at at"
                if "\x00" in text:
                    what = "a NUL byte in the line"
                array = number == 1 and (text.strip() == "{" or text.lstrip().startswith("["))
                hint = "; this looks like a JSON array or a pretty-printed object: JSONL is one object per line" if array else ""
                yield number, None, Problem(number, "<json>", f"not valid JSON ({what} at column {exc.colno}); each line must be one JSON object{hint}")
            except RecursionError:
                yield number, None, Problem(number, "<json>", "nested too deeply to read; a row is a few levels of objects and lists")


def structural_problems(obj: Any, line: int) -> list[Problem]:
    """Problems that make a row unreadable: shape of ``prompt`` and ``reward_model``."""
    if not isinstance(obj, dict):
        return [Problem(line, "<row>", f"each line must be a JSON object, got {type(obj).__name__}")]
    problems: list[Problem] = []
    prompt = obj.get("prompt")
    if prompt is None:
        problems.append(Problem(line, "prompt", "missing; add a list of chat messages, e.g. [{\"role\": \"user\", \"content\": \"...\"}]"))
    elif not isinstance(prompt, list) or not prompt:
        problems.append(Problem(line, "prompt", "must be a non-empty list of {\"role\", \"content\"} messages"))
    else:
        for i, message in enumerate(prompt):
            where = f"prompt[{i}]"
            if not isinstance(message, dict):
                problems.append(Problem(line, where, "each message must be an object with 'role' and 'content'"))
                continue
            if message.get("role") not in _ROLES:
                problems.append(Problem(line, f"{where}.role", f"must be one of {sorted(_ROLES)}, got {message.get('role')!r}"))
            if not isinstance(message.get("content"), str):
                problems.append(Problem(line, f"{where}.content", "must be a string"))
        if not any(isinstance(m, dict) and m.get("role") == "user" for m in prompt):
            problems.append(Problem(line, "prompt", "has no user message; the last user message is the request to answer"))
    reward_model = obj.get("reward_model")
    if not isinstance(reward_model, dict):
        problems.append(Problem(line, "reward_model", "missing or not an object; add {\"ground_truth\": \"...\"}"))
    elif not isinstance(reward_model.get("ground_truth"), str):
        got = reward_model.get("ground_truth")
        hint = " (a list of calls must be JSON-encoded into a string)" if isinstance(got, (list, dict)) else ""
        problems.append(Problem(line, "reward_model.ground_truth", f"must be a string{hint}, got {type(got).__name__}"))
    return problems


def read_records(path: str | Path) -> list[Record]:
    """Read every row; raise :class:`DatasetError` listing each unreadable row (never skips silently)."""
    records: list[Record] = []
    problems: list[Problem] = []
    for number, obj, problem in iter_jsonl(path):
        if problem:
            problems.append(problem)
            continue
        found = structural_problems(obj, number)
        if found:
            problems.extend(found)
        else:
            records.append(Record(raw=obj, line=number))
    if problems:
        raise DatasetError(path, problems)
    return records


def write_jsonl(path: str | Path, rows: Iterable[Record | dict[str, Any]]) -> int:
    """Write rows one JSON object per line; returns how many were written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            raw = row.raw if isinstance(row, Record) else row
            handle.write(json.dumps(raw, ensure_ascii=False) + "\n")
            count += 1
    return count
