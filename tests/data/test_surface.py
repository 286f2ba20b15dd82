"""Every surface form reads back to the value the call needs.

Each family is checked with a reader written independently of the renderer (dateutil for dates
and clock times, small parsers here for the rest), over many values and random draws, so a form
that says a different value than the ground truth fails here before it reaches training data.
"""

import datetime as dt
import random
import re

import pytest
from dateutil import parser as dateparser
from hypothesis import given, settings
from hypothesis import strategies as st

from tooltune.data.surface import FAMILIES, code_forms, family_of, fill_slot, render

WORDS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split())}
WORDS.update({w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if i > 1})


def words_to_int(text: str) -> int:
    total = 0
    for part in text.replace("-", " ").split():
        if part == "hundred":
            total *= 100
        else:
            total += WORDS[part]
    return total


def read_number(text: str) -> float:
    """'$2.5K' -> 2500, '3.4 million' -> 3400000, '€1,200' -> 1200, 'forty bucks' -> 40."""
    body = re.sub(r"[$€£]|\b(dollars|bucks)\b", "", text).strip()
    scale = 1
    if re.search(r"[kK]$", body):
        body, scale = body[:-1], 1000
    elif re.search(r"\b(million|mil)$", body):
        body, scale = re.sub(r"\s*(million|mil)$", "", body), 1_000_000
    body = body.replace(",", "").strip()
    value = float(body) if re.fullmatch(r"[\d.]+", body) else words_to_int(body)
    return round(value * scale, 6)


def read_time(text: str) -> str:
    spoken = {"noon": "12:00", "midnight": "00:00"}
    if text in spoken:
        return spoken[text]
    match = re.fullmatch(r"(\d+)h(\d\d)", text)
    if match:
        return f"{int(match[1]):02d}:{match[2]}"
    match = re.fullmatch(r"(half past|quarter past|quarter to)? ?([a-z]+)(?: o'clock)? in the (morning|afternoon|evening)|(?:(half past|quarter past|quarter to) )?([a-z]+)(?: o'clock)? at night", text)
    if match:
        lead, word, part = (match[1], match[2], match[3]) if match[2] else (match[4], match[5], "night")
        hour = WORDS[word]
        minute = {"half past": 30, "quarter past": 15, "quarter to": 45, None: 0}[lead]
        if lead == "quarter to":
            hour -= 1
        if part in ("afternoon", "evening", "night") and hour != 12:
            hour += 12
        if part == "morning" and hour == 12:
            hour = 0
        return f"{hour % 24:02d}:{minute:02d}"
    return dateparser.parse(text.replace(".", "")).strftime("%H:%M")


def read_minutes(text: str) -> int:
    if text == "half an hour":
        return 30
    match = re.fullmatch(r"(\d+)h(\d\d)?", text)
    if match:
        return int(match[1]) * 60 + int(match[2] or 0)
    match = re.fullmatch(r"(.+?) (minutes|min|mins)", text)
    if match:
        return int(match[1]) if match[1].isdigit() else words_to_int(match[1])
    match = re.fullmatch(r"(an|one|1|[a-z]+|\d+(?:\.5)?) hours?( and a half)?", text)
    assert match, text
    head = match[1]
    hours = 1.0 if head in ("an", "one", "1") else float(head) if head[0].isdigit() else words_to_int(head)
    return int(hours * 60 + (30 if match[2] else 0))


def read_days(text: str) -> int:
    if text == "a fortnight":
        return 14
    number, unit = text.rsplit(" ", 1)
    count = 1 if number in ("a", "one") else words_to_int(number)
    return count * (7 if unit.startswith("week") else 1)


def read_list(text: str) -> list[str]:
    return [p for p in re.split(r",\s*(?:and\s+)?|\s+and\s+|\s*&\s*|\s+plus\s+|\s+", text) if p] if re.fullmatch(r"[\d.,&\s]+|[\d.\s]+(?:plus [\d.\s]+)+|[\d., ]+and [\d.]+", text) else [p for p in re.split(r",\s*(?:and\s+)?|\s+and\s+|\s*&\s*|\s+plus\s+", text) if p]


def forms_for(family: str, value, seeds=range(40)):
    """Every (form, text) a family writes for ``value`` over many draws, held-out forms included."""
    seen = {}
    for form in FAMILIES[family]:
        for seed in seeds:
            text = form.render(value, random.Random(seed))
            if text is not None:
                seen.setdefault(form.name, set()).add(text)
    return seen


dates = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31))


@settings(max_examples=60, deadline=None)
@given(dates)
def test_every_date_form_reads_back_to_the_iso_date(day):
    value = day.isoformat()
    forms = forms_for("date", value, range(4))
    assert len(forms) == len(FAMILIES["date"])  # every date form fits every date
    for name, texts in forms.items():
        for text in texts:
            parsed = dateparser.parse(text.replace("the ", "").replace(" of ", " "), fuzzy=True).date()
            assert parsed == day, (name, text)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 23), st.sampled_from([0, 5, 15, 20, 30, 45]))
