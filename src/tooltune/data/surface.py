"""Values in the forms people write them: "4 pm" for ``16:00``, "the 14th of Feb 2027" for ``2027-02-14``.

A request the generator writes says each value in a *surface form*, while the ground-truth call
keeps the normalized value the schema asks for, so the model learns to read a value rather than to
copy a span. Forms come in families picked from the parameter's schema (its ``format``, the unit
or pattern in its description, its type and name). Each form is marked ``held_out`` or not: the
training file never uses a held-out form, the generator's held-out file does, so its score shows
whether the model reads forms it never saw.

:func:`render` returns the text and the form's name (``None`` for the canonical form, when the
request states the value exactly as the call needs it). :func:`vague` gives what a person says
instead of a value they have not decided ("sometime next week" for a date): a clarify row that
holds it must still ask.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass
from typing import Any, Callable

from .catalog import name_words

__all__ = ["Form", "FAMILIES", "VAGUE", "VAGUE_TEXT", "UNITS", "UNIT_NAMES", "family_of", "unit_of", "render", "vague", "fill_slot", "singular_after_one", "number_words"]

_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_MONTHS = "January February March April May June July August September October November December".split()
_WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()


def number_words(n: int) -> str:
    """0..999 in words: 45 -> "forty-five", 120 -> "one hundred twenty"."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else "-" + _ONES[n % 10])
    rest = n % 100
    return _ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + number_words(rest))


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _plain(x: float) -> str:
    """A number as people write it: 12 not 12.0, 4.5 not 4.50."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


@dataclass(frozen=True)
class Form:
    """One way of saying a value; ``render`` returns None where the form does not fit the value."""

    name: str
    render: Callable[[Any, random.Random], str | None]
    held_out: bool = False


# -- dates (YYYY-MM-DD) ------------------------------------------------------------------------
def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None


def _date_form(fn: Callable[[dt.date, random.Random], str]) -> Callable[[Any, random.Random], str | None]:
    return lambda v, rng: fn(d, rng) if (d := _date(v)) else None


DATE_FORMS = [
    Form("date.month_day_year", _date_form(lambda d, r: f"{_MONTHS[d.month - 1]} {d.day}, {d.year}")),
    Form("date.abbr", _date_form(lambda d, r: f"{_MONTHS[d.month - 1][:3]} {d.day}, {d.year}")),
    Form("date.day_month_year", _date_form(lambda d, r: f"{d.day} {_MONTHS[d.month - 1]} {d.year}")),
    Form("date.ordinal", _date_form(lambda d, r: f"{_MONTHS[d.month - 1]} {_ordinal(d.day)} {d.year}")),
    Form("date.weekday", _date_form(lambda d, r: f"{_WEEKDAYS[d.weekday()]}, {_MONTHS[d.month - 1][: r.choice((3, 9))]} {d.day}, {d.year}")),
    Form("date.us_numeric", _date_form(lambda d, r: f"{d.month}/{d.day}/{d.year}")),
    Form("date.ordinal_of", _date_form(lambda d, r: f"the {_ordinal(d.day)} of {_MONTHS[d.month - 1][: r.choice((3, 9))]} {d.year}"), held_out=True),
    Form("date.day_abbr", _date_form(lambda d, r: f"{d.day}-{_MONTHS[d.month - 1][:3]}-{d.year}"), held_out=True),
]


# -- times of day (HH:MM, 24-hour) -------------------------------------------------------------
def _time(value: Any) -> tuple[int, int] | None:
    match = re.fullmatch(r"(\d{2}):(\d{2})", value) if isinstance(value, str) else None
    return (int(match[1]), int(match[2])) if match and int(match[1]) < 24 and int(match[2]) < 60 else None


def _ampm(h: int, m: int, rng: random.Random, dotted: bool = False) -> str:
    hour = h % 12 or 12
    suffix = ("a.m." if h < 12 else "p.m.") if dotted else ("am" if h < 12 else "pm")
    if not dotted and rng.random() < 0.3:
        suffix = suffix.upper()
    clock = f"{hour}" if m == 0 and rng.random() < 0.7 else f"{hour}:{m:02d}"
    return f"{clock}{'' if not dotted and rng.random() < 0.4 else ' '}{suffix}"


def _part_of_day(h: int) -> str:
    return "in the morning" if h < 12 else "in the afternoon" if h < 17 else "in the evening" if h < 21 else "at night"


def _spoken_time(h: int, m: int, rng: random.Random) -> str | None:
    if (h, m) == (12, 0):
        return "noon"
    if (h, m) == (0, 0):
        return "midnight"
    if h == 0:
        return None
    hour, after = h % 12 or 12, _part_of_day(h)
    if m == 0:
        return f"{number_words(hour)} o'clock {after}" if rng.random() < 0.5 else f"{number_words(hour)} {after}"
    if m == 30:
        return f"half past {number_words(hour)} {after}"
    if m == 15:
        return f"quarter past {number_words(hour)} {after}"
    if m == 45:
        return f"quarter to {number_words(h % 12 + 1)} {_part_of_day(h)}"
    return None


def _time_form(fn: Callable[[int, int, random.Random], str | None]) -> Callable[[Any, random.Random], str | None]:
    return lambda v, rng: fn(*t, rng) if (t := _time(v)) else None


TIME_FORMS = [
    Form("time.ampm", _time_form(lambda h, m, r: _ampm(h, m, r))),
    Form("time.spoken", _time_form(_spoken_time)),
    Form("time.dotted_ampm", _time_form(lambda h, m, r: _ampm(h, m, r, dotted=True)), held_out=True),
    Form("time.h_notation", _time_form(lambda h, m, r: f"{h}h{m:02d}"), held_out=True),
]


# -- durations in minutes, spans in days -------------------------------------------------------
def _minutes_words(v: Any, rng: random.Random) -> str | None:
    return f"{number_words(v)} minutes" if isinstance(v, int) and 0 < v < 200 and v != 1 else None


def _minutes_hours(v: Any, rng: random.Random) -> str | None:
    if not isinstance(v, int) or v < 30 or v % 30:
        return None
    hours, half = divmod(v, 60)
    if v == 30:
        return "half an hour"
    if v == 60:
        return rng.choice(("an hour", "one hour", "1 hour"))
    if not half:
        return rng.choice((f"{number_words(hours)} hours", f"{hours} hours"))
    return rng.choice((f"{'an' if hours == 1 else number_words(hours)} hour{'s' if hours > 1 else ''} and a half", f"{hours}.5 hours"))


def _minutes_short(v: Any, rng: random.Random) -> str | None:
    return f"{v} {rng.choice(('min', 'mins'))}" if isinstance(v, int) else None


def _minutes_hm(v: Any, rng: random.Random) -> str | None:
    return f"{v // 60}h{v % 60:02d}" if isinstance(v, int) and v > 60 and v % 60 else f"{v // 60}h" if isinstance(v, int) and v >= 60 and not v % 60 else None


MINUTE_FORMS = [
    Form("minutes.words", _minutes_words),
    Form("minutes.hours", _minutes_hours),
    Form("minutes.short", _minutes_short),
    Form("minutes.hm", _minutes_hm, held_out=True),
]


def _days_weeks(v: Any, rng: random.Random) -> str | None:
    if v == 7:
        return rng.choice(("a week", "one week"))
    if isinstance(v, int) and v % 7 == 0 and 0 < v <= 28:
        return f"{number_words(v // 7)} weeks"
    return None


DAY_FORMS = [
    Form("days.words", lambda v, r: f"{number_words(v)} day{'s' if v != 1 else ''}" if isinstance(v, int) and 0 < v < 100 else None),
    Form("days.weeks", _days_weeks),
    Form("days.fortnight", lambda v, r: "a fortnight" if v == 14 else None, held_out=True),
]


# -- money, amounts and counts -----------------------------------------------------------------
def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _cents(v: Any, sep: str = "") -> str:
    """An amount as money is written: whole, or with both cents ("$132.50", not "$132.5")."""
    if float(v).is_integer():
        return f"{int(v):{sep}}"
    if round(v, 2) == v:
        return f"{v:{sep}.2f}"
    if sep:
        return f"{v:{sep}}"
    exact = repr(float(v))  # every digit it has ("1000.005"), which _plain's :g would round away
    return exact if "e" not in exact else _plain(v)


def _thousands(v: Any, rng: random.Random) -> str | None:
    if not _is_num(v) or v < 1000:
        return None
    return _cents(v, ",")


def _k_suffix(v: Any, rng: random.Random) -> str | None:
    if not _is_num(v) or v < 1000 or v >= 1_000_000 or round(v / 1000, 2) * 1000 != v:
        return None
    return f"{_plain(round(v / 1000, 2))}{rng.choice(('k', 'K'))}"


def _millions(v: Any, rng: random.Random) -> str | None:
    if not _is_num(v) or v < 1_000_000 or round(v / 1e6, 2) * 1e6 != v:
        return None
    return f"{_plain(round(v / 1e6, 2))} {rng.choice(('million', 'mil'))}"


def _with_sign(sign: str, inner: Callable[[Any, random.Random], str | None]) -> Callable[[Any, random.Random], str | None]:
    def fn(v: Any, rng: random.Random) -> str | None:
        body = inner(v, rng)
        return None if body is None else f"-{sign}{body[1:]}" if body.startswith("-") else f"{sign}{body}"  # "-$12", not "$-12"
    return fn


def _as_is(v: Any, rng: random.Random) -> str | None:
    return _cents(v) if _is_num(v) else None


def _dollars(v: Any, rng: random.Random) -> str | None:
    if not _is_num(v):
        return None
    word = "bucks" if float(v).is_integer() and v < 1000 and rng.random() < 0.4 else "dollars"
    return f"{_cents(v)} {word}"


MONEY_FORMS = [
    Form("money.dollar_sign", _with_sign("$", _as_is)),
    Form("money.thousands", _thousands),
    Form("money.dollar_thousands", _with_sign("$", _thousands)),
    Form("money.k", _k_suffix),
    Form("money.dollar_k", _with_sign("$", _k_suffix)),
    Form("money.millions", _millions),
    Form("money.dollars_word", _dollars),
    Form("money.euro_sign", _with_sign("€", _as_is)),
    Form("money.pound_sign", _with_sign("£", _as_is), held_out=True),
    Form("money.words", lambda v, r: f"{number_words(int(v))} {r.choice(('dollars', 'bucks'))}" if _is_num(v) and float(v).is_integer() and 1 < v < 1000 else None),
]
# Amounts with no currency of their own (a tool with a currency parameter): no signs.
AMOUNT_FORMS = [f for f in MONEY_FORMS if f.name in ("money.thousands", "money.k", "money.millions")] + [
    Form("amount.words", lambda v, r: number_words(int(v)) if _is_num(v) and float(v).is_integer() and 1 < v < 1000 else None),
]

COUNT_FORMS = [
    Form("count.words", lambda v, r: number_words(v) if isinstance(v, int) and not isinstance(v, bool) and 1 < v < 100 else None),
    Form("count.dozen", lambda v, r: "a dozen" if v == 12 else "half a dozen" if v == 6 else None, held_out=True),
]

PERCENT_FORMS = [
    Form("percent.sign", lambda v, r: f"{_plain(v)}%" if _is_num(v) else None),
    Form("percent.word", lambda v, r: f"{_plain(v)} percent" if _is_num(v) else None),
    Form("percent.per_cent", lambda v, r: f"{_plain(v)} per cent" if _is_num(v) else None, held_out=True),
]


# -- lists -------------------------------------------------------------------------------------
def _items(v: Any) -> list[str] | None:
    if not isinstance(v, list) or len(v) < 2 or not all(isinstance(x, (str, int, float)) and not isinstance(x, bool) for x in v):
        return None
    return [_plain(x) if _is_num(x) else str(x) for x in v]


LIST_FORMS = [
    Form("list.and", lambda v, r: f"{', '.join(i[:-1])} and {i[-1]}" if (i := _items(v)) else None),
    Form("list.oxford", lambda v, r: f"{', '.join(i[:-1])}, and {i[-1]}" if (i := _items(v)) and len(i) > 2 else None),
    Form("list.spaces", lambda v, r: " ".join(i) if (i := _items(v)) and all(_is_num(x) for x in v) else None),
    Form("list.ampersand", lambda v, r: f"{', '.join(i[:-1])} & {i[-1]}" if (i := _items(v)) else None, held_out=True),
    Form("list.plus", lambda v, r: " plus ".join(i) if (i := _items(v)) and len(i) <= 3 else None, held_out=True),
]


# -- codes people write with a name, free text's casing ----------------------------------------
def _coded(names: dict[str, list[str]], shape: str) -> Callable[[Any, random.Random], str | None]:
    def fn(v: Any, rng: random.Random) -> str | None:
        options = names.get(v) if isinstance(v, str) else None
        return shape.format(name=rng.choice(options), code=v) if options else None
    return fn


def code_forms(names: dict[str, list[str]]) -> list[Form]:
    """Forms for a code (ticker, airport, currency) said with the name it stands for."""
    return [
        Form("code.name_paren", _coded(names, "{name} ({code})")),
        Form("code.name_comma", _coded(names, "{name}, {code}")),
        Form("code.paren_name", _coded(names, "{code} ({name})"), held_out=True),
    ]


# -- physical units: "12 kΩ" for 12000 ohms, "250 mA" for 0.25 A, "1.75 m" for 175 cm ----------
@dataclass(frozen=True)
class Unit:
    """A unit a schema's description can ask for; ``scale`` converts it to its dimension's base unit."""

    dimension: str
    scale: float
    symbol: str
    word: str  # plural, as a value other than one takes it


UNITS: dict[str, Unit] = {
    "mm": Unit("length", 1e-3, "mm", "millimeters"), "cm": Unit("length", 1e-2, "cm", "centimeters"),
    "m": Unit("length", 1.0, "m", "meters"), "km": Unit("length", 1e3, "km", "kilometers"),
    "mg": Unit("mass", 1e-3, "mg", "milligrams"), "g": Unit("mass", 1.0, "g", "grams"), "kg": Unit("mass", 1e3, "kg", "kilograms"),
    "ml": Unit("volume", 1e-3, "mL", "milliliters"), "l": Unit("volume", 1.0, "L", "liters"),
    "ohm": Unit("resistance", 1.0, "Ω", "ohms"), "kohm": Unit("resistance", 1e3, "kΩ", "kilohms"), "Mohm": Unit("resistance", 1e6, "MΩ", "megohms"),
    "ma": Unit("current", 1e-3, "mA", "milliamps"), "a": Unit("current", 1.0, "A", "amps"),
    "mv": Unit("voltage", 1e-3, "mV", "millivolts"), "v": Unit("voltage", 1.0, "V", "volts"), "kv": Unit("voltage", 1e3, "kV", "kilovolts"),
    "w": Unit("power", 1.0, "W", "watts"), "kw": Unit("power", 1e3, "kW", "kilowatts"), "MW": Unit("power", 1e6, "MW", "megawatts"),
    "hz": Unit("frequency", 1.0, "Hz", "hertz"), "khz": Unit("frequency", 1e3, "kHz", "kilohertz"), "mhz": Unit("frequency", 1e6, "MHz", "megahertz"),
    "ghz": Unit("frequency", 1e9, "GHz", "gigahertz"),
}


def _unit_names() -> dict[str, str]:
    """How a description or a reader names each unit (both spellings, singular and plural, symbols);
    case matters only where it tells units apart (mW is not MW, mΩ is no unit here)."""
    names = {}
    for key, unit in UNITS.items():
        stem = unit.word[:-1] if unit.word.endswith("s") else unit.word
        for name in (unit.symbol, unit.word, stem, unit.word.replace("meters", "metres").replace("liters", "litres"), stem.replace("meter", "metre").replace("liter", "litre")):
            names[name] = key
    names.update({"kilos": "kg", "kilo": "kg", "amperes": "a", "ampere": "a", "milliamperes": "ma", "kiloohms": "kohm", "kilo-ohms": "kohm", "kilo-ohm": "kohm",
                  "megaohms": "Mohm", "mega-ohms": "Mohm", "l": "l", "ml": "ml", "Ohm": "ohm"})
    return names


UNIT_NAMES = _unit_names()
_SYMBOLS = "|".join(sorted(map(re.escape, (u.symbol for u in UNITS.values())), key=len, reverse=True))
# "in centimeters", "in the load's kilohms", "in kg", "(kΩ)", "[cm]": a unit word after "in" (any
# case), a symbol after "in" as its own word, or a symbol in brackets.
_DESCRIBED_UNIT = re.compile(r"\bin\s+(?:the\s+)?(?:(?P<pre>[\w'-]+)\s+)?(?P<name>(?i:" + "|".join(sorted(map(re.escape, (n for n in UNIT_NAMES if len(n) > 2)), key=len, reverse=True)) + r"))(?![\w-])"
                             r"|\bin\s+(?P<insym>" + _SYMBOLS + r")(?=[\s,.;:)\]]|$)|[(\[](?P<symbol>" + _SYMBOLS + r")[)\]]")
# What turns a unit into another quantity: a rate ("km/h", "meters per second", "kilometres an
# hour"), an area or volume ("square meters"), a compound ("kilowatt-hours", "newton meters",
# "ohm meters", "milliamp hours").
_NOT_AFTER = re.compile(r"\s*(?:/|-|per\b|squared|cubed|an?\s+hour|hours?\b)", re.I)
_NOT_BEFORE = {"square", "cubic", "sq", "newton", "foot", "pound", "kilo", "watt", "amp", "volt", "ohm", "ampere"}
_NAMED_UNIT = re.compile(r"_(?P<suffix>mm|cm|km|kg|mg|ml|hz|khz|mhz|ghz|ohms|kw|grams|meters|kilometers|kilograms|volts|watts|amps)$")


def _unit_name(said: str) -> str | None:
    return UNIT_NAMES.get(said) or (UNIT_NAMES.get(said.lower()) if len(said) > 2 else None)


def unit_of(name: str, description: str) -> str | None:
    """The unit a number parameter is in, from its description ("Height in centimeters", "Weight
    in kg", "Load resistance (kΩ)") or its name's suffix (``distance_km``); None when neither names
    one, or when the unit is part of another quantity (a rate, an area, "kilowatt-hours")."""
    for match in _DESCRIBED_UNIT.finditer(description):
        said = match["name"] or match["insym"] or match["symbol"]
        pre = (match["pre"] or "").lower()
        rest = description[match.end():]
        if pre and (pre in _NOT_BEFORE or _unit_name(pre) or any(c.isdigit() for c in pre)):
            return None  # "in square meters", "in newton meters", "in 100 grams" (a serving, not a unit)
        following = re.match(r"\s*([\w]+)", rest)
        if _NOT_AFTER.match(rest) or (following and _unit_name(following[1])):
            return None
        return _unit_name(said)
    suffix = _NAMED_UNIT.search(name.lower())
    return UNIT_NAMES.get(suffix["suffix"]) if suffix else None


def _exact(v: Any) -> bool:
    """Whether ``_plain`` writes ``v`` exactly (70.123456789 is no "70.1235", 1e-05 no "1e-05")."""
    return _is_num(v) and "e" not in _plain(v) and float(_plain(v)) == v


def _say_unit(x: Any, unit: Unit) -> str:
    """ "1.5 meters", "1 meter" (a word takes the singular after exactly one; "hertz" has no other)."""
    word = unit.word[:-1] if x == 1 and unit.word.endswith("s") else unit.word
    return f"{_plain(x)} {word}"


def _converted(value: Any, unit: Unit) -> list[tuple[float, Unit]]:
    """``value`` (in ``unit``) in the other units of its dimension where it reads as people say it:
    between 0.1 and 1000, at most three decimals (12000 ohms -> 12 kΩ, 175 cm -> 1.75 m)."""
    if not _is_num(value) or value <= 0:
        return []
    out = []
    for other in UNITS.values():
        if other.dimension != unit.dimension or other is unit:
            continue
        x = round(value * unit.scale / other.scale, 9)
        if 0.1 <= x < 1000 and round(x, 3) == x:
            out.append((x, other))
    return out


def unit_forms(key: str) -> list[Form]:
    unit = UNITS[key]

    def prefixed(words: bool) -> Callable[[Any, random.Random], str | None]:
        def fn(v: Any, rng: random.Random) -> str | None:
            options = _converted(v, unit)
            if not options:
                return None
            x, other = rng.choice(options)
            return _say_unit(x, other) if words else f"{_plain(x)} {other.symbol}"
        return fn

    return [
        Form("unit.symbol", lambda v, r: f"{_plain(v)} {unit.symbol}" if _exact(v) else None),
        Form("unit.word", lambda v, r: _say_unit(v, unit) if _exact(v) else None),
        Form("unit.prefixed", prefixed(words=False)),
        Form("unit.prefixed_word", prefixed(words=True), held_out=True),
    ]


# Free text has no other form: casing is the value's own (the generator lowers some names, and the
# call copies them as typed).
CASING_FORMS: list[Form] = []


FAMILIES: dict[str, list[Form]] = {
    "date": DATE_FORMS, "time": TIME_FORMS, "minutes": MINUTE_FORMS, "days": DAY_FORMS, "money": MONEY_FORMS,
    "amount": AMOUNT_FORMS, "count": COUNT_FORMS, "percent": PERCENT_FORMS, "list": LIST_FORMS, "text": CASING_FORMS,
}
# Whole words of a parameter's name (snake_case or camelCase): "fee" in ``square_feet`` is no fee.
_MONEY_WORDS = re.compile(r"(?:^|_)(?:\w*price|\w*cost|budget|salary|fee|rent|(?:sub|grand)?total|principal|rate_per|hourly_rate|amount|spend)(?:s|ing)?(?=_|$)")
# Words that make a quantity money even when a unit is named; "amount" and "total" alone do not
# (``amount_ml``, "Amount of water in milliliters", is water).
_PRICE_WORDS = re.compile(r"(?:^|_)(?:\w*price|\w*cost|budget|salary|fee|rent|principal|rate_per|hourly_rate|spend)(?:s|ing)?(?=_|$)")
# A rent counted in months is a lease length (rent_months), not an amount of money.
_RENT_LENGTH = re.compile(r"(?:^|_)rent_(?:days|weeks|months|years)(?=_|$)|(?:^|_)(?:days|weeks|months|years)_(?:of_)?rent(?=_|$)")


def family_of(name: str, schema: dict[str, Any], tool_params: dict[str, Any] | None = None, units: bool = True) -> str | None:
    """The family of forms for a parameter, from its schema and name; None when it has none.
    ``units``: a quantity whose description names a unit is ``unit:<key>`` (else an amount or count,
    as the generator's files before physical units had it)."""
    if not isinstance(schema, dict):
        return None  # a boolean schema (true: anything, false: nothing) says no form
    kind = schema.get("type")
    description = str(schema.get("description", ""))
    lowered = f"{name} {description}".lower()
    if schema.get("enum"):
        return None  # enum values are said through the catalog's own synonyms, not re-spelled
    if kind == "string":
        if schema.get("format") == "date" or "yyyy-mm-dd" in lowered:
            return "date"
        if "hh:mm" in lowered:
            return "time"
        if schema.get("format") or schema.get("pattern"):
            return None
        return "text"
    if kind == "array":
        return "list"
    if kind not in ("integer", "number"):
        return None
    if re.search(r"\bin cents\b|\bminor units?\b|\bsmallest currency unit", lowered):
        return None  # "$17" is 1700 of these: said as the number the call takes, never as money
    if "percent" in lowered:
        return "percent"
    if "minute" in lowered:
        return "minutes" if kind == "integer" else None
    if re.search(r"\bdays?\b", lowered):
        return "days" if kind == "integer" else None
    if "year" in name.lower():
        return None
    small = isinstance(schema.get("maximum"), (int, float)) and schema["maximum"] <= 10  # a price level 1-4 is no amount
    snake, unit = _RENT_LENGTH.sub("_", "_".join(name_words(name))), unit_of(name, description)
    priced = _PRICE_WORDS.search(snake) or "price" in lowered or "usd" in lowered
    # A named unit wins over "amount" or "total" (``amount_ml`` is water), not over a price ("price
    # of a kilogram, in dollars" is a price).
    if (priced or (_MONEY_WORDS.search(snake) and unit is None)) and not small:
        has_currency = any("currency" in p.lower() or p in ("from", "to") for p in (tool_params or {}))
        return "amount" if has_currency else "money"
    if unit is not None and units:
        return f"unit:{unit}"
    if kind == "integer":
        return "count"
    return "amount"


def render(value: Any, family: str | None, rng: random.Random, split: str, codes: dict[str, list[str]] | None = None) -> tuple[str | None, str | None]:
    """(text, form name) for ``value``: a form of ``family`` that fits it, held-out forms only for
    ``split == "eval"``; (None, None) when no form fits (the caller writes the canonical text)."""
    forms = unit_forms(family[5:]) if family and family.startswith("unit:") else list(FAMILIES.get(family or "", []))
    if codes and isinstance(value, str) and value in codes:
        forms = code_forms(codes)
    allowed = [f for f in forms if split == "eval" or not f.held_out]
    if split == "eval":  # the held-out file prefers forms training never shows, where one fits
        held = [f for f in allowed if f.held_out]
        rng.shuffle(held)
        for form in held:
            if rng.random() < 0.6 and (text := form.render(value, rng)) is not None:
                return text, form.name
    rng.shuffle(allowed)
    for form in allowed:
        if (text := form.render(value, rng)) is not None:
            return text, form.name
    return None, None


# What people say instead of a value they have not given: a clarify row that holds it must ask.
VAGUE: dict[str, list[str]] = {
    "date": ["sometime soon", "one of these days", "whenever works", "on a day that suits", "at some point this season"],
    "time": ["in the afternoon", "sometime in the morning", "later on", "after work", "at a good time"],
    "minutes": ["for a while", "not too long", "for a bit"],
    "days": ["recently", "lately", "for a while back"],
    "money": ["for a reasonable price", "without breaking the bank", "at a decent price"],
    "amount": ["some amount", "a certain amount"],
    "count": ["a few", "several", "some"],
    "list": ["my numbers", "the values I have", "some data"],
}


# What people say instead of a place or a person the agent cannot know ("the same place as last
# time"): said inside the parameter's own slot phrase ("from {}"), chosen by the parameter's name.
VAGUE_TEXT: dict[str, list[str]] = {
    "person": ["my colleague", "the usual person", "the same person as last time", "someone from my team"],
    "place": ["the usual place", "the same place as last time", "the place we went before", "our usual spot"],
}
_TEXT_KINDS = {  # people first: a recipient_address is a person's
    "person": {"employee", "recipient", "attendee", "contact", "assignee", "sitter"},
    "place": {"address", "city", "destination", "dropoff", "location", "origin", "pickup", "stop", "venue"},
}
# Names that hold one of those words but no place or person: email_address, stop_loss, file_location, pickup_time.
_NOT_TEXT_KINDS = {"email", "ip", "url", "uri", "path", "folder", "file", "wallet", "time", "date", "id", "loss", "sequence", "method", "code", "number", "phone"}


def vague(family: str | None, rng: random.Random, name: str = "") -> str | None:
    """A stand-in for a missing value of ``family``; for free text, only a place or a person
    (by the parameter's ``name``): other text has no stand-in that could not be the value itself."""
    if family == "text":
        words = set(name_words(name))
        kind = None if words & _NOT_TEXT_KINDS else next((k for k, names in _TEXT_KINDS.items() if words & names), None)
        return rng.choice(VAGUE_TEXT[kind]) if kind else None
    options = VAGUE.get("amount" if (family or "").startswith("unit:") else family or "")
    return rng.choice(options) if options else None


# Unit words a slot phrase may follow its value with; dropped when the rendered form says its own unit.
_UNITS = {"minutes": r"minutes?|mins?", "days": r"days?", "percent": r"percent|%"}


def _unit_words(key: str) -> str:
    """Every name of every unit of ``key``'s dimension, as one pattern: "{} cm tall" said "1.75 m" drops its "cm"."""
    dimension = UNITS[key].dimension
    names = [n for n, k in UNIT_NAMES.items() if UNITS[k].dimension == dimension]
    return "|".join(sorted(map(re.escape, names), key=len, reverse=True))


_FUNCTION_WORDS = frozenset("a an the to in on at by for of from with as into about near under over and or "
                            "than then up down out off via per is are be".split())


# Words after a slot that end in "s" and are no plural ("{} plus tip", "{} status"), or whose
# singular is no rule's ("series", "species", "news").
_IRREGULAR = {"people": "person", "children": "child", "calories": "calorie", "movies": "movie", "cookies": "cookie"}
_NOT_PLURAL = frozenset("plus pls thanks thx status is has was this its yes bus gas lens news series species means always perhaps".split())


def singular_after_one(phrase: str, slot: str, text: str) -> str:
    """``phrase`` with the noun after ``slot`` made singular when ``text`` is one: "with 1 bedroom",
    "compounded 1 time a year", "for one person", not "1 bedrooms". A few suffix rules rather than a
    library (inflect): only catalog hints have slot phrases, and a test holds the rules to every
    noun the bundled catalogs put after a slot; a word with a capital (a unit: "Mbps") stays."""
    if text.strip().lower() not in ("1", "one", "1.0"):
        return phrase

    def one(m: re.Match[str]) -> str:
        word = m[2]
        if word in _IRREGULAR:
            return m[1] + _IRREGULAR[word]
        if word in _NOT_PLURAL or len(word) < 4 or not word.islower() or not word.endswith("s") or word.endswith(("ss", "us", "is")):
            return m[0]
        if word.endswith("ies"):  # stories, copies
            return m[1] + word[:-3] + "y"
        if word.endswith(("sses", "ches", "shes", "xes", "zes")):  # classes, inches, boxes
            return m[1] + word[:-2]
        return m[1] + word[:-1]
    return re.sub(rf"({re.escape(slot)}\s+)([A-Za-z]+)\b", one, phrase)


def fill_slot(phrase: str, text: str, family: str | None, seams: bool = True) -> str:
    """Put ``text`` into a slot phrase ("for {} minutes"), dropping the phrase's unit word when the
    text already says it ("for an hour and a half", not "for an hour and a half minutes"), and with
    ``seams`` a word beside the slot that the text starts or ends with ("for line Line 4"; plain-value
    files keep the old seams, byte for byte). The text goes in unchanged, so what a request says for
    a value can be found in it."""
    unit = _UNITS.get(family or "") or (_unit_words(family[5:]) if family and family.startswith("unit:") else None)
    says_unit = bool(unit and re.search(rf"(?:{unit})\s*$", text)) or (family == "days" and ("week" in text or "fortnight" in text)) or (family == "minutes" and ("hour" in text or re.search(r"\dh", text) is not None))
    if says_unit:
        phrase = re.sub(rf"\{{\}}\s*(?:{unit})(?!\w)", "{}", phrase)
    if re.search(r"\b(last|past) \{\}", phrase) and re.match(r"(a|one) (week|fortnight)$", text):
        phrase = re.sub(r"\b(?:in|over) the (last|past) \{\}", "for {}", phrase)  # "over the past a week" reads wrong
    last, first = (re.search(r"(\w+)\s*$", text), re.match(r"\s*(\w+)", text)) if seams else (None, None)
    # Only a content word said twice: "similar to {}" with "To Kill a Mockingbird" keeps its "to".
    last, first = (m if m and m[1].lower() not in _FUNCTION_WORDS else None for m in (last, first))
    if last:  # "as {} leave" with "personal leave": "as personal leave", not "as personal leave leave"
        phrase = re.sub(rf"\{{\}}\s+{re.escape(last[1])}(?!\w)", "{}", phrase, flags=re.I)
    if first:  # "for line {}" with "Line 4": "for Line 4"
        phrase = re.sub(rf"(?<!\w){re.escape(first[1])}\s+\{{\}}", "{}", phrase, flags=re.I)
    if seams:
        phrase = singular_after_one(phrase, "{}", text)
    return phrase.replace("{}", text)
