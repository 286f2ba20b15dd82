"""Schema-constrained calls: a random-weight model, whose free calls are noise, writes valid ones."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from tooltune.constrained import call_schema
from tooltune.inference import GenerationRequest, Sampling, complete_batch, generate_answers
from tooltune.models.load import load_model_and_tokenizer
from tooltune.schema import Tool, parse_tool_calls

# Closed value sets: a random model inside a free string or number could write until the budget ends.
FORECAST = Tool(name="get_forecast", parameters={
    "type": "object",
    "properties": {"unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}, "alerts": {"type": "boolean"},
                   "region": {"type": "string", "enum": ["north", "south"]}},
    "required": ["unit", "alerts"]})
CLOCK = Tool(name="get_time", parameters={"type": "object", "properties": {"zone": {"type": "string", "enum": ["UTC", "CET"]}}, "required": ["zone"]})
CONVERSATION = [{"role": "system", "content": "Call get_forecast(unit, alerts, region?) or get_time(zone)."}, {"role": "user", "content": "forecast please"}]


def test_call_schema_accepts_calls_of_offered_tools_only():
    validator = Draft202012Validator(call_schema([FORECAST, CLOCK]))
    assert validator.is_valid([{"name": "get_time", "arguments": {"zone": "UTC"}}, {"name": "get_forecast", "arguments": {"unit": "celsius", "alerts": True}}])
    assert not validator.is_valid([])  # "[]" is no call: an answer that calls nothing does not open the tag
    assert not validator.is_valid([{"name": "get_weather", "arguments": {}}])
    assert not validator.is_valid([{"name": "get_time", "arguments": {"zone": "PST"}}])
    one = Draft202012Validator(call_schema([CLOCK], parallel=False))  # OpenAI's parallel_tool_calls=false
    assert one.is_valid([{"name": "get_time", "arguments": {"zone": "UTC"}}]) and not one.is_valid([{"name": "get_time", "arguments": {"zone": "UTC"}}] * 2)


def test_definitions_a_tool_refers_to_move_to_the_root(tiny_model):
    """Pydantic writes nested models as "#/$defs/X" from the parameters' root; inside the call list
    they must resolve from the call list's root, for jsonschema and for the grammar."""
    from tooltune.constrained import grammars_for
    from tooltune.inference import stop_token_ids

    order = Tool(name="place_order", parameters={"type": "object", "properties": {"address": {"$ref": "#/$defs/Address"}}, "required": ["address"],
                                                 "$defs": {"Address": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}})
    validator = Draft202012Validator(call_schema([order, CLOCK]))
    assert validator.is_valid([{"name": "place_order", "arguments": {"address": {"city": "Oslo"}}}])
    assert not validator.is_valid([{"name": "place_order", "arguments": {"address": {"town": "Oslo"}}}])
    model, tokenizer = load_model_and_tokenizer(tiny_model)
    grammars = grammars_for(model, tokenizer, stop_token_ids(tokenizer))
    assert grammars.compile([order, CLOCK]) is not None
    other = Tool(name="ship", parameters={**order.parameters, "$defs": {"Address": {"type": "string"}}})
    with pytest.warns(UserWarning, match="define \\$defs/Address differently"):  # one name, two meanings: no grammar rather than a wrong one
        assert grammars.compile([order, other]) is None


def test_a_forced_call_is_decoded_within_the_schema(bundled_tiny):
    """Serving's tool_choice "required" opens the call list; the grammar makes the rest a valid call."""
    _, path = bundled_tiny
    model, tokenizer = load_model_and_tokenizer(path, dtype="float32")
    sampling = Sampling(max_new_tokens=80)
    free, constrained = (complete_batch(model, tokenizer, [GenerationRequest(CONVERSATION, sampling, prefix="<TOOLCALL>[", tools=tools)])[0][1][0]
                         for tools in (None, [FORECAST, CLOCK]))
    assert not parse_tool_calls(free.text)  # a random model's own "call" is not one ...
    calls = json.loads(constrained.text.removeprefix("<TOOLCALL>").removesuffix("</TOOLCALL>"))
    Draft202012Validator(call_schema([FORECAST, CLOCK])).validate(calls)  # ... under the grammar it is
    assert constrained.finish_reason == "stop"  # and the answer ends after the closing tag
    assert parse_tool_calls(constrained.text)


def test_answers_without_a_call_are_left_as_they_were(tiny_model):
    """Outside <TOOLCALL> the grammar allows any text: the model's free answers come out unchanged."""
    model, tokenizer = load_model_and_tokenizer(tiny_model)
    conversations = [CONVERSATION, [{"role": "user", "content": "hi"}]]
    sampling = Sampling(max_new_tokens=12, batch_size=2)
    free = generate_answers(model, tokenizer, conversations, sampling)
    assert all("<TOOLCALL>" not in a[0] for a in free)
    assert generate_answers(model, tokenizer, conversations, sampling, tools=[[FORECAST, CLOCK], []]) == free


def test_one_tool_list_per_conversation(tiny_model):
    model, tokenizer = load_model_and_tokenizer(tiny_model)
    with pytest.raises(ValueError, match="one list per conversation"):
        generate_answers(model, tokenizer, [CONVERSATION], Sampling(max_new_tokens=2), tools=[])


