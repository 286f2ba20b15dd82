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

Two faces over it: the ``grounded`` reward (:func:`score_grounded`: the strict reward, and
nothing for a call that rests on an invented value) and the evaluation's ``invented_values``
metric (the share of an answer's checked values that are invented).
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from ..data.records import Record
from ..data.surface import unit_of
from ..reading import _CURRENCY_NAMES, _MONTHS, _SCALES, _bare_time, _currency, _iso, _list_in, _number, _read_family, _said_words, _says, _valid, _values_in, _word_runs, quote_sources, read_number
from ..schema import Behavior, Tool, parse_tool_calls
from .arguments import EXACT, _equal, compare_value
from .scoring import Score, score_strict

__all__ = ["Grounding", "grounding", "is_grounded", "score_grounded", "still_grounded"]


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


def _words_said(value: str, texts: tuple[str, ...]) -> bool | None:
    """True when every content word of a free-text value is one the request says (in some form),
    None when some are (a subject line or a note may sum the request up in other words), False
    when none is."""
    words = [w.casefold() for w in _CONTENT.findall(value) if w.casefold() not in _FILLER]
    said = _said(texts)
    hits = sum(_says(said, w) for w in words)
    return None if not words else True if hits == len(words) else None if hits else False


_GLUED = re.compile(r"(?<=[a-z\d])(?:km|kg|px|cm|mm|mi|lbs?|ml|hrs?|mins?|ms|[kmgt]b|m|g|l|h|s)$")  # "forty-fivekm", "2.4kkm"


_CLOCK = re.compile(r"(?<![\d.])\d{1,2}(?::\d{2}(?::\d{2})?|\.\d{2}(?=\s*[ap]\.?m\b))", re.IGNORECASE)  # "4:20", "07:15:00", "4.15pm"
_NUMERIC_DATE = re.compile(r"(?<!\d)(?:(?P<year>\d{4})-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/(?P<year_last>\d{4}))(?!\d)")


def _keep_year(date: re.Match[str]) -> str:
    """A numeric date blanked out but for its year, in place."""
    year = date["year"] or date["year_last"]
    at = date[0].index(year)
    return " " * at + year + " " * (len(date[0]) - at - len(year))


@functools.lru_cache(maxsize=64)
def _stated_numbers(texts: tuple[str, ...]) -> frozenset[float]:
    """Every number the words state (:func:`tooltune.reading.read_number`: "1,250", "3.4 million",
    "forty-five", the number of "300px" or "forty-fivekm"), without its sign (said as "minus" or "below zero" as often as "-"); not the
    parts of a decimal ("4" and "5" of "4.5"), nor the hour and minute of a clock time or the month
    and day of a numeric date ("4" of "4:20 pm" states no count of four; the year stays)."""
    found = set()
    for text in texts:
        text = _CLOCK.sub(lambda m: " " * len(m[0]), text)
        text = _NUMERIC_DATE.sub(_keep_year, text)
        for a, b in _word_runs(text):
            inside = (a >= 2 and text[a - 1] in ".," and text[a - 2].isdigit()) or (b + 1 < len(text) and text[b] in ".," and text[b + 1].isdigit())
            run = text[a:b]
            if run.lower() in ("a", "an"):
                continue  # "a" reads as one only before a hundred or a thousand
            bare = _GLUED.sub("", run)  # "forty-fivekm"; not "a" of "am"
            if not inside and (value := read_number(run) if bare == run or bare.lower() in ("a", "an") else read_number(run) or read_number(bare)) is not None and math.isfinite(value):
                found.add(abs(float(value)))
        found |= {abs(float(n)) * 12 for m in re.finditer(r"(\S+)\s+dozen\b", text) if (n := read_number(m[1])) is not None}  # "2 dozen"
        for m in re.finditer(r"(\d+(?:\.\d+)?)\s*(?:-|–|to|and)\s*[$€£]?\d+(?:\.\d+)?\s*(k|m|grand|thousand|million)\b", text, re.IGNORECASE):
            found.add(float(m[1]) * _SCALES[m[2].lower()])  # "between 350 and 475k": both in thousands
        found |= {float(m) for m in re.findall(r"(?<![\w.])(\d+(?:\.\d+)?)(?!(?:k|m|bn)\b)(?=[^\W\d_])", text)}  # "300px", "45km"; not "70k"
    return frozenset(found)


@functools.lru_cache(maxsize=64)
def _digit_groups(texts: tuple[str, ...]) -> frozenset[str]:
    """The digits of every run of digit groups the words write ("21000 04837 7721", "978-0-14-143951-8")."""
    return frozenset(re.sub(r"\D", "", m) for t in texts for m in re.findall(r"\d[\d -]*\d", t))


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


# Currency names people use beside the signs and names reading knows (reading._CURRENCY_NAMES): a
# code is grounded by any of them, as nothing but a currency code is being checked here.
_MORE_CURRENCIES = {"franc": "CHF", "francs": "CHF", "canadian": "CAD", "australian": "AUD", "yuan": "CNY", "renminbi": "CNY", "rmb": "CNY",
                    "rupee": "INR", "rupees": "INR", "peso": "MXN", "pesos": "MXN", "krona": "SEK", "kronor": "SEK", "zloty": "PLN", "rand": "ZAR",
                    "reais": "BRL", "won": "KRW", "sterling": "GBP"}


@functools.lru_cache(maxsize=64)
def _currencies_said(texts: tuple[str, ...]) -> frozenset[str]:
    """Every currency the words name: a code ("CAD"), a sign ("$", "€", "C$") or a name ("quid", "francs")."""
    found = set()
    for text in texts:
        lowered = text.lower()
        found |= {code for name, code in _CURRENCY_NAMES.items() if (name in lowered if not name[-1].isalpha() else re.search(rf"(?<!\w){re.escape(name)}(?!\w)", lowered))}
        found |= {code for name, code in _MORE_CURRENCIES.items() if re.search(rf"(?<!\w){name}(?!\w)", lowered)}
        found |= {w.upper() for w in re.findall(r"[a-z]{3}", lowered) if _currency(w)}
    return frozenset(found)


_SCAN = 8_000  # characters of each message the readers scan

_NOT_CODES = frozenset({"OK", "AM", "PM", "TV", "ID", "USA", "UK", "EU", "ASAP", "FYI", "PLS", "PLZ", "THX", "BTW"})


def _codes_said(texts: tuple[str, ...]) -> bool:
    """Whether the words give any code themselves (a ticker, an airport, "en-US"): then a code they
    do not give is one the call made up, not one it knew."""
    return any(w not in _NOT_CODES for t in texts for w in re.findall(r"(?<![\w-])(?:[A-Z]{2,5}|[a-z]{2}-[A-Z]{2})(?![\w-])", t))


_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_ORDINAL = r"(\d{1,2})(?:st|nd|rd|th)?"
_TO = r"(?:-|–|to|until|till|through|thru)"


@functools.lru_cache(maxsize=64)
def _partial_dates(texts: tuple[str, ...]) -> tuple[frozenset[tuple[int, int]], frozenset[int], frozenset[int], frozenset[int]]:
    """The dates said without every part: month-and-day ("Nov 2nd", "the 20th of June"), days
    alone ("out on the 12th"), the months and the years the words name."""
    month_days, days, months, years = set(), set(), set(), set()
    for text in texts:
        lowered = text.lower()
        for m in re.finditer(rf"\b{_MONTH}\s+(?:the\s+)?{_ORDINAL}\b", lowered):
            month_days.add((_MONTHS[m[1]], int(m[2])))
        for m in re.finditer(rf"\b{_ORDINAL}\s+(?:of\s+)?{_MONTH}", lowered):
            month_days.add((_MONTHS[m[2]], int(m[1])))
        days |= {int(d) for d in re.findall(r"\bthe\s+(\d{1,2})(?:st|nd|rd|th)\b", lowered)}
        # a range of days in one month: "from 1 to 31 July 2026", "Dec 20 to 27 2025", "3-6 April"
        for m in re.finditer(rf"\b{_ORDINAL}\s*{_TO}\s*{_ORDINAL}\s+(?:of\s+)?{_MONTH}", lowered):
            month_days |= {(_MONTHS[m[3]], int(m[1])), (_MONTHS[m[3]], int(m[2]))}
        for m in re.finditer(rf"\b{_MONTH}\s+{_ORDINAL}\s*{_TO}\s*{_ORDINAL}\b", lowered):
            month_days |= {(_MONTHS[m[1]], int(m[2])), (_MONTHS[m[1]], int(m[3]))}
        months |= {_MONTHS[m] for m in re.findall(rf"\b{_MONTH}", lowered)}
        years |= {int(y) for y in re.findall(r"(?<!\d)((?:19|20)\d{2})(?!\d)", lowered)}
    return frozenset(month_days), frozenset(days), frozenset(months), frozenset(years)


def _stated(value: str, family: str, texts: tuple[str, ...]) -> bool:
    """Whether the words state a date or a time: as read where it stands (:func:`tooltune.reading.values_in`),
    as one of the two readings words leave open, or (a date) by its day and month with the year said
    elsewhere ("April 9th 2027 and out on the 12th", "Nov 2nd to Nov 5th 2027")."""
    if any(v == value or (v is None and value in _either(s, family)) for s, v in _values_in(texts, family).items()):
        return True
    machine = {"date": rf"(?<![\d-]){re.escape(value)}(?![\d-])", "time": rf"(?<=T){re.escape(value)}(?=[:Z+-]|$)"}[family]
    if any(re.search(machine, t) for t in texts):
        return True  # as a program writes it, inside a date-time ("2026-03-11T14:02:00Z" in a tool's result)
    if family != "date" or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    year, month, day = map(int, value.split("-"))
    month_days, days, months, years = _partial_dates(texts)
    return year in years and ((month, day) in month_days or (day in days and month in months))


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
        if "description" not in items and "description" in schema:
            items = {**items, "description": schema["description"]}  # "times": ["08:00"] is read as its list's description says
        return _verdicts([is_grounded(v, param, items, properties, texts) for v in value]) if value else None
    if isinstance(value, str):
        if _verbatim(value, texts):
            return True
        if re.fullmatch(r"[\d\s-]{6,}", value) and re.sub(r"\D", "", value) in _digit_groups(texts):
            return True  # a card, phone or ISBN number with its spaces or hyphens moved
        if re.fullmatch(r"[A-Z]{3}", value) and "currency" in f"{param} {schema.get('description', '')}".lower():
            return value in _currencies_said(texts)  # "$1.2k" is USD, "Swiss francs" CHF
        enum = schema.get("enum")
        if isinstance(enum, list) and value in enum:
            return _words_said(value.replace("_", " ").replace("-", " "), texts) or None  # an enum said in other words: unchecked
        moment = re.fullmatch(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(?::00(?:\.0+)?)?(?:Z|[+-]\d{2}:?\d{2})?", value)
        if moment:  # a date-time: its date and its time, each said somewhere
            return _verdicts([_stated(moment[1], "date", texts), _stated(moment[2], "time", texts)])
        family = _read_family(param, schema, properties)
        if family in ("date", "time"):
            return _stated(value, family, texts)
        coded = re.fullmatch(r"[A-Z]{2,5}", value) or (re.fullmatch(r"[a-z]{2,3}(?:[-_][A-Za-z]{2,4})?", value) and re.search(r"code|language|locale|lang\b", f"{param} {schema.get('description', '')}", re.IGNORECASE))
        if coded and not _codes_said(texts):
            return None  # a code for something named in words ("Brazilian Portuguese" -> "pt-BR", "Shopify" -> "SHOP"): knowledge, not a value said
        if family not in (None, "text", "list"):
            return any(v == value for v in _values_in(texts, family).values())
        if family == "text":
            return _words_said(value, texts)  # every content word said; some said: unchecked (a summary in its own words)
        if schema.get("format") in ("email", "idn-email", "uri", "url", "hostname") or re.fullmatch(r"[^@\s]+@[^@\s]+\.\w+|https?://\S+", value):
            return False  # an address is copied or it is made up: no words state one in another form
        return None  # a format or pattern no reader knows (an id): unchecked unless verbatim
    if isinstance(value, (int, float)):
        family = _read_family(param, schema, properties)
        if family not in (None, "text", "list") and any(_equal(v, value) for v in _values_in(texts, family).values() if not isinstance(v, bool)):
            return True
        return any(_equal(n, abs(value)) for n in _stated_numbers(texts))
    return None


def grounding(response: str, tools: list[Tool], texts: list[str]) -> Grounding:
    """Each argument value of ``response``'s calls, by verdict (paths ``tool.param``; a call to a
    tool that is not offered is skipped: the scorers already give it nothing)."""
    found = Grounding()
    by_name = {t.name: t for t in tools}
    whole = tuple(t for t in texts if isinstance(t, str))
    # Readers scan the first _SCAN characters of a message (a file's or a page's contents can run to
    # megabytes: ~0.2 s a KB here); a value copied as written is found anywhere.
    sources = tuple(t if len(t) <= _SCAN else type(t)(t[:_SCAN]) for t in whole)
    for call in parse_tool_calls(response) or []:
        tool = by_name.get(call.name)
        if tool is None:
            continue
        properties = tool.properties if isinstance(tool.properties, dict) else {}
        # Numbers the words state that none of the call's values holds: one may be what a value in
        # another unit was converted from ("68 degrees fahrenheit" for temperature_c 20).
        leftover = _stated_numbers(sources) - _numbers_of(call.arguments)
        for param, value in call.arguments.items():
            path = f"{tool.name}.{param}"
            schema = properties.get(param)
            if param not in properties or (isinstance(schema, dict) and not _valid(value, schema, tool.parameters)):
                found.invalid.append(path)
                continue
            verdict = True if sources != whole and isinstance(value, str) and _verbatim(value, whole) else is_grounded(value, param, schema, properties, sources)
            if verdict is False and _number(value) and ((leftover and _has_unit(param, schema if isinstance(schema, dict) else {}, properties)) or value in (0, 1)):
                verdict = None  # a conversion reading does not know ("5 minute TTL" for ttl_seconds 300); one or none, said as "just me" or "free"
            (found.grounded if verdict else found.unchecked if verdict is None else found.invented).append(path)
    return found


def _numbers_of(value: Any) -> frozenset[float]:
    """The numbers a call's values hold: numbers, and the digits inside strings ("2027-04-12", "BLT-118")."""
    if _number(value):
        return frozenset({abs(float(value))})
    if isinstance(value, str):
        return frozenset(float(n) for n in re.findall(r"\d+(?:\.\d+)?", value))
    parts = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return frozenset().union(*map(_numbers_of, parts)) if parts else frozenset()


_UNIT_SUFFIX = re.compile(r"(?:^|_)(?:c|f|celsius|fahrenheit|k|s|sec|secs|seconds|ms|min|mins|minutes|h|hrs|hours|days|weeks|mm|cm|m|km|mi|miles|g|kg|lb|lbs|mg|mcg|ug|ml|l|mm|um|nm|pct|percent|bps|cents)$", re.IGNORECASE)


def _has_unit(param: str, schema: dict[str, Any], properties: dict[str, Any]) -> bool:
    """Whether a number parameter is in a unit people may say in another (its name, description or
    family says one). Not money: reading reads every form of an amount, and a call converts no currency."""
    family = _read_family(param, schema, properties) or ""
    return bool(_UNIT_SUFFIX.search(param) or unit_of(param, str(schema.get("description", ""))) or family in ("minutes", "days") or family.startswith("unit:"))


def score_grounded(response: str, ground_truth: str, tools: list[Tool], texts: list[str], behavior: Behavior | None = None, missing: list[str] | None = None) -> Score:
    """The ``grounded`` reward: the strict reward, except that a call carrying a value the
    conversation never states, or one its schema refuses, earns nothing.

    The strict reward pays a call for its tool's name and for each right value, so a guessed call
    still beats a question (0.25 for the name alone): in a GRPO group that pushes the model to call
    where it should ask, and to add optional values nobody gave. Here a call that rests on a guess
    is worth what a wrong decision is (0), while a right call, a question and a refusal score as
    strict scores them (``missing`` names the parameters a clarify row leaves out). A value equal
    to the reference's is never held against the call, whatever the check reads.
    """
    strict = score_strict(response, ground_truth, tools, behavior, missing)
    if strict.behavior != "execute" or strict.decision != "call" or strict.value == 0:
        return strict
    found = grounding(response, tools, texts)
    # A value the reference call holds too is right whatever the check reads: the check may miss
    # a form people write ("ten to six in the evening"), and a right value must never cost the call.
    expected = {(c.name, k): v for c in parse_tool_calls(ground_truth) or [] for k, v in c.arguments.items()}
    answered = {(c.name, k): v for c in parse_tool_calls(response) or [] for k, v in c.arguments.items()}
    wrong = [p for p in found.invented + found.invalid if not _same_as_reference(p, answered, expected)]
    if wrong:
        return Score(0.0, strict.behavior, strict.decision, "invented_value" if any(p in found.invented for p in wrong) else "invalid_value")
    return strict


def _same_as_reference(path: str, answered: dict[tuple[str, str], Any], expected: dict[tuple[str, str], Any]) -> bool:
    key = tuple(path.split(".", 1))
    return key in expected and key in answered and compare_value(expected[key], answered[key]) == EXACT


def still_grounded(record: Record, rewrite: str) -> bool:
    """Whether ``rewrite`` of a row's last user message still states every value its reference call
    carries that the original states (a teacher's rewording must not drop "4 pm" or make it "5 pm")."""
    calls = parse_tool_calls(record.ground_truth)
    if record.behavior != "execute" or not calls:
        return True
    before = grounding(record.ground_truth, record.tools, quote_sources(record.prompt))
    prompt = [*record.prompt[:-1], {**record.prompt[-1], "content": rewrite}] if record.prompt and record.prompt[-1].get("role") == "user" else record.prompt
    after = grounding(record.ground_truth, record.tools, quote_sources(prompt))
    return not set(before.grounded) - set(after.grounded)
