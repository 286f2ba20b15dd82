"""Values read by code: "7:15 pm" becomes ``"19:15"`` by arithmetic, not by the model's guess.

The model's ``<think>`` check quotes the request's words for a value and then writes the form the
call needs (``arrival_time = "7:15 pm" -> "19:15"``). A 135M model copies the words well and does
the arithmetic badly ("7:15 pm" -> "17:15", "noon" -> "11:00", "three hours" -> 30), so the step
that is arithmetic is done here: :func:`read_values` reads each quoted span back with the inverse
of the generator's surface forms (:mod:`tooltune.data.surface`) and puts the value in the call
where it differs. A call value that is not in its schema's form ("4 pm" where the description asks
for HH:MM, "Rio Tinto, RIO" for a ticker) is read the same way. The model still picks the tool, the slot and the span; what it
cannot do reliably, the code does. A reading that could mean two things ("5/6/2027", "seven
o'clock") is no reading: the model's value stands. An optional value the check marks ``missing``
(``days = missing``), or never names, and the call still carries is one the model invented: it is
left out (training's check names every value its call carries). And the
call follows its check, as training wrote it from the check: a free-text or enum value the check
states and the call misspells ("MmoMA" for "MoMA"), swaps or leaves out is taken from the check.

Written by hand, not with ``dateparser`` or ``word2number``: it reads the forms the generator
writes (each family round-trips in tests/test_reading.py), a few more that people type and nothing
else could mean ("quarter to nine pm", "2 hrs", "75 CAD", "weekdays" for a list of week days,
"three months" of days), and never guesses from the clock ("next Friday") or from a locale.

Evaluation and serving apply it to generated answers (``read_values: false`` turns it off, and
``tooltune eval`` also reports the scores without it); training rewards score the model's own
values, so RLVR still pays the model for reading right.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from .data import surface
from .data.catalog import name_words
from .data.surface import family_of
from .data.validate import schema_validator
from .schema import Tool, split_reasoning

__all__ = ["read", "read_number", "read_values", "values_in", "currency_in", "currency_param", "number_after_name", "name_before_noun", "named_optional", "numbers_in", "param_family", "quote_sources", "Reading", "SPANNED", "ToolResult"]

# The renderer's own word tables: what it writes is what this reads.
_ONES = {w: i for i, w in enumerate(surface._ONES)}
_TENS = {w: 10 * i for i, w in enumerate(surface._TENS) if w != "_"}
_SCALES = {"thousand": 1_000, "k": 1_000, "grand": 1_000, "million": 1_000_000, "mil": 1_000_000, "m": 1_000_000, "billion": 1_000_000_000, "bn": 1_000_000_000}
_MONTHS = {m.lower(): i + 1 for i, m in enumerate(surface._MONTHS)}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_WEEKDAYS = {d.lower(): i for i, d in enumerate(surface._WEEKDAYS)}
_WEEKDAYS.update({d[:3]: i for d, i in list(_WEEKDAYS.items())})
_WEEKDAYS.update({"tues": 1, "weds": 2, "thur": 3, "thurs": 3})


def _words(text: str) -> int | None:
    """A whole number in words: "forty-five", "one hundred twenty", "twelve thousand"; None otherwise."""
    tokens = [t for t in re.split(r"[\s-]+", text.strip().lower()) if t and t != "and"]
    if not tokens:
        return None
    if tokens[0] in ("a", "an"):
        if len(tokens) > 1 and tokens[1] not in ("hundred", "thousand", "million", "billion"):
            return None  # "a three" (of "for a three months' supply") is no number; "a hundred" is
        tokens[0] = "one"
    total = current = 0
    for token in tokens:
        if token in _ONES:
            current += _ONES[token]
        elif token in _TENS:
            current += _TENS[token]
        elif token == "hundred":
            current = (current or 1) * 100
        elif token in ("thousand", "million", "billion"):
            total += (current or 1) * _SCALES[token]
            current = 0
        else:
            return None
    return total + current


def read_number(text: str) -> int | float | None:
    """A number as people write it: "1,250", "2.5k", "3.4 million", "3.5 grand", "forty-five", "two and a half",
    "a dozen"; an int when it is whole. None for anything else."""
    text = text.strip().lower()
    sign = re.match(r"(?:-|minus\s+|negative\s+)(?=\S)", text)
    if sign:
        if re.match(r"(?:-|minus\s+|negative\s+)", text[sign.end():]):
            return None  # "--5", "minus minus 5": no number people write (and no recursion to exhaust)
        value = read_number(text[sign.end():])
        return None if value is None else -value
    if text in ("a dozen", "dozen", "one dozen"):
        return 12
    if text == "half a dozen":
        return 6
    scaled_half = re.fullmatch(r"(?:(.+?)\s+and\s+)?a\s+half\s+(thousand|million|billion|grand)|half\s+a\s+(thousand|million|billion|grand)", text)
    if scaled_half:  # "four and a half grand", "half a million"
        whole = read_number(scaled_half[1]) if scaled_half[1] else 0
        return None if whole is None else _tidy((whole + 0.5) * _SCALES[scaled_half[2] or scaled_half[3]])
    half = re.fullmatch(r"(.+?)\s+and\s+a\s+half", text)
    if half:
        whole = read_number(half[1])
        return None if whole is None else whole + 0.5
    digits = re.fullmatch(r"(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*(k|m|bn|thousand|million|mil|billion|grand)?", text)
    if digits:
        number = float(digits[1].replace(",", "") + (digits[2] or "")) * _SCALES.get(digits[3] or "", 1)
        return _tidy(number) if math.isfinite(number) else None  # 400 digits is no amount
    scaled = re.fullmatch(r"(.+?)\s+(thousand|million|billion|grand)", text)
    if scaled and (inner := _words(scaled[1])) is not None:
        return inner * _SCALES[scaled[2]]
    return _words(text)


def _tidy(number: float) -> int | float:
    number = round(number, 9)
    return int(number) if float(number).is_integer() else number


# -- one reader per family: the inverse of data/surface.py's forms ------------------------------------
# Holidays on a fixed day, said with their year ("christmas eve 2026", "New Year's Day 2027").
_HOLIDAYS = {"christmas eve": (12, 24), "christmas day": (12, 25), "christmas": (12, 25), "new year's eve": (12, 31),
             "new year's day": (1, 1), "halloween": (10, 31), "valentine's day": (2, 14)}
_HOLIDAY = re.compile(r"(?:the\s+)?(" + "|".join(map(re.escape, _HOLIDAYS)) + r")(?:\s+of)?,?\s+(\d{4})")


def _date(text: str) -> str | None:
    text = text.strip().lower().rstrip(".").replace("\u2019", "'")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return _iso(int(text[:4]), int(text[5:7]), int(text[8:]))
    holiday = _HOLIDAY.fullmatch(text)
    if holiday:
        return _iso(int(holiday[2]), *_HOLIDAYS[holiday[1]])
    numeric = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if numeric:
        month, day, year = int(numeric[1]), int(numeric[2]), int(numeric[3])
        if day <= 12 and month != day:
            return None  # 5/6/2027: May 6th in the US, 5 June elsewhere
        return _iso(year, month, day)
    words = re.findall(r"[a-z]+|\d+", text)
    weekday = next((_WEEKDAYS[w] for w in words if w in _WEEKDAYS), None)
    months = [_MONTHS[w] for w in words if w in _MONTHS]
    numbers = [int(w) for w in words if w.isdigit()]
    years = [n for n in numbers if n >= 1000]
    days = [n for n in numbers if n < 1000]
    leftovers = [w for w in words if not (w.isdigit() or w in _MONTHS or w in _WEEKDAYS or w in ("st", "nd", "rd", "th", "the", "of"))]
    if len(months) != 1 or len(years) != 1 or len(days) != 1 or leftovers:
        return None
    value = _iso(years[0], months[0], days[0])
    if value and weekday is not None and dt.date.fromisoformat(value).weekday() != weekday:
        return None  # "Monday, March 3, 2027" is a Wednesday: one of the two is wrong
    return value


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


_PART_OF_DAY = {"in the morning": "am", "in the afternoon": "pm", "in the evening": "pm", "at night": "pm", "tonight": "pm"}


def _time(text: str) -> str | None:
    text = " ".join(text.strip().lower().split())
    if text in ("noon", "midday", "12 noon"):
        return "12:00"
    if text == "midnight":
        return "00:00"
    half = None
    for words, marker in _PART_OF_DAY.items():
        if text.endswith(" " + words):
            text, half = text[: -len(words) - 1].strip(), marker
            break
    marked = re.fullmatch(r"([a-z' -]*[a-z'](?: \d{1,2})?)\s+([ap])\.?\s*m\.?", text)  # "quarter to nine pm", "half past 4 pm": words, then am/pm
    if marked and not half:
        if marked[1].startswith("quarter to twelve"):
            return None  # 11:45 or 23:45: "twelve pm" is noon, so which is meant is unclear
        text, half = marked[1], marked[2] + "m"
    ampm = re.fullmatch(r"(\d{1,2})(?:[:.](\d{2}))?\s*([ap])\.?\s*m\.?", text)  # "4:15 pm", "4.15pm"
    if ampm:
        if half and half != ampm[3] + "m":
            return None  # "7 am in the evening"
        return _clock(int(ampm[1]), int(ampm[2] or 0), ampm[3] + "m")
    h_notation = re.fullmatch(r"(\d{1,2})h(\d{2})?", text)  # "18h30", "19h"; "1h" alone is a length of time
    if h_notation and not half and (h_notation[2] or 13 <= int(h_notation[1]) <= 23):
        return _clock(int(h_notation[1]), int(h_notation[2] or 0), None)
    digits = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if digits:
        hour, minute = int(digits[1]), int(digits[2])
        return _clock(hour, minute, half)  # no marker: 24-hour notation, "7:00" is 07:00
    if half and re.fullmatch(r"\d{1,2}", text):
        return _clock(int(text), 0, half)  # "9 in the morning"
    # One word for the hour ("one-ten" is no hour); minutes before it in words: "half past seven",
    # "quarter to nine", "ten past eleven", "twenty-five to six".
    spoken = re.fullmatch(r"(?:(half|quarter|[a-z]+(?:[ -][a-z]+)?)(?: minutes?)? (past|after|to) )?([a-z]+|\d{1,2})(?: o'clock)?", text)
    hour = (_ONES.get(spoken[3]) or (int(spoken[3]) if spoken[3].isdigit() and spoken[1] else None)) if spoken else None  # "half past 4"; a bare "4" is read above
    if spoken and half and hour is not None and 1 <= hour <= 12:
        if spoken[1] is None:
            return _clock(hour, 0, half)
        if spoken[2] == "to":
            if spoken[1] != "quarter":
                return None  # "ten to eleven am" is 10:50 or a range from ten to eleven
            return _clock(hour - 1 or 12, 45, half)
        minute = {"half": 30, "quarter": 15}.get(spoken[1]) or _words(spoken[1])
        return _clock(hour, minute, half) if minute and 0 < minute < 60 else None
    return None


def _clock(hour: int, minute: int, half: str | None) -> str | None:
    if half is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    return f"{hour:02d}:{minute:02d}" if 0 <= hour < 24 and 0 <= minute < 60 else None


def _minutes(text: str) -> int | None:
    text = " ".join(text.strip().lower().split())
    if text == "half an hour":
        return 30
    quarters = re.fullmatch(r"(a|one|three) quarters? of an hour", text)
    if quarters:  # "a quarter of an hour", "three quarters of an hour"
        return 45 if quarters[1] == "three" else 15
    hm = re.fullmatch(r"(\d{1,2})h(\d{2})?", text)
    if hm:
        return int(hm[1]) * 60 + int(hm[2] or 0)
    hours = re.fullmatch(r"(.+?)\s*(?:hours?|hrs?)( and a half)?", text)
    if hours:
        count = read_number(hours[1])
        return _whole(None if count is None else (count + (0.5 if hours[2] else 0)) * 60)
    minutes = re.fullmatch(r"(.+?)\s*(?:minutes?|mins?)", text)
    return _whole(read_number(minutes[1] if minutes else text))


def _days(text: str) -> int | None:
    text = " ".join(text.strip().lower().split())
    if text in ("a fortnight", "fortnight", "one fortnight"):
        return 14
    weeks = re.fullmatch(r"(.+?) weeks?", text)
    if weeks:
        count = read_number(weeks[1])
        return _whole(None if count is None else count * 7)
    # a month of days is 30, as a 30-day supply or a 30-day trial counts it ("three months' supply": 90)
    months = re.fullmatch(r"(?:(.+?) )?months?(?:'s?)?(?: worth| supply)?", text)
    if months and (months[1] or text.startswith("month's")):  # not "months" alone
        count = read_number(months[1]) if months[1] else 1
        return _whole(None if count is None else count * 30)
    days = re.fullmatch(r"(.+?) days?", text)
    return _whole(read_number(days[1] if days else text))


# ISO 4217 codes people put beside an amount ("75 CAD", "CHF 40"): the amount is the number, the code is
# the currency parameter's business.
_CURRENCY_CODES = "cad|aud|nzd|jpy|chf|cny|inr|mxn|sek|nok|dkk|sgd|hkd|zar|brl|pln"


def _money(text: str, codes: bool = False) -> int | float | None:
    """An amount of money; with ``codes`` (an amount whose currency is a parameter of its own) any
    currency beside it too ("75 CAD", "C$75"), else dollars, euros and pounds only."""
    text = " ".join(text.strip().lower().split())
    signs = r"(?:us|c|a|au|nz|hk|s)?\$|[€£¥]|" + _CURRENCY_CODES if codes else r"[$€£]"
    words = r"dollars?|bucks|euros?|pounds?|usd|eur|gbp" + ("|" + _CURRENCY_CODES if codes else "")
    text = re.sub(r"^(?:" + signs + r"|usd|eur|gbp)\s*", "", text)
    text = re.sub(r"\s*(?:" + words + r")$", "", text)
    return read_number(text)


def _percent(text: str) -> int | float | None:
    body = re.fullmatch(r"(.+?)\s*(?:%|percent|per cent)", text.strip().lower())
    return read_number(body[1] if body else text)


# Unit names longest first, so "km" is tried before "m" and "kilohms" before "ohms".
_UNIT_SUFFIXES = sorted(surface.UNIT_NAMES, key=len, reverse=True)


def _quantity(text: str, key: str) -> int | float | None:
    """A quantity in the unit ``key`` (data/surface.py's UNITS): "12 kΩ" -> 12000 for ohms,
    "250 mA" -> 0.25 for amps, "1.75 m" -> 175 for centimeters; a bare number is taken as already in
    ``key``. A unit of another dimension ("5 kg" for a length) is no reading."""
    target = surface.UNITS.get(key)
    text = " ".join(text.strip().split())
    if target is None or not text:
        return None
    lowered = text.lower()
    for name in _UNIT_SUFFIXES:
        # Symbols by their case (mA is no MA); words in any case ("Kilometers").
        if not (text.endswith(name) or (len(name) > 2 and lowered.endswith(name.lower()))):
            continue
        number = text[: len(text) - len(name)]
        if number and number[-1].isalpha():
            continue  # "pm" is no "m": the unit must stand after the number
        unit = surface.UNITS[surface.UNIT_NAMES[name]]
        value = _plain_number(number)
        if value is None or unit.dimension != target.dimension:
            return None
        return _tidy_quantity(value * unit.scale / target.scale)
    return _plain_number(text, scaled=target.scale == 1)


def _plain_number(text: str, scaled: bool = False) -> int | float | None:
    """A number before a unit: no "k" or "M" of its own ("4.7k" for a value already in kilohms is
    4700 kilohms to read_number; "1.75 M" is meters or mega, never million), unless ``scaled`` (a
    base unit: "12k" for ohms is 12000) and then only "k" or the words."""
    if re.search(r"\d\s*(?:[mM]|bn|mil)$", text.strip()) or (not scaled and re.search(r"\d\s*k$|thousand$|million$|billion$", text.strip().lower())):
        return None
    return read_number(text)


def _tidy_quantity(number: float) -> int | float | None:
    """A converted quantity to 12 significant digits (0.3 Hz in GHz is 3e-10, not 0), whole as an
    int; None past float's range (308 digits of kilometers), as read_number does."""
    if not math.isfinite(number):
        return None
    number = float(f"{number:.12g}")
    return int(number) if number.is_integer() else number


def _whole(number: int | float | None) -> int | None:
    return int(number) if number is not None and float(number).is_integer() else None


# Spans of week days people say for a list of them ("weekdays", "every day").
_DAY_SPANS = {"weekdays": range(5), "every weekday": range(5), "weekends": range(5, 7), "the weekend": range(5, 7), "every weekend": range(5, 7),
              "weekend": range(5, 7), "every day": range(7), "daily": range(7), "all week": range(7)}


def _enum_items(parts: list[str], enum: list[str]) -> list[str] | None:
    """List items named as the enum writes them or in other case (where that names one value), or
    week days in any of their names ("Mon", "saturdays", "weekdays") for an enum of week days; None
    when one part names no value. One part alone is read only when it names several days or every
    one of a day ("weekdays", "saturdays"): "sat" may be the first of "sat and sun"."""
    folded: dict[str, list[str]] = {}
    for v in enum:
        folded.setdefault(v.casefold(), []).append(v)
    week = [next((v for v in enum if v.casefold() in (d.casefold(), d[:3].casefold())), None) for d in surface._WEEKDAYS]
    values, whole = [], len(parts) > 1
    for part in parts:
        key = " ".join(part.casefold().split())
        day = _WEEKDAYS.get(key.removesuffix("s").removeprefix("every ").removeprefix("on "))
        if part in enum:
            values.append(part)
        elif len(folded.get(key, ())) == 1:
            values.append(folded[key][0])
        elif key in _DAY_SPANS and all(week):
            values.extend(week[i] for i in _DAY_SPANS[key])
            whole = True
        elif day is not None and week[day]:
            values.append(week[day])
            whole = whole or key.endswith("s") or key.startswith("every ")
        else:
            return None
    return values if whole and len(set(values)) == len(values) else None


def _list(text: str, schema: dict[str, Any]) -> list[Any] | None:
    items_schema = schema.get("items") if isinstance(schema.get("items"), dict) else {}
    numeric = items_schema.get("type") in ("number", "integer")
    parts = [p.strip() for p in re.split(r"\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*|\s+plus\s+", text.strip()) if p.strip()]
    enum = items_schema.get("enum")
    if isinstance(enum, list) and enum and all(isinstance(v, str) for v in enum) and parts:
        return _enum_items(parts, enum)
    if numeric and len(parts) == 1:
        parts = parts[0].split()
    if len(parts) < 2:
        return None
    if not numeric:
        return parts
    values = [read_number(p) for p in parts]
    return None if any(v is None for v in values) else values


# A code said with the name it stands for (data/surface.py's code forms): "Shopify (SHOP)",
# "Rio Tinto, RIO", "SHOP (Shopify)".
_CODE = r"[A-Z0-9][A-Z0-9.\-]{0,9}"
_CODED = [re.compile(rf"[^(),]*[A-Za-z][^(),]*?\s*\((?P<code>{_CODE})\)"), re.compile(rf"[^,]*[A-Za-z][^,]*?,\s*(?P<code>{_CODE})"),
          re.compile(rf"(?P<code>{_CODE})\s*\([^()]*[a-z][^()]*\)")]
_CODE_PARAM = re.compile(r"ticker|symbol|(?:^|_)code$|iata|icao")
_CODE_WORDS = re.compile(r"\b(?:ticker|stock symbol|iata|icao|iso 4217|iso 3166|currency code|airport code|country code)\b", re.I)


def _code_param(name: str, schema: dict[str, Any]) -> bool:
    """Whether a free-text parameter takes a short code (a ticker, an airport, a currency)."""
    return bool(_CODE_PARAM.search(name.lower()) or _CODE_WORDS.search(str(schema.get("description", ""))))


def _code(text: str) -> str | None:
    return next((match["code"] for pattern in _CODED if (match := pattern.fullmatch(text.strip()))), None)


# What every date and every time its reader takes holds: a date a digit (its year at least), a time
# a digit or a word for an hour; checked before the reader, which is ~30x slower.
_MAY_STATE = {"date": re.compile(r"\d"), "time": re.compile(r"\d|\b(?:noon|midnight|midday|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\b", re.IGNORECASE)}
_READERS = {"date": _date, "time": _time, "minutes": _minutes, "days": _days, "money": _money, "amount": lambda text: _money(text, codes=True), "percent": _percent}


def read(text: str, family: str | None, schema: dict[str, Any] | None = None) -> Any:
    """The normalized value ``text`` states for a parameter of ``family`` (data/surface.py's
    families), or None when it does not state one unambiguously."""
    if not isinstance(text, str) or not text.strip():
        return None
    if family == "list":
        return _list(text, schema or {})
    if family == "count":
        return _whole(read_number(text))
    if family == "code":
        return _code(text)
    if family and family.startswith("unit:"):
        return _quantity(text, family[5:])
    if (may := _MAY_STATE.get(family or "")) and not may.search(text):
        return None  # no digit, no hour word: no date or time (most runs of a long tool result)
    reader = _READERS.get(family or "")
    return reader(text) if reader else None


# -- the values a request states, where it states them ------------------------------------------------
SPANNED = ("date", "time")  # families whose every value is a run of the request's words (not a bare number)
_SPAN_WORDS = 8  # the longest date or time people write: "quarter to three in the afternoon"
_RANGE = re.compile(r"\s*(?:-|–|—|(?:to|till|until|and|through)\b)\s*", re.IGNORECASE)  # "9 to 11 am", "8:30-9am"


_LEAD = re.compile(r"(?<!\w)(?:on|at|for|by|from|until|till|before|after|around|starting|ending)\s+$", re.IGNORECASE)  # a word that leads a date or time


def _word_runs(text: str) -> list[tuple[int, int]]:
    """Every run of whole words in ``text`` (start, end), at most :data:`_SPAN_WORDS` words: the
    quotes :func:`tooltune.constrained.quote_grammar` allows, less those that begin or end in punctuation
    (a trailing "." of "a.m." stays). Linear in the text: a tool result may be long."""
    starts = [i for i, c in enumerate(text) if c.isalnum() and (i == 0 or not text[i - 1].isalnum())]
    ends = [i + 1 for i, c in enumerate(text) if (c.isalnum() or c == ".") and (i + 1 == len(text) or not text[i + 1].isalnum())]
    runs = []
    for start in starts:
        for end in ends[bisect.bisect_right(ends, start):]:
            if len(text[start:end].split()) > _SPAN_WORDS:
                break
            if text[end - 1] != "." or text[start:end].lower().endswith("m."):
                runs.append((start, end))
    return runs


def _bare_time(text: str) -> tuple[str, str] | None:
    """A clock time said without am or pm ("9", "3:30", "quarter past one"): its am and pm readings.
    None for one that says which ("4 pm", "noon") or is 24-hour notation ("08:00", "20:00")."""
    if not _MAY_STATE["time"].search(text) or re.fullmatch(r"\d{3,4}|0\d:\d{2}", text.strip()) or _marked(text):
        return None
    am, pm = _time(text + " am"), _time(text + " pm")
    return (am, pm) if am and pm else None


def _marked(text: str) -> bool:
    """Whether a time's words say which half of the day it is in ("4 pm", "noon", "in the evening")."""
    return re.search(r"\b(noon|midnight|morning|afternoon|evening|night|tonight)\b|[ap]\.?m\b", text.lower()) is not None


def _half(both: tuple[str, str], other: str, forward: bool) -> str:
    """Of a bare time's am and pm readings, the one a range to (``forward``) or from ``other`` means:
    the same half of the day where the range then runs forward ("9 to 11 am", "noon until half past
    one"), else the other half ("11 to 1 pm"; "10 pm to 2" runs past midnight)."""
    same, other_half = (both[1], both[0]) if other >= "12:00" else both
    runs_forward = (same <= other) if forward else (same >= other)
    return same if runs_forward else other_half


_CUT = object()  # a run cut short of what its words go on to say


@functools.lru_cache(maxsize=256)
def _values_in(texts: tuple[str, ...], family: str) -> dict[str, Any]:
    found: dict[str, set[Any]] = {}
    for text in texts:
        runs = _word_runs(text)
        plain = {(a, b): value for a, b in runs if (value := read(text[a:b], family)) is not None}
        loose: list[tuple[int, int]] = []
        if family == "time":
            marked = {(c, d): v for (c, d), v in plain.items() if _marked(text[c:d])}
            links = list(_RANGE.finditer(text))
            between = lambda link, first: link[0].strip().lower() != "and" or text[:first].rstrip().lower().endswith("between")  # noqa: E731 - "and" links a range only after "between"
            for (a, b) in runs:
                if (a, b) in plain and re.fullmatch(r"\d{1,2}:\d{2}", text[a:b]) is None:
                    continue
                if not (both := _bare_time(text[a:b])) or (a >= 2 and text[a - 1] in "-/" and text[a - 2].isdigit()):
                    continue  # not a bare time, or the end of a date ("05" of "2027-12-05 to 5 pm")
                after = next((m for m in links if m.start() == b), None)
                before = next((m for m in links if m.end() == a), None)
                to = next(((c, v) for (c, d), v in marked.items() if after and c == after.end()), None)
                since = next(((c, v) for (c, d), v in marked.items() if before and d == before.start()), None)
                if to and between(after, a):
                    plain[(a, b)] = _half(both, to[1], forward=True)
                elif since and between(before, since[0]):
                    plain[(a, b)] = _half(both, since[1], forward=False)
                elif (a, b) not in plain and re.search(r":|\b(past|after|o'clock)\b", text[a:b].lower()):
                    plain[(a, b)] = None  # a time, but am or pm?
                elif (a, b) not in plain:
                    loose.append((a, b))  # a bare hour ("9"): no quote, and the same words elsewhere say no one thing
        if family == "date":  # "5/6/2027": a date, but May 6th or 5 June?
            plain.update({(a, b): None for a, b in runs if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", text[a:b]) and (a, b) not in plain})
        by_start: dict[int, list[tuple[int, Any]]] = {}
        by_end: dict[int, list[tuple[int, Any]]] = {}
        for (c, d), v in plain.items():  # indexed once: a long tool result has thousands of runs
            by_start.setdefault(c, []).append((d, v))
            by_end.setdefault(d, []).append((c, v))
        for (a, b), value in list(plain.items()):
            if any(d > b and v != value for d, v in by_start[a]) or any(c < a and v != value for c, v in by_end[b]):
                value = _CUT  # cut short: the words go on to say something else (the same words elsewhere say no one thing)
            spans = [text[a:b]]
            if (led := _LEAD.search(text, max(0, a - 12), a)) is not None:
                spans.append(text[led.start():b])  # "on July 4th, 2026", "at 4 pm": the same value
            for span in spans:
                for case in {span, span.lower()}:
                    found.setdefault(case, set()).add(value)
        for a, b in loose:
            for case in {text[a:b], text[a:b].lower()}:
                found.setdefault(case, set()).add(_CUT)
    return {span: next(iter(values)) if len(values) == 1 else None for span, values in found.items() if values != {_CUT}}


def values_in(texts: list[str], family: str) -> dict[str, Any]:
    """Every run of whole words in ``texts`` that states a ``family`` value (:data:`SPANNED`), as
    written and in lower case, with the value it states there, or None where it is a time but
    which half of the day is unclear ("ten past eleven"; "3:30" alone is 24-hour notation, as :func:`read` has it). A time
    said without am or pm takes them from the time it runs to or from ("9 to 11 am": 09:00; "from
    noon until half past one": 13:30; "between 2 and 4 pm"; :func:`_half`). A run cut short of the
    value its words go on to state ("3:30" of "3:30 pm", "nine pm" of "quarter to nine pm") is none;
    words that state different values in two places state None. What a check may quote for such a
    parameter (a bare hour, "9", only inside a range), and what reading gives it."""
    return dict(_values_in(tuple(texts), family))


# -- answers ------------------------------------------------------------------------------------------
_TOOLCALL = re.compile(r"<TOOLCALL>(.*?)</TOOLCALL>", re.DOTALL)
_NAMED = re.compile(r"(?P<optional>Optional: )?(?P<param>[A-Za-z_][\w.-]*) = ")
_JSON = json.JSONDecoder()
_NEXT_NAME = re.compile(r"(?:, |\. )(?=" + _NAMED.pattern + ")")  # where a value out of form ends: the next "name = "


@dataclass
class Reading:
    """An answer after reading: the text to use, and what changed (``tool.param: old -> new``)."""

    answer: str
    changes: list[str] = field(default_factory=list)


@dataclass
class _Segment:
    """One ``Tool: NAME. Required: ... Optional: ...`` part of a check, read value by value."""

    tool: str
    quoted: dict[str, str] = field(default_factory=dict)  # param -> the request's words before "->"
    stated: dict[str, Any] = field(default_factory=dict)  # param -> the value the check gives the call
    missing: set[str] = field(default_factory=set)  # optional params it marks missing
    named: set[str] = field(default_factory=set)  # every param it names, whatever its value
    whole: bool = False  # every value read, to its end (a check in training's form)


def _segments(reasoning: str) -> list[_Segment]:
    """Each ``Tool: NAME.`` segment of the check, in order: ``param = "words" -> value``, ``param =
    "words"`` (the words are the value), ``param = value`` or ``param = missing``, read in turn as
    JSON (a quote's commas and "missing" inside it are words, not separators). A value that is not
    JSON, or not followed by ", " or "." (a free check's ``location = Broadway``), is skipped to the
    next ", name = "; what was read stands."""
    out = []
    for text in re.split(r"(?=Tool: )", reasoning):
        head = re.match(r"Tool: ([^\s.]+(?:\.[^\s.]+)*)\.(?: Required:(?: none\.)?)? ?", text)
        if not head:
            continue
        segment, pos, optional, skipped = _Segment(head[1]), head.end(), False, False
        while (named := _NAMED.match(text, pos)) is not None:
            param, pos = named["param"], named.end()
            segment.named.add(param)
            optional = optional or bool(named["optional"])
            word = next((w for w in ("missing", "given") if re.match(w + r"(?=[,.]|$)", text[pos:])), None)
            try:
                if word:
                    end = pos + len(word)
                    if word == "missing" and optional:
                        segment.missing.add(param)
                else:
                    said, end = _JSON.raw_decode(text, pos)
                    arrow = text.startswith(" -> ", end)
                    value, end = _JSON.raw_decode(text, end + 4) if arrow else (said, end)
                    if not re.match(r", |\.(?: |$)|$", text[end:]):
                        raise ValueError("not followed by the next value")
                    if arrow:
                        segment.quoted[param] = said
                    if _finite(value):
                        segment.stated[param] = value
                pos = end + (2 if text.startswith((", ", ". "), end) else 0)
            except (ValueError, RecursionError):  # no value in the trained form here: on to the next name
                skipped = True
                skip = _NEXT_NAME.search(text, pos)
                if skip is None:
                    break
                pos = skip.end()
        segment.whole = not skipped and text[pos:].strip() in ("", ".")
        out.append(segment)
    return out


def _finite(value: Any) -> bool:
    """Whether a value read from the check holds no NaN or infinity (``1e999`` parses to one)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(map(_finite, value))
    if isinstance(value, dict):
        return all(map(_finite, value.values()))
    return True


def _canonical(value: str, family: str) -> bool:
    """Whether a string is already in the form its family's schema describes (HH:MM on a clock, YYYY-MM-DD)."""
    form = {"time": r"([01]\d|2[0-3]):[0-5]\d", "date": r"\d{4}-\d{2}-\d{2}", "code": r"\S+"}.get(family)
    return form is None or re.fullmatch(form, value) is not None


def _valid(value: Any, schema: dict[str, Any], root: Any, unchecked: bool = True) -> bool:
    """Whether ``value`` fits a parameter's ``schema``, a part of its tool's parameters ``root`` (their
    draft, their $refs); ``unchecked`` where the schema is none jsonschema can use (it checks nothing)."""
    try:
        validator = schema_validator(json.dumps(schema, sort_keys=True), json.dumps(root, sort_keys=True))  # compiled once per schema
        return unchecked if validator is None else validator.is_valid(value)
    except Exception:  # noqa: BLE001 - a schema jsonschema cannot use checks nothing
        return unchecked


@functools.lru_cache(maxsize=64)
def _list_in(texts: tuple[str, ...], schema_json: str) -> str | None:
    """The one list of enum values the request's words state for an array of enum strings ("Mon, Wed
    and Fri", "weekdays", "every day"), as JSON, read from the longest runs that state one; None
    where none or several do, or the items are not an enum of strings."""
    schema = json.loads(schema_json)
    items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
    if not (isinstance(items.get("enum"), list) and items["enum"] and all(isinstance(v, str) for v in items["enum"])):
        return None
    found = []
    for text in texts:
        read_runs = [(a, b, value) for a, b in _word_runs(text) if (value := read(text[a:b], "list", schema)) is not None]
        found += [value for a, b, value in read_runs if not any(c <= a and b <= d and (c, d) != (a, b) for c, d, _ in read_runs)]
    values = {json.dumps(v) for v in found}
    return values.pop() if len(values) == 1 else None  # as JSON: a cached list must not be the call's own


_UNITS = {"minutes": re.compile(r"\b(?:hours?|hrs?)\b", re.IGNORECASE), "days": re.compile(r"\b(?:weeks?|fortnight|months?)\b", re.IGNORECASE)}  # the larger units


def _count_of_unit(value: Any, texts: list[str], family: str) -> Any:
    """What the request's one length of time in a larger unit states, where the call wrote its count
    ("2 hrs" -> 2 for minutes: 120; "3 weeks" -> 3 for days: 21); None where none or several
    fit, or the request also says ``value`` in the call's own unit."""
    spans = {span: v for span, v in values_in(texts, family).items() if v is not None}
    if value in spans.values():
        return None
    counts = {v for span, v in spans.items() if _UNITS[family].search(span) and (head := re.match(r"[\d.,]+|[a-z-]+", span.lower())) and read_number(head[0]) == value}
    return counts.pop() if len(counts) == 1 else None


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate key")
    return dict(pairs)


_ABSENT = object()


def param_family(param: str, schema: dict[str, Any], properties: dict[str, Any]) -> str | None:
    """The surface-form family a parameter's value is read in; "code" for free text that takes a code."""
    family = family_of(param, schema, properties)
    return "code" if family == "text" and _code_param(param, schema) else family


def _read_family(param: str, schema: dict[str, Any], properties: dict[str, Any]) -> str | None:
    """The family a call's value is read in: :func:`param_family`, and for a whole-number enum
    whose name or description is a length of time (``supply_days``: 30, 60 or 90) that length's, so
    "three months' supply" reads 90 (still one of the enum's values, or nothing)."""
    family = param_family(param, schema, properties)
    if family is None and schema.get("enum") and schema.get("type") == "integer":
        unit = family_of(param, {k: v for k, v in schema.items() if k != "enum"}, properties)
        return unit if unit in ("minutes", "days") else None
    return family


def _follows(stated: Any, value: Any, schema: dict[str, Any], root: Any) -> bool:
    """Whether the call's ``value`` should become the check's ``stated`` one: it differs, and the
    stated one surely fits (a schema with no validator checks nothing, so nothing is followed; an
    enum's value is one of its own). Not where the check quotes part of the call's words, or the
    same words in other case ("Fenway" or "fenway park" for "Fenway Park"): a quote may stop at any
    word and be lower case, the call's fuller value is likelier right."""
    if value == stated:
        return False
    if isinstance(stated, str) and isinstance(value, str) and re.search(r"(?<!\w)" + re.escape(stated.casefold()) + r"(?!\w)", value.casefold()):
        return False
    if isinstance(schema.get("enum"), list) and stated not in schema["enum"]:
        return False
    return _valid(stated, schema, root, unchecked=False)


# A currency's sign or name, as people write it beside an amount: what each surely means ("$" and
# "dollars" are US dollars; "Singapore dollars", "Egyptian pounds" or "¥" (yen or yuan) are none).
_CURRENCY_NAMES = {"$": "USD", "us$": "USD", "dollar": "USD", "dollars": "USD", "buck": "USD", "bucks": "USD",
                   "€": "EUR", "euro": "EUR", "euros": "EUR", "£": "GBP", "pound": "GBP", "pounds": "GBP", "quid": "GBP",
                   "pounds sterling": "GBP", "yen": "JPY", "c$": "CAD", "canadian dollar": "CAD", "canadian dollars": "CAD",
                   "a$": "AUD", "au$": "AUD", "australian dollar": "AUD", "australian dollars": "AUD", "nz$": "NZD", "hk$": "HKD", "s$": "SGD"}
_NAME = "|".join(sorted(map(re.escape, _CURRENCY_NAMES), key=len, reverse=True))
_CODES = r"usd|eur|gbp|" + _CURRENCY_CODES
_SIGNS = r"(?:us|c|a|au|nz|hk|s)?\$|[€£]"  # a currency's sign before an amount
_SIGNED = re.compile(r"(?P<name>" + _SIGNS + r")\s*(?P<number>.+)", re.IGNORECASE)  # "€1.5k", "C$75"
_NAMED_AFTER = re.compile(r"(?P<number>.+?)\s+(?P<name>" + _NAME + "|" + _CODES + ")", re.IGNORECASE)  # "twenty-five pounds", "75 CAD"


def _currency(text: Any, amount: bool = False) -> str | None:
    """The currency ``text`` is: a sign, name or code alone ("£", "yen", "CAD"); with ``amount``, an
    amount's words beside it ("£20", "fifty bucks", "10,000 yen"). None for anything else."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not amount:
        name = text.lower()
        return _CURRENCY_NAMES.get(name) or (name.upper() if re.fullmatch(_CODES, name) else None)
    match = _SIGNED.fullmatch(text) or _NAMED_AFTER.fullmatch(text)
    return _currency(match["name"]) if match and read_number(match["number"]) is not None else None


_SIGN = re.compile(r"(?<![\w$€£])(" + _SIGNS + r"|\b(?:" + _CODES + r"))\s?(?=\d)", re.IGNORECASE)  # "$50", "€1.5k", "CHF 40"


def currency_in(texts: list[str]) -> str | None:
    """The one currency ``texts`` state an amount in ("£20", "fifty bucks", "75 CAD", "CHF 40"),
    else None (none, or two different ones). Not "pounds" alone: "5 pounds" may weigh."""
    codes = set()
    for text in texts:
        codes |= {_currency(m[1]) for m in _SIGN.finditer(text)}
        codes |= {_currency(text[a:b], amount=True) for a, b in _word_runs(text) if not re.search(r"\bpounds?$", text[a:b], re.IGNORECASE)}
    codes.discard(None)
    return codes.pop() if len(codes) == 1 else None


def number_after_name(param: str, texts: list[str]) -> bool:
    """Whether ``texts`` give a number right after the parameter's name ("zone 8", "Gate 12",
    "table #4", "floor five"): the value of a number parameter of that name, surely stated."""
    name = re.escape(param.replace("_", " ").strip())
    return bool(name) and any(m[1].lower() not in ("a", "an") and read_number(m[1]) is not None for text in texts
                              for m in re.finditer(rf"(?<!\w){name}\s+(?:#\s?|no\.\s?|number\s+)?(\d+(?:[.,]\d+)*|[a-z]+(?:-[a-z]+)?)(?!\w)", text, re.IGNORECASE))


def numbers_in(texts: list[str]) -> list[str]:
    """Every number ``texts`` state, as JSON writes it: in digits ("07:15" holds 7 and 15; "2.50" is
    2.5, and also as written), or in a run of words :func:`read_number` reads ("5,600", "five",
    "3.4 million", "a dozen"); each also negative (a sign may be said as "minus" or in a range)."""
    return sorted(_numbers_in(tuple(texts)))


@functools.lru_cache(maxsize=64)
def _numbers_in(texts: tuple[str, ...]) -> frozenset[str]:
    found = set()
    for text in texts:
        for m in re.findall(r"\d+(?:\.\d+)?", text):
            if "." in m:  # as written ("2.50"), and as JSON writes it ("2.5"; "10.0" also as 10)
                whole, _, part = m.partition(".")
                part = part.rstrip("0")
                found |= {m, f"{int(whole)}.{part}" if part else str(int(whole))}
            else:
                found.add(str(int(m)))  # "07" is 7; never through a float ("9999999999999999")
        for a, b in _word_runs(text):
            value = read_number(text[a:b])
            if value is not None and (not isinstance(value, float) or math.isfinite(value)):
                found.add(json.dumps(value))
    return frozenset(found | {"-" + n.lstrip("-") for n in found})


def name_before_noun(param: str, texts: list[str]) -> bool:
    """Whether ``texts`` name a place by a proper name before the parameter's name, after "at the",
    "in the", "from the" or "to the" ("at the Elm Street pharmacy", "in the Harbor Tower building"):
    the value of a free-text parameter of that name, surely stated. Not "a Spotify playlist" or "my
    Netflix password" (which one?)."""
    noun = re.escape(param.replace("_", " ").strip())
    proper = r"[A-Z][\w'&.-]*(?: [A-Z][\w'&.-]*){0,3}"  # at most four words: linear in a long text
    return bool(noun) and any(re.search(rf"\b(?:at|in|from|to) the {proper} {noun}\b", text) for text in texts)


class ToolResult(str):
    """A tool message's text among the texts a check may quote (:func:`quote_sources`): quotable
    like the user's words, but not what the user asked for (a result's ``"results"`` or ``"page"``
    names no optional value, its ``"status": "open"`` no enum value)."""


# Words of parameter names (and enum values) that say nothing the user asks for: a request that says
# "results", "page" or "all" has not chosen max_results, page_size or state = "all".
_NAME_FILLER = frozenset("a an and as at be by content data file for id if in include info is item max min name number of "
                         "offset ok on only or page per result size the to type value with cursor all any none default auto other both".split())
_SUFFIXES = ("", "s", "es", "y", "ly", "ies", "ing", "ed", "er", "ers", "ion", "ions", "ation", "ations", "ication")


def quote_sources(conversation: list[dict[str, Any]]) -> list[str]:
    """The texts a check may quote and a value may come from: the conversation's user and tool
    messages (the system prompt's tool schemas are not the request's words: quoting an enum value
    from them is inventing one)."""
    return [ToolResult(m["content"]) if m.get("role") == "tool" else m["content"]
            for m in conversation if isinstance(m, dict) and m.get("role") in ("user", "tool") and isinstance(m.get("content"), str)]


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _same_word(a: str, b: str) -> bool:
    """One word in two forms: equal, or a shared stem of four letters or more and ordinary endings
    ("month" / "monthly", "notify" / "notification", "rain" / "raining"; not "count" / "country")."""
    if a == b:
        return True
    k = 0
    while k < min(len(a), len(b)) and a[k] == b[k]:
        k += 1
    if k < 4:
        return False
    # a final "e" dropped before an ending ("shuffle" / "shuffling"; not "store" / "story")
    e_dropped = {a[k:], b[k:]} in ({"e", "ing"}, {"e", "ed"}, {"e", "er"}, {"e", "ers"})
    return e_dropped or (_ending(a, k) and _ending(b, k))


_DOUBLING = ("ed", "ing", "er", "ers")  # endings after a doubled last consonant ("trimmed", "planning")


def _ending(word: str, k: int) -> bool:
    """Whether ``word`` past its first ``k`` letters is an ordinary ending, a doubled last consonant
    before it included ("trim" / "trimmed", "plan" / "planning")."""
    rest = word[k:]
    doubled = rest[:1] == word[k - 1] and word[k - 1] not in "aeiou" and rest[1:] in _DOUBLING
    return rest in _SUFFIXES or word[k - 1 :] in _SUFFIXES[3:] or doubled


def named_optional(tool: Tool, texts: list[str]) -> set[str]:
    """The optional parameters of ``tool`` that ``texts`` talk about: a content word of the
    parameter's name ("text me when it's ready" for ``notify_by_text``, "skip it if rain's on the
    way" for ``skip_if_rain``, "no video needed" for ``needs_video``) or every content word of one
    of its enum values ("mold" for ``allergen``, "every month" for ``monthly``). A word inside the
    tool's own name does not count (a wine-pairing tool's requests all say "wine", a babysitter's
    "sitter"), nor do words like "results" or "page" (``_NAME_FILLER``). The request may still say
    not to use the value, or say the word about something else: the check can mark it ``missing``
    (constrained.check_grammar lets it); this only says it must be considered."""
    said = _said_words(texts)
    named = set()
    properties = tool.properties if isinstance(tool.properties, dict) else {}
    for name, schema in properties.items():
        if name in tool.required or not isinstance(schema, dict):
            continue
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        enum = [v for source in (schema, items) if isinstance(source.get("enum"), list) for v in source["enum"]]
        values = [_content_words(name_words(v), tool) for v in enum if isinstance(v, str) and _singular(v.lower()) not in _NAME_FILLER]
        if any(_says(said, w) for w in _content_words(name_words(name), tool)) or any(v and all(_says(said, w) for w in v) for v in values):
            named.add(name)
    return named


def _said_words(texts: list[str]) -> set[str]:
    """The user's words, plurals as their singular (a tool result's are not the user's)."""
    return {_singular(w) for text in texts if isinstance(text, str) and not isinstance(text, ToolResult) for w in name_words(text)}


_NEGATION = re.compile(r"\b(?:not|no|don't|dont|never|without|isn't|aren't)\s+(?:\w+\s+){0,1}\w+", re.IGNORECASE)


def _last_words(texts: list[str]) -> set[str]:
    """The words of the user's last message, without those right after a negation ("not too hard"
    says no ``hard``): an earlier turn asked for an earlier call."""
    last = [t for t in texts if isinstance(t, str) and not isinstance(t, ToolResult)][-1:]
    return _said_words([_NEGATION.sub(" ", t) for t in last])


def _says(said: set[str], word: str) -> bool:
    """Whether ``word`` is one of ``said`` in some form (:func:`_same_word`)."""
    return any(_same_word(word, w) for w in said)


def _tool_words(tool: Tool) -> list[str]:
    """The words of ``tool``'s name that say something (three letters or more)."""
    return [w for w in name_words(tool.name) if len(w) >= 3]


def _content_words(words: list[str], tool: Tool) -> list[str]:
    """Words of a parameter's name or an enum value that say something: not filler, not a word inside the tool's own name."""
    own = _tool_words(tool)
    return [w for w in map(_singular, words) if w not in _NAME_FILLER and len(w) >= 3 and not any(w in o for o in own)]


def own_words(tool: Tool, texts: list[str]) -> tuple[str, ...]:
    """The words of ``texts`` that only name ``tool`` itself ("serviced" for ``schedule_car_service``,
    "book" for ``book_haircut``) that are no value's word nor its start (not "hair" of "haircut"): a
    required value of one of its enums of words quoted from them is one the request does not give
    (training's checks never quote one). Empty for a tool without such an enum."""
    properties = tool.properties if isinstance(tool.properties, dict) else {}
    enums = [properties[p]["enum"] for p in tool.required if isinstance(properties.get(p), dict) and _words_enum(properties[p].get("enum"))]
    if not enums:
        return ()
    own = _tool_words(tool)
    values = {_singular(w) for enum in enums for value in enum for w in name_words(value)}
    found = set()
    for text in texts:
        for word in re.findall(r"[^\W\d_]{3,}", text if isinstance(text, str) else ""):
            w = _singular(word.lower())
            # not the start of a value's word either: "street" of "streetlight" for report_street_issue
            if any(_same_word(w, o) or w in o for o in own) and not any(_same_word(w, v) or v.startswith(w) for v in values):
                found.add(word)
    return tuple(sorted(found))


def _words_enum(enum: Any) -> bool:
    """An enum of words: strings with lowercase letters and no digits, so not codes ("USD", "JPY":
    which is from, which to?) nor values with digits ("720p")."""
    return isinstance(enum, list) and bool(enum) and all(isinstance(v, str) and re.search(r"[a-z]", v) and not re.search(r"\d", v) for v in enum)


def enum_said(tool: Tool, param: str, said: set[str]) -> str | None:
    """The one value of an enum of words whose words are ``said`` (:func:`_last_words`: "test the
    battery" -> ``battery_check``, "drain's blocked" -> ``blocked_drain``), or None when words of
    none or of several of its values are. Only for an enum of words: codes and values with digits
    are not read so."""
    schema = tool.properties.get(param) if isinstance(tool.properties, dict) else None
    enum = schema.get("enum") if isinstance(schema, dict) else None
    if not _words_enum(enum):
        return None
    hits = [v for v in enum if isinstance(v, str) and any(_says(said, w) for w in _content_words(name_words(v), tool))]
    return hits[0] if len(hits) == 1 else None


def currency_param(param: str, schema: dict[str, Any]) -> bool:
    """A parameter that takes a currency code: named ``currency``, its values three capital letters."""
    codes = schema.get("enum") if isinstance(schema.get("enum"), list) else None
    coded = schema.get("pattern") in ("^[A-Z]{3}$", "[A-Z]{3}") or (codes is not None and all(isinstance(c, str) and re.fullmatch(r"[A-Z]{3}", c) for c in codes))
    return param.lower() == "currency" and schema.get("type") == "string" and coded


def read_values(answer: str, tools: list[Tool], texts: list[str] | None = None) -> Reading:
    """``answer`` with each call value that the check quotes from the request (or that breaks its
    schema) replaced by the value code reads from those words, where that reading is certain,
    valid for the parameter's schema and different; without the optional values the check marks
    ``missing``; and with the free-text and enum values the check states where the call differs.
    ``texts``, the request's words (:func:`quote_sources`), let a quoted date or time be read
    where it stands ("9" of "9 to 11 am" is 09:00, :func:`values_in`).
    Anything else comes back unchanged, byte for byte."""
    reasoning, _ = split_reasoning(answer)
    blocks = list(_TOOLCALL.finditer(answer))
    if len(blocks) != 1:
        return Reading(answer)
    try:
        calls = json.loads(blocks[0][1], object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError):  # not JSON, or a key given twice: which value the model meant is unclear
        return Reading(answer)
    if isinstance(calls, dict):
        calls = [calls]
    if not isinstance(calls, list):
        return Reading(answer)
    by_name = {t.name: t for t in tools}
    segments = _segments(reasoning or "")
    changes, think = [], reasoning or ""
    user_words, last_words = (_said_words(texts), _last_words(texts)) if texts else (set(), set())  # read once: enum values below
    called = [c.get("name") for c in calls if isinstance(c, dict)]
    for call in calls:
        if not (isinstance(call, dict) and isinstance(call.get("arguments"), dict) and isinstance(call.get("name"), str) and (tool := by_name.get(call["name"]))):
            continue
        # The check's segment for this call: the first unused one that names its tool.
        index = next((i for i, segment in enumerate(segments) if segment.tool == tool.name), None)
        segment = segments.pop(index) if index is not None else _Segment("")
        # Which segment meant which call is clear only for a tool called once and named once.
        alone = called.count(tool.name) == 1 and not any(s.tool == tool.name for s in segments)
        properties = tool.properties if isinstance(tool.properties, dict) else {}  # a client's schema may be anything
        # An optional value the check itself marks missing is one the model would invent: left out. So
        # is one a whole check never names: training's check names every value its call carries.
        for param in [p for p in call["arguments"] if alone and p not in tool.required and (p in segment.missing or (segment.whole and p not in segment.named))]:
            why = "the check marks it missing" if param in segment.missing else "its check does not name it"
            changes.append(f"{tool.name}.{param}: {json.dumps(call['arguments'].pop(param), ensure_ascii=False)} -> left out ({why})")
        # The call follows its check, as training wrote it from the check: a value the check states
        # (valid for its parameter) that the call misspells, swaps or leaves out is the check's. Not
        # for a value that takes reading (a time, a date, a code): the check's words are read below.
        for param, stated in segment.stated.items() if alone else ():
            schema = properties.get(param)
            if isinstance(schema, dict) and param_family(param, schema, properties) in (None, "text") and _follows(stated, call["arguments"].get(param, _ABSENT), schema, tool.parameters):
                old = json.dumps(call["arguments"][param], ensure_ascii=False) if param in call["arguments"] else "(none)"
                call["arguments"][param] = stated
                changes.append(f"{tool.name}.{param}: {old} -> {json.dumps(stated, ensure_ascii=False)} (as its check states)")
        quoted = segment.quoted
        for param, value in call["arguments"].items():
            schema = properties.get(param)
            if not isinstance(schema, dict):
                continue
            family = _read_family(param, schema, properties)
            if currency_param(param, schema):
                family = "currency"  # a code: read from a sign or a name
            if family in (None, "text"):
                continue
            said = quoted.get(param)
            stated = segment.stated.get(param)
            spans = values_in(texts, family) if texts and family in SPANNED else {}  # where the request's words stand
            if said is None and isinstance(stated, str) and spans.get(stated) is not None \
                    and (family == "date" or _marked(stated) or spans[stated] != read(stated, family)):
                # The request's words with no "->" ("2 in the afternoon"; "9" of "9 to 11 am"): read where
                # they stand. Not "3:30" alone: the call's value on the clock may be the half of the day meant.
                said = stated
            if family == "currency":
                if not alone:
                    continue
                # its own words ("£", "yen"), else the currency the amount is said in ("€1.5k")
                new = _currency(said if said is not None else stated)
                if new is None:
                    money = [w for p, w in quoted.items() if isinstance(properties.get(p), dict) and param_family(p, properties[p], properties) in ("amount", "money")]
                    codes = {_currency(w, amount=True) for w in money}
                    new = codes.pop() if len(codes) == 1 else None
                if new is not None and new != value and _valid(new, schema, tool.parameters):
                    call["arguments"][param] = new
                    changes.append(f"{tool.name}.{param}: {json.dumps(value, ensure_ascii=False)} -> {json.dumps(new)} (the currency its check's words say)")
                continue
            # a span the words leave open ("ten past eleven") is no reading
            new = (spans[said] if said in spans else read(said, family, schema)) if said is not None else None
            if new is None and said is None and family == "list" and isinstance(value, list) and texts:
                listed = _list_in(tuple(texts), json.dumps(schema, sort_keys=True))  # a list written bare: the request's words for it
                new = json.loads(listed) if listed else None
            if new is None and said is None and _number(value) and family in _UNITS and texts:
                new = _count_of_unit(value, texts, family)  # "2 hrs" written as 2 minutes
            if new is None and isinstance(value, str) and not (_valid(value, schema, tool.parameters) and _canonical(value, family)):
                # A call value not in its schema's form ("4 pm", "48:30"): the check's own words for it
                # ("4 pm" written as the value), else the span as it was copied into the call.
                plain = segment.stated.get(param) if param not in quoted else None
                new = (read(plain, family, schema) if isinstance(plain, str) else None) or read(value, family, schema)
            if new is None or new == value or not _valid(new, schema, tool.parameters):
                continue
            if _number(new) and _number(value) and abs(new) == abs(value):
                continue  # c = "eight" -> -8: the sign was said just outside the quoted words
            call["arguments"][param] = new
            changes.append(f"{tool.name}.{param}: {json.dumps(value, ensure_ascii=False)} -> {json.dumps(new, ensure_ascii=False)}")
            if said is not None:
                think = think.replace(f"{json.dumps(said, ensure_ascii=False)} -> {json.dumps(value, ensure_ascii=False)}",
                                      f"{json.dumps(said, ensure_ascii=False)} -> {json.dumps(new, ensure_ascii=False)}", 1)
        # An enum value whose words the user never says, where the user says words of exactly one
        # other value ("test the battery" called tire_rotation): that one.
        # Not where the check maps the request's words to the value ("arrived broken" -> "damaged"):
        # the model read them; nor for a value with no words to say ("other", "all").
        for param, value in list(call["arguments"].items()) if texts and alone else ():
            words = _content_words(name_words(value), tool) if isinstance(value, str) and param not in quoted else []
            new = enum_said(tool, param, last_words) if words and not any(_says(user_words, w) for w in words) else None
            if new is not None and new != value and _valid(new, properties.get(param), tool.parameters):
                call["arguments"][param] = new
                changes.append(f"{tool.name}.{param}: {json.dumps(value, ensure_ascii=False)} -> {json.dumps(new, ensure_ascii=False)} (the one value the request says)")
    if not changes:
        return Reading(answer)
    body = json.dumps(calls, ensure_ascii=False)
    text = answer[: blocks[0].start(1)] + body + answer[blocks[0].end(1) :]
    if reasoning:
        text = text.replace(reasoning, think, 1)
    return Reading(text, changes)
