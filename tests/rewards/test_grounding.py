"""The grounded check: a call's values come from the request, judged without a reference answer."""

import json
import random

import pytest

from tooltune.data.generate import GenerateConfig, generate
from tooltune.data.records import read_records
from tooltune.reading import quote_sources, read_number
from tooltune.rewards import BUILTIN_REWARDS, grounded_reward, grounding, score_grounded, score_record
from tooltune.schema import Tool, format_tool_calls, parse_tool_calls

BOOK = Tool("book_table", "Book a restaurant table.", {"type": "object", "properties": {
    "restaurant": {"type": "string", "description": "Restaurant name"},
    "date": {"type": "string", "format": "date", "description": "Date, YYYY-MM-DD"},
    "time": {"type": "string", "description": "Time, HH:MM (24-hour)"},
    "party_size": {"type": "integer", "minimum": 1, "maximum": 20},
    "seating": {"type": "string", "enum": ["indoor", "outdoor", "bar"]},
    "high_chair": {"type": "boolean"},
    "notes": {"type": "string", "description": "Anything the restaurant should know"},
}, "required": ["restaurant", "date", "time", "party_size"]})
QUOTE = Tool("get_stock_quote", "Latest price of a stock.", {"type": "object", "properties": {
    "ticker": {"type": "string", "description": "Stock ticker symbol, e.g. AAPL"},
    "budget": {"type": "number", "description": "Budget in USD"},
}, "required": ["ticker"]})


def call(name, **arguments):
    return "<TOOLCALL>" + json.dumps([{"name": name, "arguments": arguments}]) + "</TOOLCALL>"


def verdicts(answer, tools, text):
    found = grounding(answer, tools, [text])
    return {path.split(".", 1)[1]: verdict for verdict in ("grounded", "invented", "unchecked", "invalid") for path in getattr(found, verdict)}


def test_values_said_the_way_people_write_them_are_grounded():
    text = "Table for four at Luigi's on the 14th of Feb 2027 at half past seven in the evening, outside if you can"
    answer = call("book_table", restaurant="Luigi's", date="2027-02-14", time="19:30", party_size=4, seating="outdoor", high_chair=False)
    assert verdicts(answer, [BOOK], text) == {"restaurant": "grounded", "date": "grounded", "time": "grounded", "party_size": "grounded",
                                              "seating": "unchecked", "high_chair": "unchecked"}  # "outside" for outdoor, a yes/no: not read
    text = "What's Shopify (SHOP) at? I have $120k to put in."
    assert verdicts(call("get_stock_quote", ticker="SHOP", budget=120000), [QUOTE], text) == {"ticker": "grounded", "budget": "grounded"}


def test_a_value_the_request_never_gives_is_invented():
    text = "Book Luigi's for 2 on 2027-02-14 at 19:30"
    assert verdicts(call("book_table", restaurant="Luigi's", date="2027-02-15", time="19:30", party_size=2), [BOOK], text)["date"] == "invented"
    assert verdicts(call("book_table", restaurant="Luigi's", date="2027-02-14", time="20:00", party_size=2), [BOOK], text)["time"] == "invented"
    added = verdicts(call("book_table", restaurant="Luigi's", date="2027-02-14", time="19:30", party_size=2, notes="window seat please"), [BOOK], text)
    assert added["notes"] == "invented"  # an optional value nobody asked for
    assert verdicts(call("get_stock_quote", ticker="SHOP"), [QUOTE], "What's Shopify trading at?")["ticker"] == "invented"
    assert verdicts(call("book_table", restaurant="Luigi's", date="Feb 14", time="19:30", party_size=2), [BOOK], text)["date"] == "invalid"


def test_words_that_say_two_things_ground_either_and_defaults_ground_themselves():
    text = "Book Luigi's for 2 on 6/11/2027 at ten past eleven"
    for date, time in (("2027-06-11", "11:10"), ("2027-11-06", "23:10")):
        assert set(verdicts(call("book_table", restaurant="Luigi's", date=date, time=time, party_size=2), [BOOK], text).values()) == {"grounded"}
    tool = Tool("t", "", {"type": "object", "properties": {"units": {"type": "string", "default": "metric"}}})
    assert verdicts(call("t", units="metric"), [tool], "anything")["units"] == "grounded"


