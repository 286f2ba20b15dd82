import json

import pytest

from tooltune.rewards import score_reference, score_strict
from tooltune.rewards.arguments import compare_value
from tests.conftest import STDDEV, WEATHER

SF = json.dumps([{"name": "get_weather_forecast", "arguments": {"location": "San Francisco"}}])
ASK = "Which location would you like the weather forecast for?"
REFUSAL = "I'm sorry, but I can't help with that."
STD_GT = json.dumps([{"name": "calculate_standard_deviation", "arguments": {"numbers": [10, 20, 30, 40, 50]}}])


def call(name, **arguments):
    return "<TOOLCALL>" + json.dumps([{"name": name, "arguments": arguments}]) + "</TOOLCALL>"


def test_seed_get_weather_for_san_francisco_is_a_call():
    response = call("get_weather_forecast", location="San Francisco")
    assert score_reference(response, SF).value == 1.0
    assert score_strict(response, SF, [WEATHER]).value == 1.0


def test_seed_get_the_weather_is_a_clarify():
    asked = "Sure — which city should I get the forecast for? What location?"
    called = call("get_weather_forecast", location="New York")
    assert score_reference(asked, ASK).value == 1.0
    assert score_reference(called, ASK).value == 0.0
    assert score_strict(asked, ASK, [WEATHER], "clarify").value == 1.0
    assert score_strict(called, ASK, [WEATHER], "clarify").value == 0.0


def test_seed_standard_deviation_near_miss():
    near = call("calculate_standard_deviation", numbers="10, 20, 30, 40, 50")
    assert score_reference(near, STD_GT).value == 0.5
    strict = score_strict(near, STD_GT, [STDDEV]).value
    assert 0.5 < strict < 1.0
    assert score_strict(near, STD_GT, [STDDEV]).failure == "wrong_argument_type"


def test_reference_tiers():
    two = json.dumps([{"name": "a", "arguments": {"x": 1}}, {"name": "b", "arguments": {}}])
    assert score_reference(call("a", x=2), json.dumps([{"name": "a", "arguments": {"x": 1}}])).value == 0.5
    assert score_reference(call("a", x=1), two).value == 0.5  # name sets overlap
    assert score_reference(call("c", x=1), two).value == 0.0
    assert score_reference("no call here", two).value == 0.0
    assert score_reference(call("a", x=1.0), json.dumps([{"name": "a", "arguments": {"x": 1}}])).value == 1.0  # JSON equality


def test_reference_gives_free_credit_that_strict_does_not():
    chat = "The weather is nice today."
    assert score_reference(chat, ASK).value == 1.0
    assert score_reference(chat, REFUSAL).value == 1.0
    assert score_strict(chat, ASK, [WEATHER], "clarify").value == 0.0
    assert score_strict(chat, REFUSAL, [WEATHER], "refuse").value == 0.0
    assert score_strict(REFUSAL, ASK, [WEATHER], "clarify").value == 0.0  # a refusal is not a question
    assert score_strict(ASK, REFUSAL, [WEATHER], "refuse").value == 0.0  # a question is not a refusal
    assert score_strict(REFUSAL, REFUSAL, [WEATHER], "refuse").value == 1.0


def test_strict_clarify_bonus_for_naming_the_missing_parameter():
    vague = "Could you give me a bit more detail?"
    assert score_strict(vague, ASK, [WEATHER], "clarify").value == pytest.approx(0.7)
    assert score_strict("What location do you mean?", ASK, [WEATHER], "clarify").value == 1.0
    assert score_strict("Which days?", "x", [WEATHER], "clarify", missing=["location"]).value == pytest.approx(0.7)


@pytest.mark.parametrize(
    "arguments, expected",
    [
        ({"location": "  san francisco "}, 1.0),  # normalized case and whitespace
        ({"location": "San Francisco", "units": "celsius"}, 1.0),  # stating the default is harmless
        ({"location": "San Francisco", "units": "fahrenheit"}, 0.25 + 0.75 * 0.5),  # invented optional value
        ({"location": "San Francisco", "cuisine": "thai"}, 0.25 + 0.75 * 0.5),  # unknown argument
        ({"location": "Oakland"}, 0.25),
        ({}, 0.25),  # missing required argument
    ],
)
def test_strict_argument_credit(arguments, expected):
    assert score_strict(call("get_weather_forecast", **arguments), SF, [WEATHER]).value == pytest.approx(expected)


def test_strict_extra_and_wrong_calls():
    twice = "<TOOLCALL>" + json.dumps([{"name": "get_weather_forecast", "arguments": {"location": "San Francisco"}}] * 2) + "</TOOLCALL>"
    assert score_strict(twice, SF, [WEATHER]).value == pytest.approx(0.5)
    assert score_strict(call("calculate_standard_deviation", numbers=[1]), SF, [WEATHER]).value == 0.0
    assert score_strict(ASK, SF, [WEATHER]).failure == "asked_instead_of_calling"
    assert score_strict("<TOOLCALL>[{oops</TOOLCALL>", SF, [WEATHER]).failure == "malformed_call"


@pytest.mark.parametrize(
    "expected, got, credit",
    [
        (5, 5.0, 1.0),
        (5, "5", 0.5),
        ("5", 5, 0.5),
        (True, 1, 0.0),
        (True, "true", 0.5),
        ([10, 20, 30], "10, 20, 30", 0.5),
        ([10, 20, 30], [30, 20, 10], 0.5),
        (["Paris", "Rome"], "paris, rome", 0.5),
        ({"a": 1, "b": 2}, {"a": 1, "b": 3}, 0.5),
        ("EUR", "eur ", 1.0),
        ("EUR", "USD", 0.0),
    ],
)
def test_compare_value(expected, got, credit):
    assert compare_value(expected, got) == pytest.approx(credit)


def test_parallel_calls_pair_up_in_any_order_with_partial_credit():
    """"Weather in Paris and Rome": two calls of one tool; the answer's order does not matter."""
    truth = json.dumps([{"name": "get_weather_forecast", "arguments": {"location": "Paris"}}, {"name": "get_weather_forecast", "arguments": {"location": "Rome"}}])
    both = lambda *cities: "<TOOLCALL>" + json.dumps([{"name": "get_weather_forecast", "arguments": {"location": c}} for c in cities]) + "</TOOLCALL>"
    assert score_strict(both("Rome", "Paris"), truth, [WEATHER]).value == 1.0
    assert score_reference(both("Rome", "Paris"), truth, [WEATHER]).value == 1.0
    one = score_strict(both("Rome"), truth, [WEATHER])
    assert one.value == pytest.approx(0.5) and one.failure == "wrong_tool"  # one of two calls: half the row
    wrong = score_strict(both("Rome", "Oslo"), truth, [WEATHER]).value
    assert 0.5 < wrong < 1.0  # Rome exact, the other call right tool but wrong city