def test_every_time_form_reads_back_to_hh_mm(hour, minute):
    value = f"{hour:02d}:{minute:02d}"
    for name, texts in forms_for("time", value, range(6)).items():
        for text in texts:
            assert read_time(text) == value, (name, text)


@pytest.mark.parametrize("value", [15, 30, 40, 45, 60, 90, 120, 150, 180])
def test_every_minutes_form_reads_back_to_minutes(value):
    for name, texts in forms_for("minutes", value).items():
        for text in texts:
            assert read_minutes(text) == value, (name, text)


@pytest.mark.parametrize("value", [1, 3, 7, 14, 21, 30])
def test_every_days_form_reads_back_to_days(value):
    for name, texts in forms_for("days", value).items():
        for text in texts:
            assert read_days(text) == value, (name, text)


@pytest.mark.parametrize("value", [4.5, 12, 40, 99.99, 250, 1200, 2500, 12000, 120000, 3_400_000])
@pytest.mark.parametrize("family", ["money", "amount"])
def test_every_money_and_amount_form_reads_back_to_the_number(family, value):
    forms = forms_for(family, value)
    assert forms or (family == "amount" and not float(value).is_integer())  # a plain 4.5 has no other form
    for name, texts in forms.items():
        for text in texts:
            assert read_number(text) == value, (name, text)


@pytest.mark.parametrize("value", [2, 4, 6, 12, 19, 45])
def test_every_count_form_reads_back_to_the_count(value):
    for name, texts in forms_for("count", value).items():
        for text in texts:
            expected = {"a dozen": 12, "half a dozen": 6}.get(text)
            assert (expected if expected is not None else words_to_int(text)) == value, (name, text)


@pytest.mark.parametrize("value", [5, 5.5, 11.9, 20])
def test_every_percent_form_reads_back_to_the_percentage(value):
    for name, texts in forms_for("percent", value).items():
        for text in texts:
            assert float(re.sub(r"%| percent| per cent", "", text)) == value, (name, text)


@pytest.mark.parametrize("value", [[3, 8, 11], [2, 4, 4, 5], [10.5, 12.1], ["apples", "kale"], ["Spanish", "French", "German"]])
def test_every_list_form_reads_back_to_the_list(value):
    for name, texts in forms_for("list", value).items():
        for text in texts:
            items = read_list(text)
            assert items == [str(v) if not isinstance(v, float) else f"{v:g}" for v in value], (name, text)


def test_codes_said_with_their_names_keep_the_code():
    names = {"SHOP": ["Shopify"], "SFO": ["San Francisco"]}
    for code in names:
        for form in code_forms(names):
            text = form.render(code, random.Random(0))
            assert re.search(rf"\b{code}\b", text) and names[code][0] in text


def test_training_never_uses_a_held_out_form():
    rng = random.Random(0)
    held = {f.name for forms in FAMILIES.values() for f in forms if f.held_out}
    assert held  # every family but casing and counts has some
    for family, value in [("date", "2027-02-14"), ("time", "19:30"), ("minutes", 90), ("days", 14), ("money", 2500), ("list", [3, 8, 11]), ("count", 12)]:
        for _ in range(200):
            _, form = render(value, family, rng, "train")
            assert form not in held
    eval_forms = {render("2027-02-14", "date", rng, "eval")[1] for _ in range(50)}
    assert eval_forms & held


@pytest.mark.parametrize("name,schema,family", [
    ("date", {"type": "string", "description": "Date, YYYY-MM-DD"}, "date"),
    ("start_time", {"type": "string", "description": "Start time, HH:MM"}, "time"),
    ("duration_minutes", {"type": "integer", "description": "Length in minutes"}, "minutes"),
    ("days", {"type": "integer", "description": "How many days back to look"}, "days"),
    ("max_price", {"type": "number", "description": "Maximum bottle price"}, "money"),
    ("annual_rate", {"type": "number", "description": "Annual interest rate in percent"}, "percent"),
    ("passengers", {"type": "integer", "description": "Number of people"}, "count"),
    ("numbers", {"type": "array", "items": {"type": "number"}}, "list"),
    ("year", {"type": "integer", "description": "Calendar year"}, None),
    ("price_range", {"type": "string", "enum": ["budget", "upscale"]}, None),
    ("height_cm", {"type": "number", "description": "Height in centimeters"}, "unit:cm"),
    ("load", {"type": "number", "description": "Load resistance (kΩ)"}, "unit:kohm"),
    ("current", {"type": "number", "description": "Current in amperes"}, "unit:a"),
    ("distance_km", {"type": "number", "description": "How far to go"}, "unit:km"),
    ("serving", {"type": "number", "description": "Serving size in grams; 100 g if omitted"}, "unit:g"),
    ("temperature", {"type": "number", "description": "Target temperature in degrees Celsius"}, "amount"),
    ("area", {"type": "number", "description": "Floor area in square meters"}, "amount"),  # an area is no length
    ("speed", {"type": "number", "description": "Speed in meters per second"}, "amount"),
    ("capacity", {"type": "number", "description": "Battery capacity in mAh"}, "amount"),
    # money words are whole words of the name: no fee in square_feet, no cost in a costume
    ("square_feet", {"type": "integer", "description": "Living area in square feet"}, "count"),
    ("costume_count", {"type": "integer"}, "count"),
    ("amount_ml", {"type": "integer", "description": "Amount of water in milliliters"}, "unit:ml"),  # water, not dollars
    ("maxPrice", {"type": "number"}, "money"),
    ("total_fees", {"type": "number"}, "money"),
    ("subtotal", {"type": "number"}, "money"),
    ("totalcost", {"type": "number"}, "money"),
    ("coffee_count", {"type": "integer"}, "count"),
    ("rent_months", {"type": "integer", "description": "Lease length"}, "count"),
    ("max_rent", {"type": "number", "description": "Highest monthly rent"}, "money"),
])
def test_family_comes_from_the_schema(name, schema, family):
    assert family_of(name, schema) == family