def test_a_tool_result_grounds_the_next_call():
    conversation = [{"role": "system", "content": "tools: AAPL MSFT"}, {"role": "user", "content": "Quote the stock my last order bought"},
                    {"role": "assistant", "content": "<TOOLCALL>[]</TOOLCALL>"}, {"role": "tool", "content": '{"ticker": "NVDA"}'}]
    texts = quote_sources(conversation)
    assert grounding(call("get_stock_quote", ticker="NVDA"), [QUOTE], texts).grounded == ["get_stock_quote.ticker"]
    assert grounding(call("get_stock_quote", ticker="AAPL"), [QUOTE], texts).invented == ["get_stock_quote.ticker"]  # the system prompt is no source


def test_the_grounded_reward_pays_by_the_request_and_scores_other_decisions_as_strict():
    text = "Book Luigi's for 2 on 2027-02-14 at 19:30"
    right = call("book_table", restaurant="Luigi's", date="2027-02-14", time="19:30", party_size=2)
    assert score_grounded(right, [BOOK], [text], "execute").value == 1.0
    invented = call("book_table", restaurant="Luigi's", date="2027-02-14", time="19:30", party_size=2, notes="window seat please")
    assert score_grounded(invented, [BOOK], [text], "execute").value == pytest.approx(0.25 + 0.75 * 4 / 5)
    missing = call("book_table", restaurant="Luigi's", date="2027-02-14", time="19:30")
    assert score_grounded(missing, [BOOK], [text], "execute").value == pytest.approx(0.25 + 0.75 * 3 / 4)
    assert score_grounded(call("other_tool", x=1), [BOOK], [text], "execute").value == 0.0
    assert score_grounded("For what time?", [BOOK], [text], "execute").value == 0.0
    # clarify: a call with a value the request lacks is the wrong decision; a question is right
    assert score_grounded(right, [BOOK], ["Book Luigi's for 2 on 2027-02-14"], "clarify").value == 0.0
    assert score_grounded("What time should I book it for?", [BOOK], ["Book Luigi's"], "clarify", ground_truth="What time?").value == 1.0


def test_read_number_reads_no_number_from_an_article_before_one():
    assert read_number("a three") is None  # "for a three months' supply" is 90 days, not 120
    assert (read_number("a"), read_number("a hundred"), read_number("a thousand")) == (1, 100, 1000)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    paths = generate(GenerateConfig(n=600, eval_n=200, seed=3, pairs=1.0, shapes=0.5, paraphrased_values=True), tmp_path_factory.mktemp("grounded")).paths
    return [r for split in ("train", "eval") for r in read_records(paths[split])]


def test_every_reference_call_is_grounded_and_a_swapped_value_is_caught(generated):
    """The check never calls a right answer's value invented (in any form the generator writes, in
    any shape), and catches most values taken from another row."""
    rng = random.Random(0)
    executes = [r for r in generated if r.behavior == "execute"]
    pool = {}
    for r in executes:
        for c in parse_tool_calls(r.ground_truth):
            for key, value in c.arguments.items():
                pool.setdefault((c.name, key), []).append(value)
    swapped = caught = 0
    for r in executes:
        texts = quote_sources(r.prompt)
        found = grounding(r.ground_truth, r.tools, texts)
        assert not found.invented and not found.invalid, (r.user_prompt, r.ground_truth, found)
        assert score_record(r, r.ground_truth, "grounded").value == 1.0
        calls = parse_tool_calls(r.ground_truth)
        for key, value in calls[0].arguments.items():
            others = [o for o in pool[(calls[0].name, key)] if json.dumps(o).lower() != json.dumps(value).lower() and not isinstance(o, bool)]
            if others and not isinstance(value, bool):
                wrong = format_tool_calls([type(calls[0])(calls[0].name, {**calls[0].arguments, key: rng.choice(others)}), *calls[1:]])
                swapped += 1
                caught += f"{calls[0].name}.{key}" in grounding(wrong, r.tools, texts).invented
    assert swapped > 300 and caught / swapped > 0.7, (caught, swapped)


def test_grounded_is_a_builtin_reward_in_trls_signature(generated):
    rows = [r for r in generated if r.behavior == "execute"][:6]
    columns = {"reward_model": [r.raw["reward_model"] for r in rows], "tools": [r.raw.get("tools") for r in rows],
               "behavior": [r.behavior for r in rows], "extra_info": [r.raw.get("extra_info") for r in rows]}
    assert BUILTIN_REWARDS["grounded"] is grounded_reward
    assert grounded_reward([r.prompt for r in rows], [r.ground_truth for r in rows], **columns) == [1.0] * 6
    wrong = [r.ground_truth.replace("<TOOLCALL>[", "<TOOLCALL>[").replace('"arguments": {', '"arguments": {"zz_invented": 1, ', 1) for r in rows]
    assert all(v < 1.0 for v in grounded_reward([r.prompt for r in rows], wrong, **columns))
