"""Grounded values: does each value a call carries come from the request?

A call is only as good as its values, and the failure behind most wrong calls and missed
clarifying questions is an *invented* value: a date the user never gave, a ticker for a company
they never named, an optional value nobody asked for. :func:`grounding` checks every argument
value of an answer's calls against the conversation's words (the user's and the tools' messages,
never the system prompt's schemas) after normalization, with the same readers that put values in
calls (:mod:`tooltune.reading`: "4 pm" is ``"16:00"``, "$120k" is ``120000``, "Shopify (SHOP)"
is ``"SHOP"``). It needs no reference answer, so it judges any answer to any request.

A value is *grounded* when the words state it: as written (case aside), through a reader of its
parameter's family, as an enum value whose words are said, as a number the words state, or as its
schema's default (stating a default the user implied is harmless). A free-text value is grounded
when every content word of it is said ("tell Sam I'm late" grounds ``"I'm late"``, not ``"I'm
running late for dinner"``). Booleans, and values of a form no reader knows, are *unchecked*:
neither grounded nor invented, so the check never calls a value invented that it cannot read.

Two faces over it: the ``grounded`` reward (:func:`score_grounded`) and the evaluation's
``invented_values`` metric (share of an answer's checked values that are invented).
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from ..reading import _bare_time, _currency, _iso, _list_in, _read_family, _said_words, _says, _valid, _values_in, _word_runs, currency_in, currency_param, read, read_number
from ..schema import EXPECTED_DECISION, Behavior, Tool, classify_response, parse_tool_calls
from .scoring import NAME_CREDIT, Score, score_strict

__all__ = ["Grounding", "grounding", "is_grounded", "score_grounded"]


@dataclass
class Grounding:
    """What :func:`grounding` found in an answer's calls: ``tool.param`` paths by verdict."""

    grounded: list[str] = field(default_factory=list)
    invented: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)  # values their schema refuses (a type, a pattern, an enum), parameters the tool lacks

    @property
    def invented_share(self) -> float | None:
        """Invented values over checked ones (None when the answer carries no value to check)."""
        checked = len(self.grounded) + len(self.invented)
        return len(self.invented) / checked if checked else None


def _verdicts(items: list[bool | None]) -> bool | None:
    """A list or object: invented if any part is, unchecked if every part is, else grounded."""
    if any(v is False for v in items):
        return False
    return None if all(v is None for v in items) else True


_CONTENT = re.compile(r"[^\W_]{3,}")
_FILLER = frozenset("the and for with from that this please can you could would about into".split())


def _verbatim(value: str, texts: tuple[str, ...]) -> bool:
    needle = re.escape(value.strip().casefold())
    return bool(needle) and any(re.search(rf"(?<!\w){needle}(?!\w)", t.casefold()) for t in texts)


@functools.lru_cache(maxsize=64)
def _said(texts: tuple[str, ...]) -> frozenset[str]:
    return frozenset(_said_words(list(texts)))


def _words_said(value: str, texts: tuple[str, ...]) -> bool:
    """Every content word of a free-text value is one the request says (in some form)."""
    words = [w.casefold() for w in _CONTENT.findall(value) if w.casefold() not in _FILLER]
    said = _said(texts)
    return bool(words) and all(_says(said, w) for w in words)


def _same_number(a: Any, b: Any) -> bool:
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    except (TypeError, ValueError):
        return False


_GLUED = re.compile(r"(?<=[a-z\d])(?:km|kg|px|cm|mm|mi|lbs?|ml|hrs?|mins?|ms|[kmgt]b|m|g|l|h|s)$")  # "forty-fivekm", "2.4kkm"


@functools.lru_cache(maxsize=64)
def _stated_numbers(texts: tuple[str, ...]) -> frozenset[float]:
    """Every number the words state (:func:`tooltune.reading.read_number`: "1,250", "3.4 million",
    "forty-five", the number of "300px" or "forty-fivekm"), without its sign (said as "minus" or "below zero" as often as "-"); not the
    parts of a decimal ("4" and "5" of "4.5")."""
    found = set()
    for text in texts:
        for a, b in _word_runs(text):
            inside = (a >= 2 and text[a - 1] in ".," and text[a - 2].isdigit()) or (b + 1 < len(text) and text[b] in ".," and text[b + 1].isdigit())
            run = text[a:b]
            if not inside and (value := read_number(run) or read_number(_GLUED.sub("", run))) is not None and math.isfinite(value):
                found.add(abs(float(value)))
        found |= {float(m) for m in re.findall(r"(?<![\w.])(\d+(?:\.\d+)?)(?=[^\W\d_])", text)}  # "300px", "45km"
    return frozenset(found)


def _either(span: str, family: str) -> tuple[str, ...]:
    """What words that reading leaves open may state: "ten past eleven" is 11:10 or 23:10, "6/11/2027"
    June 11th or 6 November. Reading puts neither in a call; a call that writes either invents nothing."""
    if family == "time":
        return _bare_time(span) or ()
    numeric = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", span.strip()) if family == "date" else None
    if numeric:
        first, second, year = map(int, numeric.groups())
        return tuple(v for v in (_iso(year, first, second), _iso(year, second, first)) if v)
    return ()


