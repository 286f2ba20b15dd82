"""Code reads the values an answer quotes from the request: every surface form reads back to the
value the generator rendered, and an answer's call gets the reading only where it is certain."""

import datetime as dt
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tooltune.reading import read, read_number, read_values, values_in
from tooltune.schema import Tool, parse_tool_calls, split_reasoning
from tests.data.test_surface import forms_for

NUMBERS = {"type": "array", "items": {"type": "number"}}


@settings(max_examples=60, deadline=None)
@given(st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31)))
def test_every_date_form_reads_back(day):
    for name, texts in forms_for("date", day.isoformat(), range(4)).items():
        for text in texts:
            ambiguous = name == "date.us_numeric" and day.day <= 12 and day.day != day.month
            assert read(text, "date") == (None if ambiguous else day.isoformat()), (name, text)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 23), st.sampled_from([0, 5, 15, 20, 30, 45]))
def test_every_time_form_reads_back(hour, minute):
    value = f"{hour:02d}:{minute:02d}"
    for name, texts in forms_for("time", value, range(6)).items():
        for text in texts:
            assert read(text, "time") == value, (name, text)


@pytest.mark.parametrize("family, values", [
    ("minutes", [1, 15, 30, 40, 45, 60, 90, 120, 150, 180, 199]),
    ("days", [1, 3, 7, 14, 21, 30, 99]),
    ("money", [4.5, 12, 40, 99.99, 250, 1200, 1250.5, 2500, 12000, 120000, 3_400_000]),
    ("amount", [12, 250, 1200, 2500, 12000, 3_450_000]),
    ("count", [2, 4, 6, 12, 19, 45]),
    ("percent", [5, 5.5, 11.9, 20]),
])
def test_every_number_form_reads_back(family, values):
    for value in values:
        for name, texts in forms_for(family, value).items():
            for text in texts:
                assert read(text, family) == value, (name, text)


@pytest.mark.parametrize("key, values", [
    ("cm", [155, 175.5, 180, 193]), ("kg", [52, 61.5, 95]), ("g", [30, 250, 1500]), ("km", [0.8, 45, 350, 2400]),
    ("ohm", [47, 330, 12000, 2_200_000]), ("a", [0.02, 0.25, 1.5]), ("mhz", [2.4, 88.5, 2400]), ("w", [60, 1500]),
])
def test_every_unit_form_reads_back_in_the_unit_the_schema_asks_for(key, values):
    from tooltune.data.surface import unit_forms

    for value in values:
        for form in unit_forms(key):
            for seed in range(6):
                text = form.render(value, __import__("random").Random(seed))
                if text is not None:
                    assert read(text, f"unit:{key}") == value, (form.name, text)


@pytest.mark.parametrize("text, family, value", [
    ("12 kΩ", "unit:ohm", 12000), ("250 mA", "unit:a", 0.25), ("1.75 m", "unit:cm", 175), ("0.25 kg", "unit:g", 250),
    ("3.5 kilometres", "unit:m", 3500), ("2.4 GHz", "unit:mhz", 2400), ("85 kilos", "unit:kg", 85), ("193", "unit:cm", 193),
    ("5 kg", "unit:cm", None), ("5 pm", "unit:m", None),
    ("12k", "unit:ohm", 12000), ("0.3 Hz", "unit:ghz", 3e-10), ("1,500 m", "unit:km", 1.5), ("minus 2 km", "unit:m", -2000),
    # never a scale on a number already in a scaled unit, never "M" for million beside a unit
    ("1.75 M", "unit:cm", None), ("4.7M", "unit:Mohm", None), ("4.7k", "unit:kohm", None), ("5k", "unit:km", None),
    ("-" * 3000 + "5 m", "unit:cm", None), ("1" * 400 + " m", "unit:cm", None),
])
def test_quantities_as_people_write_them(text, family, value):
    assert read(text, family) == value


def test_a_reading_is_never_infinite_or_a_million_meters():
    tool = Tool.from_dict({"name": "f", "parameters": {"type": "object", "properties": {"length": {"type": "number", "description": "Length in meters"}}, "required": ["length"]}})
    for said in ("9" * 308 + " km", "5 M"):
        answer = f'<think>Tool: f. Required: length = "{said}" -> 5.</think><TOOLCALL>[{{"name": "f", "arguments": {{"length": 5}}}}]</TOOLCALL>'
        assert read_values(answer, [tool]).answer == answer


@pytest.mark.parametrize("value", [[3, 8, 11], [2, 4, 4, 5], [10.5, 12.1], [-3, 7]])
def test_every_list_form_reads_back(value):
    for name, texts in forms_for("list", value).items():
        for text in texts:
            assert read(text, "list", NUMBERS) == value, (name, text)
    assert read("apples and kale", "list", {"type": "array", "items": {"type": "string"}}) == ["apples", "kale"]