def test_a_schema_the_grammar_cannot_compile_decodes_freely_with_a_warning(tiny_model):
    from tooltune.constrained import grammars_for
    from tooltune.inference import stop_token_ids

    model, tokenizer = load_model_and_tokenizer(tiny_model)
    grammars = grammars_for(model, tokenizer, stop_token_ids(tokenizer))
    broken = Tool(name="odd", parameters={"type": "object", "properties": {"x": {"type": "banana"}}})
    with pytest.warns(UserWarning, match='without a call grammar for tools \\[odd\\]: Unsupported type "banana"'):
        assert grammars.compile([broken]) is None
    assert grammars.compile([CLOCK]) is not None


REQUEST = 'Any senior dogs near Leeds? Budget "€45", 2.5k'


@pytest.fixture(scope="module")
def quoting(tiny_model):
    """A compiled answer grammar whose check may quote only REQUEST, and a fresh matcher for it."""
    import xgrammar as xgr

    from tooltune.constrained import grammars_for
    from tooltune.inference import stop_token_ids

    model, tokenizer = load_model_and_tokenizer(tiny_model)
    grammar = grammars_for(model, tokenizer, stop_token_ids(tokenizer)).compile([FORECAST, CLOCK], quotes=[REQUEST, "second turn"])
    return lambda text: xgr.GrammarMatcher(grammar).accept_string(text)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_check_may_quote_any_run_of_whole_words_as_written_or_in_lower_case(quoting, data):
    inside = [i for i in range(1, len(REQUEST)) if REQUEST[i - 1].isalnum() and REQUEST[i].isalnum()]  # no word breaks here
    start = data.draw(st.sampled_from([i for i in range(len(REQUEST)) if i not in inside]))
    span = REQUEST[start : data.draw(st.sampled_from([j for j in range(start + 1, len(REQUEST) + 1) if j not in inside]))]
    span = span.lower() if data.draw(st.booleans()) else span
    quoted = json.dumps(span, ensure_ascii=False)  # as the check writes it: '"' escaped, "€" as is
    assert quoting(f"<think>Tool: get_time. Required: zone = {quoted} -> \"UTC\".</think>")


@pytest.mark.parametrize("answer, allowed", [
    ('<think>Tool: a. Required: location = "Leeds", species = "dogs" -> "dog".</think>Sure.', True),
    ('<think>Tool: a. Required: location = "second turn".</think>', True),  # a later user or tool message is quotable too
    ('<think>Tool: a. Required: location = "Ledger".</think>', False),  # a misquote
    ('<think>Tool: a. Required: location = "Leed" -> "Led".</think>', False),  # a word cut short
    ('<think>Tool: a. Required: location = "eeds".</think>', False),
    ('<think>Tool: a. Required: location = "leeds".</think>', True),  # in lower case, as training checks sometimes quote
    ('<think>Tool: a. Required: location = "LeEDS".</think>', False),  # no case the request or training has
    ('<think>Tool: a. Required: amount = "€45", size = "2.5k".</think>', True),
    ('<think>Tool: a. Required: sport = "tennis".</think>', False),  # a word the request does not have
    ('<think>Tool: a. Required: location = "Leeds? Budget second".</think>', False),  # no quote spans two messages
    ('<think>Tool: a. Required: location = missing.</think>Which city?', True),
    ('<think>The request is harmful.</think>Sorry.', True),
    ("No check at all.", True),
])
def test_quotes_outside_the_request_are_not_decoded(quoting, answer, allowed):
    assert quoting(answer) is allowed


def test_a_forced_quote_is_a_run_of_the_request(bundled_tiny):
    """A random model put inside a quote can only close it on a run of the request's whole words."""
    from tooltune.constrained import quote_sources

    _, path = bundled_tiny
    model, tokenizer = load_model_and_tokenizer(path, dtype="float32")
    conversation = [*CONVERSATION[:1], {"role": "user", "content": REQUEST}]
    prefix = '<think>Tool: get_forecast. Required: unit = "'
    request = GenerationRequest(conversation, Sampling(max_new_tokens=60), prefix=prefix, tools=[FORECAST, CLOCK], quotes=quote_sources(conversation))
    text = complete_batch(model, tokenizer, [request])[0][1][0].text
    quoted, _ = json.JSONDecoder().raw_decode(text, len(prefix) - 1)  # the quote, as far as its closing '"'
    assert isinstance(quoted, str)
    at = [i for i in range(len(REQUEST)) if REQUEST.startswith(quoted, i) or REQUEST.lower().startswith(quoted, i)]
    breaks = {i for i in range(len(REQUEST) + 1) if i in (0, len(REQUEST)) or not (REQUEST[i - 1].isalnum() and REQUEST[i].isalnum())}
    assert quoted and any(i in breaks and i + len(quoted) in breaks for i in at), quoted


def test_a_conversation_with_nothing_to_quote_leaves_the_check_free(tiny_model):
    from tooltune.constrained import grammars_for, quote_grammar
    from tooltune.inference import stop_token_ids

    model, tokenizer = load_model_and_tokenizer(tiny_model)
    assert quote_grammar([""]) is None
    assert grammars_for(model, tokenizer, stop_token_ids(tokenizer)).compile([CLOCK], quotes=[""]) is not None
