import json

from tooltune.data.records import Record
from tooltune.schema import Tool, parse_tool_calls, render_system_prompt, split_reasoning
from tooltune.training.datasets import sft_rows, target_text
from tooltune.training.reasoning import reasoning_trace

CAB = Tool("book_cab", "Book a cab.", {"type": "object", "properties": {"pickup": {"type": "string"}, "dropoff": {"type": "string"}, "seats": {"type": "integer"}}, "required": ["pickup", "dropoff"]})
OTHER = Tool("get_weather", "Weather for a city.", {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})


def _row(user, truth, behavior, extra=None):
    return Record({"prompt": [{"role": "system", "content": render_system_prompt([OTHER, CAB])}, {"role": "user", "content": user}],
                   "reward_model": {"ground_truth": truth}, "behavior": behavior, "extra_info": extra or {}})


def test_execute_trace_copies_every_required_value_and_leaves_the_call_scoreable():
    truth = json.dumps([{"name": "book_cab", "arguments": {"pickup": "Gare du Nord", "dropoff": "Orly", "seats": 2}}])
    row = _row("cab from Gare du Nord to Orly for 2", truth, "execute")
    assert reasoning_trace(row) == '<think>Tool: book_cab. Required: pickup = "Gare du Nord", dropoff = "Orly". Optional: seats = 2.</think>'
    text = target_text(row, reasoning=True)
    thought, answer = split_reasoning(text)
    assert thought.startswith("Tool: book_cab") and parse_tool_calls(answer) == parse_tool_calls(truth)
    assert target_text(row) == answer  # off by default


def test_clarify_trace_names_the_missing_value_in_the_same_shape_as_execute():
    row = _row("cab from Gare du Nord please", "Where are you headed?", "clarify",
               {"tool": "book_cab", "missing": ["dropoff"], "arguments": {"pickup": "Gare du Nord"}})
    # Same words as an execute trace up to the value: the decision is made per parameter, not in the first token.
    assert reasoning_trace(row) == '<think>Tool: book_cab. Required: pickup = "Gare du Nord", dropoff = missing.</think>'
    assert target_text(row, reasoning=True).endswith("</think>Where are you headed?")
    # a user's row that does not record the given values still gets a trace
    bare = _row("cab please", "Where are you headed?", "clarify", {"missing": "dropoff"})
    assert reasoning_trace(bare) == "<think>Tool: book_cab. Required: pickup = given, dropoff = missing.</think>"


def test_refusals_and_untraceable_rows():
    assert reasoning_trace(_row("hurt someone", "I can't help with that.", "refuse", {"kind": "harmful"})) == "<think>The request is harmful.</think>"
    assert reasoning_trace(_row("paint my house", "No tool for that.", "refuse", {"kind": "out_of_scope"})) == "<think>No listed tool does this.</think>"
    untraced = _row("cab please", "Where to?", "clarify")  # no missing parameter recorded
    assert reasoning_trace(untraced) is None and target_text(untraced, reasoning=True) == "Where to?"


def test_generated_rows_are_all_traced(small_data):
    from tooltune.data.records import read_records

    rows = sft_rows(read_records(small_data["train"]), reasoning=True)
    assert all(r["completion"][0]["content"].startswith("<think>Tool: ") or "harmful" in r["completion"][0]["content"]
               or "No listed tool" in r["completion"][0]["content"] for r in rows)


def test_trace_copies_the_requests_words_then_writes_the_calls_form_only_for_right_values():
    truth = json.dumps([{"name": "book_cab", "arguments": {"pickup": "Gare du Nord", "dropoff": "Orly", "seats": 4}}])
    row = _row("cab from gare du nord to Orly, four of us", truth, "execute", {"said": {"seats": "four"}})
    assert reasoning_trace(row) == '<think>Tool: book_cab. Required: pickup = "Gare du Nord", dropoff = "Orly". Optional: seats = "four" -> 4.</think>'
    # A near miss that copies the words keeps its own (wrong) check: no span for a value it got wrong.
    from tooltune.training.reasoning import call_trace
    wrong = json.dumps([{"name": "book_cab", "arguments": {"pickup": "Gare du Nord", "dropoff": "Orly", "seats": "four"}}])
    assert call_trace(row, wrong).endswith('Optional: seats = "four".</think>')


def test_one_tool_called_twice_quotes_each_calls_own_words():
    # "seats for two ... and another cab for three": each call's check quotes its own request words.
    truth = json.dumps([{"name": "book_cab", "arguments": {"pickup": "Orly", "dropoff": "Louvre", "seats": 2}},
                        {"name": "book_cab", "arguments": {"pickup": "Orly", "dropoff": "Bercy", "seats": 3}}])
    row = _row("a cab from Orly to the Louvre for two, and one to Bercy for three", truth, "execute",
               {"said": {"seats": "three"}, "said_calls": [{"seats": "two"}, {"seats": "three"}]})
    trace = reasoning_trace(row)
    assert 'seats = "two" -> 2' in trace and 'seats = "three" -> 3' in trace
    # An answer that makes only the second call, or both in the other order, quotes each one's own words.
    from tooltune.training.reasoning import call_trace

    second = json.dumps([json.loads(truth)[1]])
    assert 'seats = "three" -> 3' in call_trace(row, second)
    swapped = json.dumps(json.loads(truth)[::-1])
    assert call_trace(row, swapped).index('"three"') < call_trace(row, swapped).index('"two"')
    # Without the per-call entry (older rows) one "said" cannot say which call it is for: no quotes.
    del row.raw["extra_info"]["said_calls"]
    assert '"three"' not in reasoning_trace(row)
