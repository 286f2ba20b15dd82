"""The grounded check: a call's values come from the request, judged without a reference answer."""

import json
import random

import pytest

from tooltune.data.generate import GenerateConfig, generate
from tooltune.data.records import read_records
from tooltune.reading import quote_sources, read_number
from tooltune.rewards import BUILTIN_REWARDS, grounded_reward, grounding, score_grounded, score_record, score_strict
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
    assert verdicts(call("get_stock_quote", ticker="SHOP"), [QUOTE], "What's Apple (AAPL) trading at?")["ticker"] == "invented"
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


def test_the_grounded_reward_is_strict_but_pays_nothing_for_a_call_that_rests_on_a_guess():
    text = "Book Luigi's for 2 on 2027-02-14 at 19:30"
    right = call("book_table", restaurant="Luigi's", date="2027-02-14", time="19:30", party_size=2)
    assert score_grounded(right, right, [BOOK], [text], "execute").value == 1.0
    # one wrong but stated value: strict's partial credit stands (the request says 2; 19:30 is its time)
    slot = call("book_table", restaurant="Luigi's", date="2027-02-14", time="19:30", party_size=19)
    assert score_grounded(slot, right, [BOOK], ["Book Luigi's for 2 on 2027-02-14 at 19:30, 19 of us"], "execute").value == score_strict(slot, right, [BOOK], "execute").value == pytest.approx(0.25 + 0.75 * 3 / 4)
    # an invented optional value, an invented required one, a value its schema refuses: strict pays them, grounded does not
    for guess in (call("book_table", restaurant="Luigi's", date="2027-02-14", time="19:30", party_size=2, notes="window seat please"),
                  call("book_table", restaurant="Luigi's", date="2027-02-15", time="19:30", party_size=2),
                  call("book_table", restaurant="Luigi's", date="Feb 14", time="19:30", party_size=2)):
        assert score_strict(guess, right, [BOOK], "execute").value > 0.5
        assert score_grounded(guess, right, [BOOK], [text], "execute").value == 0.0
    assert score_grounded(right, right, [BOOK], [text], "execute").failure is None
    # clarify rows score as strict: a question that names the missing time is right, a guessed call is not
    ask = "What time should I book it for?"
    assert score_grounded(ask, ask, [BOOK], ["Book Luigi's for 2 on 2027-02-14"], "clarify").value == 1.0
    assert score_grounded(right, ask, [BOOK], ["Book Luigi's for 2 on 2027-02-14"], "clarify").value == 0.0


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


PAY = Tool("send_money", "Send money.", {"type": "object", "properties": {
    "amount": {"type": "number"}, "currency": {"type": "string", "description": "ISO currency code"},
    "from_currency": {"type": "string", "description": "Currency code"}}, "required": ["amount"]})
HOTEL = Tool("book_hotel", "", {"type": "object", "properties": {
    "check_in": {"type": "string", "format": "date"}, "check_out": {"type": "string", "format": "date"},
    "measured_at": {"type": "string", "format": "date-time"}, "times": {"type": "array", "items": {"type": "string"}, "description": "Times, HH:MM"}}})
DEVICE = Tool("set_device", "", {"type": "object", "properties": {
    "temperature_c": {"type": "number"}, "ttl_seconds": {"type": "integer"}, "limit": {"type": "integer"}, "target_language": {"type": "string", "description": "Language code"},
    "ticker": {"type": "string"}, "count": {"type": "integer"}}})


@pytest.mark.parametrize("text, tool, arguments", [
    ("send @jules $1.2k for rent", PAY, {"amount": 1200, "currency": "USD"}),
    ("how much is 3.5 grand canadian in euros?", PAY, {"amount": 3500, "from_currency": "CAD", "currency": "EUR"}),
    ("convert 1,200 Swiss francs", PAY, {"amount": 1200, "from_currency": "CHF"}),
    ("checking in April 9th 2027 and out on the 12th", HOTEL, {"check_in": "2027-04-09", "check_out": "2027-04-12"}),
    ("a room Nov 2nd to Nov 5th 2027", HOTEL, {"check_in": "2027-11-02", "check_out": "2027-11-05"}),
    ("taken at 7:10am on Oct 3rd 2027", HOTEL, {"measured_at": "2027-10-03T07:10:00"}),
    ("at 8 in the morning and half past 4 pm", HOTEL, {"times": ["08:00", "16:30"]}),
])
def test_values_said_in_the_ways_a_blind_probe_wrote_them_are_grounded(text, tool, arguments):
    found = grounding(call(tool.name, **arguments), [tool], [text])
    assert not found.invented and not found.invalid, found


def test_what_the_check_cannot_read_is_unchecked_not_invented():
    # a number in another unit, where the words state a number no value holds
    assert grounding(call("set_device", temperature_c=20), [DEVICE], ["bedroom to 68 degrees fahrenheit"]).unchecked == ["set_device.temperature_c"]
    assert grounding(call("set_device", ttl_seconds=300), [DEVICE], ["5 minute TTL"]).unchecked == ["set_device.ttl_seconds"]
    # a code for something named in words, where the words give no code themselves
    assert grounding(call("set_device", target_language="pt-BR"), [DEVICE], ["translate it into Brazilian Portuguese"]).unchecked
    assert grounding(call("set_device", ticker="SHOP"), [DEVICE], ["what's Shopify at?"]).unchecked
    # ...but the same made up where nothing accounts for it is invented
    assert grounding(call("set_device", limit=10), [DEVICE], ["headphones under 200 bucks"]).invented == ["set_device.limit"]
    assert grounding(call("set_device", ticker="SHOP"), [DEVICE], ["what's AAPL at?"]).invented == ["set_device.ticker"]
    assert grounding(call("set_device", count=24), [DEVICE], ["found 2 dozen extra"]).grounded == ["set_device.count"]