def is_grounded(value: Any, param: str, schema: Any, properties: dict[str, Any], texts: tuple[str, ...]) -> bool | None:
    """True when ``texts`` state ``value`` for ``param`` (whose ``schema`` is one of ``properties``),
    False when they do not (invented), None when the check cannot tell (a boolean, a form no reader knows)."""
    schema = schema if isinstance(schema, dict) else {}
    if value is None or isinstance(value, bool):
        return None
    if "default" in schema and value == schema["default"]:
        return True
    if isinstance(value, dict):
        inner = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        return _verdicts([is_grounded(v, k, inner.get(k), inner, texts) for k, v in value.items()])
    if isinstance(value, list):
        if value and _list_in(texts, json.dumps(schema, sort_keys=True)) == json.dumps(value):
            return True  # "weekdays" for the five of them
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        return _verdicts([is_grounded(v, param, items, properties, texts) for v in value]) if value else None
    if isinstance(value, str):
        if _verbatim(value, texts):
            return True
        if currency_param(param, schema):
            return value in (currency_in(list(texts)), *(_currency(w) for t in texts for w in re.findall(r"[^\W\d]+|[$€£]", t)))
        enum = schema.get("enum")
        if isinstance(enum, list) and value in enum:
            return _words_said(value.replace("_", " ").replace("-", " "), texts) or None  # an enum said in other words: unchecked
        family = _read_family(param, schema, properties)
        if family not in (None, "text", "list"):
            spans = _values_in(texts, family)
            return any(v == value or (v is None and value in _either(s, family)) for s, v in spans.items())
        if family == "text":
            return _words_said(value, texts)
        return None  # a format or pattern no reader knows (an id, a URL): unchecked unless verbatim
    if isinstance(value, (int, float)):
        family = _read_family(param, schema, properties)
        if family not in (None, "text", "list") and any(_same_number(v, value) for v in _values_in(texts, family).values() if not isinstance(v, bool)):
            return True
        return any(_same_number(n, abs(value)) for n in _stated_numbers(texts))
    return None


def grounding(response: str, tools: list[Tool], texts: list[str]) -> Grounding:
    """Each argument value of ``response``'s calls, by verdict (paths ``tool.param``; a call to a
    tool that is not offered is skipped: the scorers already give it nothing)."""
    found = Grounding()
    by_name = {t.name: t for t in tools}
    sources = tuple(t for t in texts if isinstance(t, str))
    for call in parse_tool_calls(response) or []:
        tool = by_name.get(call.name)
        if tool is None:
            continue
        properties = tool.properties if isinstance(tool.properties, dict) else {}
        for param, value in call.arguments.items():
            path = f"{tool.name}.{param}"
            schema = properties.get(param)
            if param not in properties or (isinstance(schema, dict) and not _valid(value, schema, tool.parameters)):
                found.invalid.append(path)
                continue
            verdict = is_grounded(value, param, schema, properties, sources)
            (found.grounded if verdict else found.unchecked if verdict is None else found.invented).append(path)
    return found


def score_grounded(response: str, tools: list[Tool], texts: list[str], behavior: Behavior, ground_truth: str | None = None, missing: list[str] | None = None) -> Score:
    """The ``grounded`` reward: a call's values judged by the request, not by a reference answer.

    Execute rows: each call to an offered tool earns 0.25 for the tool plus 0.75 x the share of its
    values that are right by the request: every required parameter present, and each value valid
    for its schema and not invented (unchecked values count as right); a call to a tool not offered
    earns 0; the row is the calls' mean. Clarify and refuse rows, and a wrong decision on any row,
    score as the strict reward does (``ground_truth`` names the question's target when given).
    """
    decision = classify_response(response)
    if behavior != "execute" or decision != EXPECTED_DECISION[behavior]:
        if ground_truth is not None:
            return score_strict(response, ground_truth, tools, behavior, missing)
        return Score(float(decision == EXPECTED_DECISION[behavior]), behavior, decision, None if decision == EXPECTED_DECISION[behavior] else "wrong_decision")
    calls = parse_tool_calls(response)
    if not calls:
        return Score(0.0, behavior, decision, "malformed_call")
    found = grounding(response, tools, texts)
    by_name = {t.name: t for t in tools}
    total, failure = 0.0, None
    for call in calls:
        tool = by_name.get(call.name)
        if tool is None:
            failure = failure or "wrong_tool"
            continue
        paths = [f"{tool.name}.{p}" for p in call.arguments]
        bad = sum(p in found.invented or p in found.invalid for p in paths) + sum(r not in call.arguments for r in tool.required)
        slots = len(paths) + sum(r not in call.arguments for r in tool.required)
        total += NAME_CREDIT + (1 - NAME_CREDIT) * ((slots - bad) / slots if slots else 1.0)
        if bad:
            failure = failure or ("invented_value" if any(p in found.invented for p in paths) else "invalid_or_missing_value")
    return Score(round(total / len(calls), 6), behavior, decision, failure)