@pytest.mark.parametrize("description, unit", [
    ("Weight in kg", "kg"), ("Height of the wall (in m)", "m"), ("Height [cm]", "cm"), ("R1 in kilo-ohms", "kohm"), ("Power in kW", "kw"),
    # part of another quantity, or no unit at all
    ("Energy used in kilowatt-hours", None), ("Battery capacity in milliamp hours", None), ("Torque in newton meters", None),
    ("Top speed in kilometres an hour", None), ("Calories in 100 grams of the food", None), ("Reading of the meter", None),
    ("Resistivity in ohm meters", None), ("Results in A-Z order", None),
])
def test_the_unit_a_description_names(description, unit):
    from tooltune.data.surface import unit_of

    assert unit_of("x", description) == unit


def test_a_price_per_unit_is_a_price_and_unit_words_are_exact():
    from tooltune.data.surface import unit_forms

    assert family_of("price", {"type": "number", "description": "Price of a kilogram of coffee, in dollars"}) == "money"
    said = {form.name: form.render(1000, random.Random(0)) for form in unit_forms("kw")}
    assert said["unit.prefixed"] == "1 MW" and said["unit.prefixed_word"] == "1 megawatt"  # one megawatt, not "1 megawatts"
    assert all(form.render(70.123456789, random.Random(0)) is None for form in unit_forms("kg"))  # never "70.1235 kg"


def test_units_are_a_family_only_when_asked_for():
    """The generator's files before physical units keep their amounts (``units=False``)."""
    assert family_of("height_cm", {"type": "number", "description": "Height in centimeters"}, units=False) == "amount"
    assert family_of("amount_ml", {"type": "integer", "description": "Amount of water in milliliters"}, units=False) == "count"  # never "200 dollars"


def test_amounts_beside_a_currency_parameter_carry_no_currency_sign():
    params = {"amount": {"type": "number"}, "from": {"type": "string"}, "to": {"type": "string"}}
    assert family_of("amount", params["amount"], params) == "amount"
    for texts in forms_for("amount", 2500).values():
        assert not any(sign in t for t in texts for sign in "$€£")


def test_a_slot_phrase_drops_its_unit_when_the_form_says_one():
    assert fill_slot("for {} minutes", "an hour and a half", "minutes") == "for an hour and a half"
    assert fill_slot("for {} minutes", "forty minutes", "minutes") == "for forty minutes"
    assert fill_slot("for {} minutes", "40", None) == "for 40 minutes"
    assert fill_slot("in the last {} days", "a week", "days") == "for a week"
    assert fill_slot("over the past {} days", "two weeks", "days") == "over the past two weeks"
    assert fill_slot("at {}% a year", "5.5 percent", "percent") == "at 5.5 percent a year"
    assert fill_slot("as {} leave", "personal leave", None) == "as personal leave"  # a synonym that says the slot's word
    assert fill_slot("as {} leave", "personal", None) == "as personal leave"
    assert fill_slot("for line {}", "Line 4", None) == "for Line 4"  # the value says the slot's word first
    assert fill_slot("similar to {}", "To Kill a Mockingbird", None) == "similar to To Kill a Mockingbird"  # a function word stays


def test_money_is_written_with_its_cents_and_its_sign_first():
    from tooltune.data.surface import _as_is, _cents, _thousands, _with_sign

    assert [_cents(v) for v in (132.5, 132, 0.5, 1000.005, 1234567.891)] == ["132.50", "132", "0.50", "1000.005", "1234567.891"]
    assert _thousands(2500.5, None) == "2,500.50" and _with_sign("$", _as_is)(-12.5, None) == "-$12.50"


def test_a_place_or_person_stand_in_only_for_a_name_that_means_one():
    import random

    from tooltune.data.surface import VAGUE_TEXT, vague

    rng = random.Random(0)
    for name in ("origin", "pickupLocation", "dropoff", "city"):
        assert vague("text", rng, name) in VAGUE_TEXT["place"], name
    for name in ("recipient", "recipient_address", "employee"):
        assert vague("text", rng, name) in VAGUE_TEXT["person"], name
    for name in ("email_address", "ip_address", "stop_loss", "file_location", "pickup_time", "destination_folder", "title", "query"):
        assert vague("text", rng, name) is None, name