def test_a_value_the_reference_holds_never_costs_the_call():
    # "ten to six in the evening" is no time reading takes ("ten to eleven" may be a range), so the check calls 17:50 invented
    text = "Book Luigi's for 2 on 2027-02-14, ten to six in the evening"
    right = call("book_table", restaurant="Luigi's", date="2027-02-14", time="17:50", party_size=2)
    assert grounding(right, [BOOK], [text]).invented == ["book_table.time"]
    assert score_grounded(right, right, [BOOK], [text], "execute").value == 1.0
    guessed = call("book_table", restaurant="Luigi's", date="2027-02-14", time="18:10", party_size=2)
    assert score_grounded(guessed, right, [BOOK], [text], "execute").value == 0.0


@pytest.mark.parametrize("name, false_alarms, caught", [("probe1.jsonl", 1, 26), ("probe2.jsonl", 5, 24), ("probe3.jsonl", 0, 26)])
def test_the_probes_the_check_was_fixed_against_stay_fixed(name, false_alarms, caught):
    """Rows written blind by a helper session (tests/fixtures/grounding_probes/README.md); the check
    was corrected against these, so they guard what was fixed (probe4 is the held-out one: not here)."""
    from pathlib import Path

    from tooltune.schema import ToolCall

    wrong = found_invented = 0
    for line in (Path(__file__).parent.parent / "fixtures" / "grounding_probes" / name).read_text().splitlines():
        row = json.loads(line)
        tools = [Tool.from_dict(t) for t in row["tools"]]
        found = grounding(format_tool_calls([ToolCall(row["call"]["name"], row["call"]["arguments"])]), tools, quote_sources(row["messages"]))
        if row["label"] == "right":
            wrong += len(found.invented) + len(found.invalid)
        else:
            found_invented += f"{row['call']['name']}.{row['param']}" in found.invented
    assert wrong <= false_alarms and found_invented >= caught, (wrong, found_invented)


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_JSON = st.recursive(st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=12)
_SCHEMA = st.recursive(st.fixed_dictionaries({}, optional={"type": st.sampled_from(["string", "integer", "number", "array", "object", "boolean", "null"]),
                                                           "format": st.sampled_from(["date", "date-time", "email", "uri", "time"]),
                                                           "description": st.sampled_from(["HH:MM", "YYYY-MM-DD", "in cents", "Currency code", "minutes", "price in USD", ""]),
                                                           "enum": st.lists(st.text(max_size=8), max_size=3), "default": _JSON}),
                       lambda inner: st.fixed_dictionaries({"type": st.just("array"), "items": inner}) | st.fixed_dictionaries({"type": st.just("object"), "properties": st.dictionaries(st.text(max_size=6), inner, max_size=3)}),
                       max_leaves=6)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arguments=st.dictionaries(st.sampled_from(["date", "time", "amount", "currency", "ticker", "times", "x", "duration_minutes", "email"]), _JSON, max_size=4),
       schemas=st.dictionaries(st.sampled_from(["date", "time", "amount", "currency", "ticker", "times", "x", "duration_minutes", "email"]), _SCHEMA, max_size=5),
       text=st.text(max_size=200))
def test_no_answer_or_schema_makes_the_check_raise(arguments, schemas, text):
    """The reward runs on whatever a policy writes: the check answers, it never raises."""
    tool = Tool("t", "", {"type": "object", "properties": schemas})
    answer = "<TOOLCALL>" + json.dumps([{"name": "t", "arguments": arguments}]) + "</TOOLCALL>"
    found = grounding(answer, [tool], [text, "4 pm on the 14th of Feb 2027, $120k, 2 dozen, between 3 and 5k"])
    calls = parse_tool_calls(answer)  # None for NaN or infinity: no JSON call carries one
    assert len(found.grounded) + len(found.invented) + len(found.unchecked) + len(found.invalid) == (len(calls[0].arguments) if calls else 0)
    reference = "<TOOLCALL>" + json.dumps([{"name": "t", "arguments": {}}]) + "</TOOLCALL>"
    assert 0.0 <= score_grounded(answer, reference, [tool], [text], "execute").value <= 1.0


def test_a_long_tool_result_is_read_in_its_first_part_and_searched_whole():
    import time

    from tooltune.reading import ToolResult

    filler = " ".join(f"row {i} shipped 2027-01-{i % 28 + 1:02d} for ${i}.50" for i in range(3000))  # ~100 KB
    tool = Tool("t", "", {"type": "object", "properties": {"code": {"type": "string"}, "n": {"type": "integer"}}})
    started = time.perf_counter()
    found = grounding(call("t", code="ZX-99812", n=7), [tool], ["find it", ToolResult(filler + " tracking ZX-99812")])
    assert found.grounded == ["t.code", "t.n"] and time.perf_counter() - started < 20  # 24 s -> ~1.5 s here, on a slow host