WEEK = {"type": "array", "items": {"type": "string", "enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}}


@pytest.mark.parametrize("text, family, value", [
    # forms people type that the generator does not write: am/pm after spoken words, "hrs", currency codes
    ("quarter to nine pm", "time", "20:45"), ("half past seven p.m.", "time", "19:30"), ("nine o'clock am", "time", "09:00"),
    ("quarter past one", "time", None), ("seven in the evening pm", "time", None),
    # an hour is one word ("one-ten pm" is no 23:00), "quarter to twelve pm" is 11:45 or 23:45, "a pm" no time
    ("one-ten pm", "time", None), ("quarter to twelve pm", "time", None), ("a pm", "time", None), ("7 pm pm", "time", None),
    ("2 hrs", "minutes", 120), ("1.5 hrs", "minutes", 90), ("an hr", "minutes", 60),
    # another currency is stripped only where the currency is a parameter of its own (the amount family)
    ("75 CAD", "amount", 75), ("CHF 40", "amount", 40), ("C$75", "amount", 75), ("75 ABC", "amount", None), ("ab$5", "amount", None),
    ("75 CAD", "money", None), ("$75", "money", 75), ("€40", "money", 40),
])
def test_forms_people_type_beyond_the_generators(text, family, value):
    assert read(text, family) == value


@pytest.mark.parametrize("text, value", [
    ("9 in the morning", "09:00"), ("2 in the afternoon", "14:00"), ("ten past eleven am", "11:10"), ("five after ten am", "10:05"),
    ("twenty-five past six in the evening", "18:25"), ("ten past eleven", None), ("half to seven pm", None),
    ("ten to eleven am", None), ("five to six pm", None),  # 10:50, or a range from ten to eleven?
])
def test_clock_times_as_people_say_them(text, value):
    assert read(text, "time") == value


@pytest.mark.parametrize("request_text, family, spans", [
    # a time without am or pm takes them from the time it runs to or from; a range runs forward
    ("a room from 9 to 11 am", "time", {"9": "09:00", "11 am": "11:00"}),
    ("8:30-9am please", "time", {"8:30": "08:30", "9am": "09:00"}),
    ("from 2:30-4pm", "time", {"2:30": "14:30", "4pm": "16:00"}),
    ("from noon until half past one", "time", {"noon": "12:00", "half past one": "13:30"}),
    ("quarter past one till quarter to three in the afternoon", "time", {"quarter past one": "13:15", "quarter to three in the afternoon": "14:45"}),
    ("from 11 to 1 pm", "time", {"11": "11:00", "1 pm": "13:00"}),
    ("from 9 am to 5", "time", {"9 am": "09:00", "5": "17:00"}),
    ("a meeting from ten to eleven am", "time", {"ten": "10:00", "eleven am": "11:00"}),
    ("between 2 and 4 pm", "time", {"2": "14:00", "4 pm": "16:00"}),
    ("from 10 pm to 2", "time", {"10 pm": "22:00", "2": "02:00"}),  # past midnight
    # 24-hour notation takes no half of the day from the other end; "and" makes a range only after "between"
    ("free from 08:00 to 20:00", "time", {"08:00": "08:00", "20:00": "20:00"}),
    ("from 9:00-21:00", "time", {"9:00": "09:00", "21:00": "21:00"}),
    ("a table for 2 and 7 pm", "time", {"7 pm": "19:00"}),
    # words cut short of the value they go on to state are none; a bare hour outside a range is none
    ("meet at 3:30 pm", "time", {"3:30 pm": "15:30"}),
    ("quarter to nine pm", "time", {"quarter to nine pm": "20:45"}),
    ("zone 9 at 10:00", "time", {"10:00": "10:00"}),
    ("ten past eleven", "time", {"ten past eleven": None}),  # a time, but which half of the day is open
    ("5/6/2027", "date", {"5/6/2027": None}),
    ("on July 4th, 2026 at noon", "date", {"July 4th, 2026": "2026-07-04"}),
    ("plate 4HJK221 on March 12th", "date", {}),  # no year: no date
    ("Leafs score christmas eve 2026", "date", {"christmas eve 2026": "2026-12-24"}),  # a holiday on a fixed day, with its year
    ("sunrise on New Year's Day 2027", "date", {"New Year's Day 2027": "2027-01-01"}),
    ("open on christmas eve?", "date", {}),
])
def test_the_values_a_request_states_where_it_states_them(request_text, family, spans):
    found = values_in([request_text], family)
    assert {span: value for span, value in found.items() if span in request_text and not re.match(r"(at|on|from|until|till) ", span)} == spans
    assert all(found[span.lower()] == value for span, value in spans.items())  # in lower case too, as a check may quote


def test_a_date_or_time_may_be_quoted_with_the_word_that_leads_it():
    assert values_in(["on July 4th, 2026"], "date")["on July 4th, 2026"] == "2026-07-04"
    assert values_in(["from 9 to 11 am"], "time")["from 9"] == "09:00"


def test_a_long_text_is_read_in_linear_time():
    from tooltune.reading import _word_runs

    text = "word 12 " * 1500 + "at 4 pm"
    assert len(_word_runs(text)) <= 8 * len(text.split())  # runs of at most eight words: linear, not quadratic
    assert values_in([text], "time")["4 pm"] == "16:00"


def test_words_that_state_two_values_state_none():
    assert values_in(["9 to 11 am, or 9 to 11 pm"], "time")["9"] is None
    assert values_in(["court from 9 to 11 am, dinner at 9 pm"], "time")["9"] is None  # "9" of "9 pm" is no 09:00
    assert values_in(["meet at 3:30 pm, or 2 to 3:30"], "time")["3:30"] is None


def test_a_quote_is_read_where_the_request_says_it():
    think = 'Tool: reserve_court. Required: date = "Oct 2, 2027". Optional: start_time = "9" -> "21:00".'
    court = Tool("reserve_court", "Book a court.", {"type": "object", "properties": {
        "date": {"type": "string", "description": "Date, YYYY-MM-DD."}, "start_time": {"type": "string", "description": "Start, HH:MM."}}, "required": ["date"]})
    text = answer(think, [{"name": "reserve_court", "arguments": {"date": "2027-10-02", "start_time": "21:00"}}])
    assert parse_tool_calls(read_values(text, [court], ["Oct 2, 2027 from 9 to 11 am"]).answer)[0].arguments["start_time"] == "09:00"
    assert read_values(text, [court]).answer == text  # without the request's words, "9" reads as nothing


@pytest.mark.parametrize("text, value", [
    ("weekdays", ["mon", "tue", "wed", "thu", "fri"]), ("weekends", ["sat", "sun"]), ("every day", ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
    ("saturdays", ["sat"]), ("every Monday", ["mon"]), ("Mon, Wed and Fri", ["mon", "wed", "fri"]), ("Tuesday and Thursday", ["tue", "thu"]),
    ("tues & thurs", ["tue", "thu"]), ("SAT and sun", ["sat", "sun"]), ("weekdays and saturday", ["mon", "tue", "wed", "thu", "fri", "sat"]),
    ("mondays and mondays", None), ("blue and sat", None), ("25 min", None),
    ("sat", None), ("Saturday", None),  # one day alone may be the start of "sat and sun": the call's list stands
])
def test_week_days_read_into_an_enum_of_week_days(text, value):
    assert read(text, "list", WEEK) == value


@pytest.mark.parametrize("text, days", [("three months", 90), ("a month's worth", 30), ("month's worth", 30), ("2 months", 60), ("three months' supply", 90),
                                         ("months", None), ("monthly", None), ("a fortnight", 14), ("3 weeks", 21)])
def test_lengths_in_days_people_say_in_weeks_and_months(text, days):
    assert read(text, "days") == days  # a month is 30 days, as a 30-day supply counts it


def test_a_count_of_hours_written_as_minutes_is_read_from_the_request():
    # the call wrote the count of "2 hrs" (2) for a length in minutes: the request's words say 120
    water = Tool("water", "", {"type": "object", "properties": {"zone": {"type": "integer"}, "duration_minutes": {"type": "integer", "description": "Run time in minutes"}}})
    text = answer("Tool: water. Required: zone = 8, duration_minutes = 2.", [{"name": "water", "arguments": {"zone": 8, "duration_minutes": 2}}])
    assert parse_tool_calls(read_values(text, [water], ["zone 8 for 2 hrs"]).answer)[0].arguments["duration_minutes"] == 120
    assert read_values(text, [water], ["zone 8 for 2 hrs, then 2 minutes more"]).answer == text  # 2 is said in minutes too
    assert read_values(text, [water], ["zone 8 for 2 hours or 2 weeks"]).answer != text  # weeks are no minutes
    assert read_values(text, [water], ["zone 8 for 2"]).answer == text  # nothing to read


@pytest.mark.parametrize("request_text, days", [
    ("water zone 2 on Mon, Wed and Fri", ["mon", "wed", "fri"]),  # the longest run, not "Wed and Fri"
    ("water zone 2 weekdays only", ["mon", "tue", "wed", "thu", "fri"]),
    ("water zone 2 every day", ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
    ("water zone 2 on weekends, or weekdays if it's hot", None),  # two lists: the call's stands
    ("water zone 2 on saturday", None),  # one day alone may be the start of a list
])
def test_a_list_written_bare_is_read_from_the_request(request_text, days):
    water = Tool("water", "", {"type": "object", "properties": {"zone": {"type": "integer"}, "days": WEEK}})
    text = answer('Tool: water. Required: zone = "2" -> 2. Optional: days = ["mon", "sun"].', [{"name": "water", "arguments": {"zone": 2, "days": ["mon", "sun"]}}])
    assert parse_tool_calls(read_values(text, [water], [request_text]).answer)[0].arguments["days"] == (days or ["mon", "sun"])


def test_enum_lists_read_by_their_own_values():
    colors = {"type": "array", "items": {"type": "string", "enum": ["Red", "Blue"]}}
    assert read("red and BLUE", "list", colors) == ["Red", "Blue"] and read("weekdays", "list", colors) is None
    cased = {"type": "array", "items": {"type": "string", "enum": ["Red", "red", "Blue"]}}
    assert read("Red and Blue", "list", cased) == ["Red", "Blue"] and read("RED and Blue", "list", cased) is None
    ratings = {"type": "array", "items": {"type": "integer", "enum": [1, 2, 3, 4, 5]}}
    assert read("1, 3 and 5", "list", ratings) == [1, 3, 5]


@pytest.mark.parametrize("text", ["5/6/2027", "seven o'clock", "sometime next week", "next Friday", "at 7", "Monday, March 3, 2027", "a while", ""])
def test_what_could_mean_two_things_is_no_reading(text):
    # 5/6 is May or June; "seven" is morning or evening; March 3, 2027 is a Wednesday.
    assert all(read(text, family) is None for family in ("date", "time", "minutes", "days"))


def test_numbers_in_the_forms_people_use():
    assert [read_number(t) for t in ("1,250", "2.5k", "3.4 million", "forty-five", "two and a half", "half a dozen", "minus 4", "twelve thousand")] == \
        [1250, 2500, 3_400_000, 45, 2.5, 6, -4, 12000]
    assert read_number("a few") is None


PARK = Tool("find_parking_spot", "Find parking.", {"type": "object", "properties": {
    "location": {"type": "string"},
    "arrival_time": {"type": "string", "description": "Arrival time, HH:MM 24-hour."},
    "max_hourly_rate": {"type": "number", "description": "Highest price per hour in USD."},
    "size": {"type": "string", "enum": ["compact", "large"]},
}, "required": ["location"]})
COURT = Tool("reserve_court", "Book a court.", {"type": "object", "properties": {
    "date": {"type": "string", "description": "Date, YYYY-MM-DD."},
    "duration_minutes": {"type": "integer", "description": "Length in minutes."},
}, "required": ["date"]})


def answer(think: str, calls: list[dict]) -> str:
    return f"<think>{think}</think><TOOLCALL>{json.dumps(calls)}</TOOLCALL>"


def test_hours_without_minutes_are_a_length_not_a_clock_time():
    assert read("1h", "time") is None and read("1h", "minutes") == 60 and read("18h30", "time") == "18:30"


def test_the_end_of_a_date_is_no_time():
    # "05" of "2027-12-05 to 5:30 pm" reads as no bare time running to 5:30 pm; "10-11am" still does
    assert values_in(["deliver on 2027-12-05 to 5:30 pm"], "time") == {"5:30 pm": "17:30"}
    assert values_in(["on 12/05/2027 at 10-11am"], "time")["10"] == "10:00"


def test_an_optional_value_its_check_never_names_is_left_out():
    # training's check names every value its call carries: one the call adds on its own is invented
    text = answer('Tool: find_parking_spot. Required: location = "Fenway Park". Optional: size = "large".',
                  [{"name": "find_parking_spot", "arguments": {"location": "Fenway Park", "size": "large", "max_hourly_rate": 15}}])
    reading = read_values(text, [PARK])
    assert parse_tool_calls(reading.answer)[0].arguments == {"location": "Fenway Park", "size": "large"}
    assert reading.changes == ["find_parking_spot.max_hourly_rate: 15 -> left out (its check does not name it)"]
    # a required value stays, and a check not read to its end (words training never writes) removes nothing
    bare = answer('Tool: find_parking_spot. Required: location = "Fenway Park".', [{"name": "find_parking_spot", "arguments": {"location": "Fenway Park"}}])
    assert read_values(bare, [PARK]).answer == bare
    odd = answer('Tool: find_parking_spot. Required: location = "Fenway Park", and a large one.',
                 [{"name": "find_parking_spot", "arguments": {"location": "Fenway Park", "size": "large"}}])
    assert read_values(odd, [PARK]).answer == odd


def test_a_quoted_value_the_model_converted_wrongly_is_read_by_code():
    text = answer('Tool: find_parking_spot. Required: location = "Fenway Park". Optional: arrival_time = "7:15 pm" -> "17:15".',
                  [{"name": "find_parking_spot", "arguments": {"location": "Fenway Park", "arrival_time": "17:15"}}])
    reading = read_values(text, [PARK])
    assert parse_tool_calls(reading.answer)[0].arguments == {"location": "Fenway Park", "arrival_time": "19:15"}
    assert reading.changes == ['find_parking_spot.arrival_time: "17:15" -> "19:15"']
    assert '"7:15 pm" -> "19:15"' in split_reasoning(reading.answer)[0]  # the check says what the call does


def test_each_call_reads_its_own_segment_of_the_check():
    text = answer('Tool: reserve_court. Required: date = "Oct 2, 2027" -> "2027-10-22". Optional: duration_minutes = "three hours" -> 30. '
                  'Tool: find_parking_spot. Required: location = "the club". Optional: max_hourly_rate = "twenty bucks" -> 200.',
                  [{"name": "reserve_court", "arguments": {"date": "2027-10-22", "duration_minutes": 30}},
                   {"name": "find_parking_spot", "arguments": {"location": "the club", "max_hourly_rate": 200}}])
    calls = parse_tool_calls(read_values(text, [PARK, COURT]).answer)
    assert calls[0].arguments == {"date": "2027-10-02", "duration_minutes": 180}
    assert calls[1].arguments == {"location": "the club", "max_hourly_rate": 20}


def test_an_optional_value_the_check_marks_missing_is_left_out_of_the_call():
    text = answer('Tool: reserve_court. Required: date = "Oct 2, 2027" -> "2027-10-02". Optional: duration_minutes = missing.',
                  [{"name": "reserve_court", "arguments": {"date": "2027-10-02", "duration_minutes": 60}}])
    reading = read_values(text, [COURT])
    assert parse_tool_calls(reading.answer)[0].arguments == {"date": "2027-10-02"}
    assert reading.changes == ["reserve_court.duration_minutes: 60 -> left out (the check marks it missing)"]
    # a required value marked missing is the model's question, not a value to drop from a call it made anyway
    required = answer("Tool: reserve_court. Required: date = missing.", [{"name": "reserve_court", "arguments": {"date": "2027-10-02"}}])
    assert read_values(required, [COURT]).answer == required
    # words inside a quote are the request's, not the check's: nothing is marked missing by them
    quoted = answer('Tool: reserve_court. Required: date = "Oct 2, duration_minutes = missing" -> "2027-10-02". Optional: duration_minutes = 60.',
                    [{"name": "reserve_court", "arguments": {"date": "2027-10-02", "duration_minutes": 60}}])
    assert parse_tool_calls(read_values(quoted, [COURT]).answer)[0].arguments["duration_minutes"] == 60
    # two segments for one tool and one call: which segment the call meant is unclear, so nothing is dropped
    twice = answer('Tool: reserve_court. Required: date = "Oct 2, 2027" -> "2027-10-02". Optional: duration_minutes = missing. '
                   'Tool: reserve_court. Required: date = "Oct 2, 2027" -> "2027-10-02". Optional: duration_minutes = 60.',
                   [{"name": "reserve_court", "arguments": {"date": "2027-10-02", "duration_minutes": 60}}])
    assert parse_tool_calls(read_values(twice, [COURT]).answer)[0].arguments["duration_minutes"] == 60


def test_the_call_follows_its_check():
    # training writes the call from the check: a value the call misspells, swaps or drops is the check's
    text = answer('Tool: find_parking_spot. Required: location = "Broadway". Optional: size = "large".',
                  [{"name": "find_parking_spot", "arguments": {"location": "Brodway"}}])
    reading = read_values(text, [PARK])
    assert parse_tool_calls(reading.answer)[0].arguments == {"location": "Broadway", "size": "large"}
    assert reading.changes == ['find_parking_spot.location: "Brodway" -> "Broadway" (as its check states)',
                               'find_parking_spot.size: (none) -> "large" (as its check states)']
    # a value that takes reading (money, a time, a code) is read from the check's words, not copied from it
    money = answer('Tool: find_parking_spot. Required: location = "Broadway". Optional: max_hourly_rate = 12.',
                   [{"name": "find_parking_spot", "arguments": {"location": "Broadway", "max_hourly_rate": 15}}])
    assert read_values(money, [PARK]).answer == money
    # a stated value its parameter cannot take is no value to follow: the call's stands
    typed = answer('Tool: reserve_court. Required: date = "2027-10-02". Optional: duration_minutes = "90".',
                   [{"name": "reserve_court", "arguments": {"date": "2027-10-02", "duration_minutes": 90}}])
    assert read_values(typed, [COURT]).answer == typed
    # a tool without required parameters: "Required: none." and then its optional values
    bare = Tool("get_time", "", {"type": "object", "properties": {"zone": {"type": "string", "enum": ["UTC", "CET"]}, "city": {"type": "string"}}})
    none = answer('Tool: get_time. Required: none. Optional: zone = "paris time" -> "CET", city = "Paris".',
                  [{"name": "get_time", "arguments": {"zone": "CET", "city": "Pari"}}])
    assert parse_tool_calls(read_values(none, [bare]).answer)[0].arguments == {"zone": "CET", "city": "Paris"}
    # a check in words training never writes is read up to there, no further
    odd = answer('Tool: find_parking_spot. Required: location = "Broadway", then whatever; size = "large".',
                 [{"name": "find_parking_spot", "arguments": {"location": "Broadway", "size": "compact"}}])
    assert read_values(odd, [PARK]).answer == odd


def test_following_the_check_never_makes_a_right_call_wrong():
    # (found by a hostile review) a quote of part of the call's words, or in lower case: the call's fuller value stands
    for said in ("Fenway", "fenway park"):
        text = answer(f'Tool: find_parking_spot. Required: location = "{said}".', [{"name": "find_parking_spot", "arguments": {"location": "Fenway Park"}}])
        assert read_values(text, [PARK]).answer == text
    # an enum value is one of the enum's, even where the schema itself is broken ("required": true checks nothing)
    sloppy = Tool("find_parking_spot", "", {"type": "object", "properties": {"location": {"type": "string"},
                  "size": {"type": "string", "enum": ["compact", "large"], "required": True}}, "required": ["location"]})
    big = answer('Tool: find_parking_spot. Required: location = "x". Optional: size = "big".', [{"name": "find_parking_spot", "arguments": {"location": "x", "size": "large"}}])
    assert read_values(big, [sloppy]).answer == big
    # a value cut short by a stray quote, NaN or 1e999: no value to follow; the call stays valid JSON
    free = Tool("t", "", {"type": "object", "properties": {"location": {"type": "string"}, "meta": {}}})
    for check in ('location = "the "Blue" cafe".', "location = \"the Blue cafe\". Optional: meta = NaN.", "location = \"the Blue cafe\". Optional: meta = 1e999."):
        text = answer(f"Tool: t. Required: {check}", [{"name": "t", "arguments": {"location": "the Blue cafe", "meta": 1}}])
        assert read_values(text, [free]).answer == text
    # a check nested past Python's recursion limit reads as no check, never raises
    deep = "<think>Tool: zzz. Required: a = " + "[" * 3000 + "</think><TOOLCALL>[]</TOOLCALL>"
    assert read_values(deep, [PARK]).answer == deep
    # a free check's value out of form is skipped, not the end of the reading: the later quote is still read
    off = answer('Tool: find_parking_spot. Required: location = Broadway. Optional: arrival_time = "4 pm" -> "17:00".',
                 [{"name": "find_parking_spot", "arguments": {"location": "Broadway", "arrival_time": "17:00"}}])
    assert parse_tool_calls(read_values(off, [PARK]).answer)[0].arguments["arrival_time"] == "16:00"


DONATE = Tool("donate", "Give money.", {"type": "object", "properties": {
    "charity": {"type": "string"}, "amount": {"type": "number", "description": "How much to give."},
    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}, "parcel_weight": {"type": "string"}}, "required": ["charity", "amount", "currency"]})


@pytest.mark.parametrize("think, call_currency, read_as", [
    ('charity = "Shelter", amount = "£20" -> 20, currency = "£"', "USD", "GBP"),  # its own words
    ('charity = "Shelter", amount = 10, currency = "yen"', "YEN", "JPY"),
    ('charity = "MSF", amount = "€1.5k" -> 1500, currency = "one-off"', "ONE", "EUR"),  # its words say none: the amount's do
    ('charity = "MSF", amount = "twenty-five pounds" -> 25, currency = "MSF" -> "MSF"', "MSF", "GBP"),
    ('charity = "MSF", amount = 40, currency = "dollars and euros"', "USD", "USD"),  # two: the call stands
    ('charity = "MSF", amount = 40, currency = "CAD". Optional: parcel_weight = "5 pounds"', "CAD", "CAD"),  # a weight is no money
    ('charity = "MSF", amount = "100 Singapore dollars" -> 100, currency = "SGD"', "SGD", "SGD"),  # a country's dollars are not "$"
    ('charity = "MSF", amount = "50 Egyptian pounds" -> 50, currency = "Egyptian pounds" -> "EGP"', "EGP", "EGP"),
    ('charity = "MSF", amount = "€20" -> 20, currency = ["£"]', "EUR", "EUR"),  # a value of another kind: no reading, no error
    ('charity = "MSF", amount = "€20" -> 20, currency = 5 -> "GBP"', "GBP", "EUR"),
])
def test_a_currency_is_read_from_its_sign_or_name(think, call_currency, read_as):
    text = answer(f"Tool: donate. Required: {think}.", [{"name": "donate", "arguments": {"charity": "x", "amount": 1, "currency": call_currency}}])
    assert parse_tool_calls(read_values(text, [DONATE]).answer)[0].arguments["currency"] == read_as


def test_only_a_currency_code_parameter_is_read_as_one():
    convert = Tool("convert", "Convert money.", {"type": "object", "properties": {
        "amount": {"type": "number", "description": "How much money."}, "to_currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "currency_note": {"type": "string"}}, "required": ["amount", "to_currency"]})
    text = answer('Tool: convert. Required: amount = "$100" -> 100, to_currency = "KRW". Optional: currency_note = "pounds"',
                  [{"name": "convert", "arguments": {"amount": 100, "to_currency": "KRW", "currency_note": "pounds"}}])
    assert read_values(text, [convert]).answer == text


@pytest.mark.parametrize("text, stated", [
    ("send fifty bucks to Doctors Without Borders", "USD"), ("€1.5k to MSF", "EUR"), ("C$75 to the Red Cross", "CAD"),
    ("Please give 10,000 yen to UNICEF.", "JPY"), ("12.50 USD each month", "USD"), ("CHF 40 to the WWF", "CHF"), ("£20 to Shelter", "GBP"),
    ("buy 3 pounds of flour", None), ("put twenty-five pounds towards it", None),  # "pounds" alone may weigh
    ("Give 200 to the Salvation Army", None),  # no currency said
    ("Give $5 or £3 to Oxfam", None),  # two: which one is the question
    ("donate 100 Singapore dollars", None),  # a country's dollars are not "$"
    ("in dollars please", None),  # a currency with no amount is a currency_param's own words, read from its quote
])
def test_the_currency_a_request_states_an_amount_in(text, stated):
    from tooltune.reading import currency_in

    assert currency_in([text]) == stated


@pytest.mark.parametrize("param, text, said", [
    ("zone", "water zone 8 on weekends", True), ("zone", "Zone five, 20 min", True), ("table", "table #4 please", True),
    ("party_size", "party size 4", True), ("zone", "zone 2.", True),
    ("zone", "the zone is dry", False), ("zone", "zone, 8 minutes", False), ("zone", "timezone 5", False), ("zone", "zone A1", False),
    ("zone", "zone a dozen", False),
])
def test_a_number_said_right_after_its_parameters_name(param, text, said):
    from tooltune.reading import number_after_name

    assert number_after_name(param, [text]) is said


def test_a_quoted_time_with_no_arrow_is_read_too():
    court = Tool("reserve_court", "Book a court.", {"type": "object", "properties": {
        "start_time": {"type": "string", "description": "Start, HH:MM."}}, "required": ["start_time"]})
    text = answer('Tool: reserve_court. Required: start_time = "2 in the afternoon".', [{"name": "reserve_court", "arguments": {"start_time": "20:00"}}])
    assert parse_tool_calls(read_values(text, [court], ["a court at 2 in the afternoon"]).answer)[0].arguments["start_time"] == "14:00"


def test_a_time_off_the_clock_is_read_from_the_checks_words():
    # "4 pm" written as the value in the check, "48:30" in the call: HH:MM in form, no time on a clock
    text = answer('Tool: find_parking_spot. Required: location = "the mall". Optional: arrival_time = "4 pm".',
                  [{"name": "find_parking_spot", "arguments": {"location": "the mall", "arrival_time": "48:30"}}])
    assert parse_tool_calls(read_values(text, [PARK]).answer)[0].arguments["arrival_time"] == "16:00"
    # a call value already on the clock stays: "3:30" in the check could be either half of the day
    kept = answer('Tool: find_parking_spot. Required: location = "the mall". Optional: arrival_time = "3:30".',
                  [{"name": "find_parking_spot", "arguments": {"location": "the mall", "arrival_time": "15:30"}}])
    assert read_values(kept, [PARK]).answer == kept


def test_a_span_copied_into_the_call_is_read_when_it_breaks_the_schema():
    text = '<TOOLCALL>[{"name": "reserve_court", "arguments": {"date": "the 14th of Feb 2027", "duration_minutes": "1h30"}}]</TOOLCALL>'
    assert parse_tool_calls(read_values(text, [COURT]).answer)[0].arguments == {"date": "2027-02-14", "duration_minutes": 90}


@pytest.mark.parametrize("text", [
    # right already: byte for byte the same
    answer('Tool: find_parking_spot. Required: location = "Fenway Park". Optional: arrival_time = "7:15 pm" -> "19:15".',
           [{"name": "find_parking_spot", "arguments": {"location": "Fenway Park", "arrival_time": "19:15"}}]),
    # a reading that could mean two things leaves the model's value
    answer('Tool: reserve_court. Required: date = "5/6/2027" -> "2027-06-05".', [{"name": "reserve_court", "arguments": {"date": "2027-06-05"}}]),
    # a quote that stops short of the sign: the model's value keeps it
    answer('Tool: reserve_court. Required: date = "2027-10-02". Optional: duration_minutes = "eight" -> -8.',
           [{"name": "reserve_court", "arguments": {"date": "2027-10-02", "duration_minutes": -8}}]),
    # free text and enums are never re-read
    answer('Tool: find_parking_spot. Required: location = "fenway" -> "Fenway Park". Optional: size = "big" -> "compact".',
           [{"name": "find_parking_spot", "arguments": {"location": "Fenway Park", "size": "compact"}}]),
    # a tool that is not offered, a call that is not JSON, a key given twice, no call at all
    answer('Tool: book_table. Required: time = "4 pm" -> "14:00".', [{"name": "book_table", "arguments": {"time": "14:00"}}]),
    '<think>Tool: reserve_court. Required: date = "Oct 2, 2027" -> "2027-10-22".</think><TOOLCALL>[{"name": "reserve_court", "arguments": {"date": 2027-10-22}}]</TOOLCALL>',
    '<think>Tool: reserve_court. Required: date = "Oct 2, 2027" -> "2027-10-22".</think><TOOLCALL>[{"name": "reserve_court", "arguments": {"date": "2027-10-22", "date": "x"}}]</TOOLCALL>',
    "<think>Tool: reserve_court. Required: date = missing.</think>Which day would you like?",
    # a name that is no string, calls nested past any sense
    '<TOOLCALL>[{"name": ["reserve_court"], "arguments": {"date": "Oct 2, 2027"}}]</TOOLCALL>',
    "<TOOLCALL>" + "[" * 5000 + "]" * 5000 + "</TOOLCALL>",
])
def test_anything_else_comes_back_unchanged(text):
    reading = read_values(text, [PARK, COURT])
    assert reading.answer == text and reading.changes == []


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_reads_without_raising(text):
    assert isinstance(read_values(text, [PARK, COURT]).answer, str)
    for family in ("date", "time", "minutes", "days", "money", "count", "percent", "list"):
        read(text, family, NUMBERS)


@pytest.mark.parametrize("parameters", [
    {"type": "object", "properties": []},
    {"type": "object", "properties": {"date": "a string"}},
    {"type": "object", "properties": {"date": {"type": ["string", "null"], "description": 7, "maximum": "x"}}},
    {"type": "object", "properties": {"date": {"type": "string", "description": "YYYY-MM-DD", "pattern": "("}}},
])
def test_a_clients_odd_schema_never_breaks_reading(parameters):
    text = answer('Tool: f. Required: date = "Oct 2, 2027" -> "2027-10-22".', [{"name": "f", "arguments": {"date": "2027-10-22"}}])
    assert isinstance(read_values(text, [Tool("f", "", parameters)]).answer, str)


STOCK = Tool("get_stock_price", "", {"type": "object", "properties": {"ticker": {"type": "string", "description": "Ticker symbol"},
                                                                       "company": {"type": "string", "description": "Company name"}}})


@pytest.mark.parametrize("said, code", [("Shopify (SHOP)", "SHOP"), ("Rio Tinto, RIO", "RIO"), ("BRK.B (Berkshire Hathaway)", "BRK.B")])
def test_a_code_said_with_its_name_reads_as_the_code(said, code):
    from tooltune.data.surface import code_forms

    text = f'<TOOLCALL>{json.dumps([{"name": "get_stock_price", "arguments": {"ticker": said, "company": said}}])}</TOOLCALL>'  # no check
    arguments = parse_tool_calls(read_values(text, [STOCK]).answer)[0].arguments
    assert arguments == {"ticker": code, "company": said}  # a name field keeps its words
    for form in code_forms({"SHOP": ["Shopify"]}):  # every code form the generator writes
        assert read(form.render("SHOP", __import__("random").Random(0)), "code") == "SHOP"
    assert read("Toyota", "code") is None and read("AAPL", "code") is None


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=8)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.fixed_dictionaries({"name": st.sampled_from(["reserve_court", "find_parking_spot", "other"]) | JSON,
                                       "arguments": st.dictionaries(st.sampled_from(["date", "duration_minutes", "arrival_time", "max_hourly_rate", "location"]), JSON)}),
                max_size=3),
       st.text(max_size=80))
def test_any_call_with_any_values_reads_without_raising(calls, said):
    text = f'<think>Tool: reserve_court. Required: date = {json.dumps(said)} -> "x".</think><TOOLCALL>{json.dumps(calls)}</TOOLCALL>'
    reading = read_values(text, [PARK, COURT])
    assert isinstance(reading.answer, str) and (reading.changes or reading.answer == text)


GARAGE = Tool(name="schedule_car_service", parameters={"type": "object", "properties": {
    "service": {"type": "string", "enum": ["oil_change", "tire_rotation", "battery_check", "brake_inspection"]},
    "plate": {"type": "string"}}, "required": ["service"]})


@pytest.mark.parametrize("request_text, called, read_as", [
    ("can someone test the battery? plate ABC-1", "tire_rotation", "battery_check"),  # the one value the request says
    ("rotate the tires and test the battery", "tire_rotation", "tire_rotation"),  # it says the call's value too
    ("the car won't start", "tire_rotation", "tire_rotation"),  # it says no value: the model's stands
    ("check the brakes or the oil, whichever", "tire_rotation", "tire_rotation"),  # two values: which one?
    ("the wheels wobble, it's not the battery", "tire_rotation", "tire_rotation"),  # said after a negation
])
def test_an_enum_value_the_request_never_says_reads_as_the_one_it_does(request_text, called, read_as):
    from tooltune.reading import ToolResult

    text = json.dumps([{"name": "schedule_car_service", "arguments": {"service": called}}])
    answer = f"<TOOLCALL>{text}</TOOLCALL>"
    assert parse_tool_calls(read_values(answer, [GARAGE], [request_text]).answer)[0].arguments["service"] == read_as
    # a tool result's words are not the user's
    assert read_values(answer, [GARAGE], ["service my car", ToolResult(request_text)]).answer == answer


def test_an_enum_value_the_check_read_or_a_code_is_not_reread():
    text = json.dumps([{"name": "schedule_car_service", "arguments": {"service": "tire_rotation"}}])
    read_it = f'<think>Tool: schedule_car_service. Required: service = "wheels wobble" -> "tire_rotation".</think><TOOLCALL>{text}</TOOLCALL>'
    assert read_values(read_it, [GARAGE], ["the wheels wobble, test the battery too"]).answer == read_it  # the model mapped its words
    twice = json.dumps([{"name": "schedule_car_service", "arguments": {"service": "oil_change"}}] * 2)
    assert read_values(f"<TOOLCALL>{twice}</TOOLCALL>", [GARAGE], ["test the battery"]).answer == f"<TOOLCALL>{twice}</TOOLCALL>"  # whose words?
    fx = Tool(name="convert", parameters={"type": "object", "properties": {"from_currency": {"type": "string", "enum": ["USD", "EUR"]},
                                                                       "to_currency": {"type": "string", "enum": ["USD", "EUR"]}}})
    call = '<TOOLCALL>[{"name": "convert", "arguments": {"from_currency": "USD", "to_currency": "EUR"}}]</TOOLCALL>'
    assert read_values(call, [fx], ["convert $50 to EUR"]).answer == call  # codes are not words to match


def test_a_length_of_time_from_a_few_allowed_reads_in_its_unit():
    refill = Tool(name="refill", parameters={"type": "object", "properties": {
        "rx": {"type": "string"}, "supply_days": {"type": "integer", "enum": [30, 60, 90], "description": "Days of medication"}}, "required": ["rx"]})
    check = '<think>Tool: refill. Required: rx = "RX-1". Optional: supply_days = "three months" -> 3.</think>'
    answer = check + '<TOOLCALL>[{"name": "refill", "arguments": {"rx": "RX-1", "supply_days": 30}}]</TOOLCALL>'
    assert parse_tool_calls(read_values(answer, [refill], ["refill RX-1, three months' supply"]).answer)[0].arguments["supply_days"] == 90
    odd = answer.replace("three months", "five weeks")  # 35 days is none of the three: the model's value stands
    assert parse_tool_calls(read_values(odd, [refill], ["refill RX-1, five weeks"]).answer)[0].arguments["supply_days"] == 30


@pytest.mark.parametrize("a, b, same", [
    ("month", "monthly", True), ("notify", "notification", True), ("rain", "raining", True),
    ("trim", "trimmed", True), ("wrap", "wrapping", True), ("plan", "planner", True),  # a doubled last consonant
    ("count", "country", False), ("pollutant", "polluted", False), ("trim", "trimmest", False),
    ("book", "booked", True), ("need", "needle", False),
    ("shuffle", "shuffling", True), ("store", "stored", True), ("store", "story", False), ("state", "station", False),  # a final "e" dropped
])
def test_one_word_in_two_forms(a, b, same):
    from tooltune.reading import _same_word

    assert _same_word(a, b) is same and _same_word(b, a) is same


def test_codes_are_no_enum_of_words():
    """Currency codes are not words a request says: neither the enum reading nor the own-words rule takes them."""
    from tooltune.reading import enum_said, own_words

    convert = Tool(name="convert_currency", parameters={"type": "object", "properties": {
        "to": {"type": "string", "enum": ["USD", "EUR"]}, "mode": {"type": "string", "enum": ["spot", "forward"]}}, "required": ["to"]})
    assert enum_said(convert, "to", {"usd"}) is None and enum_said(convert, "mode", {"forward"}) == "forward"
    assert own_words(convert, ["convert this to USD"]) == ()  # no required enum of words: nothing to hold
