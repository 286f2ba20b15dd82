"""Schema-constrained calls: a random-weight model, whose free calls are noise, writes valid ones."""

import json
import re

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


CHECK = "<think>Tool: get_forecast. Required: unit = {}, alerts = true.</think>"


@pytest.mark.parametrize("answer, allowed", [
    (CHECK.format('"Leeds"'), True),
    (CHECK.format('"dogs" -> "celsius"'), True),
    (CHECK.format('"second turn"'), True),  # a later user or tool message is quotable too
    (CHECK.format('"Ledger"'), False),  # a misquote
    (CHECK.format('"Leed" -> "Led"'), False),  # a word cut short
    (CHECK.format('"eeds"'), False),
    (CHECK.format('"leeds"'), True),  # in lower case, as training checks sometimes quote
    (CHECK.format('"LeEDS"'), False),  # no case the request or training has
    ('<think>Tool: get_forecast. Required: unit = "€45", alerts = "2.5k" -> true.</think>', True),
    (CHECK.format('"tennis"'), False),  # a word the request does not have
    (CHECK.format('"Leeds? Budget second"'), False),  # no quote spans two messages
    (CHECK.format("missing") + "Which unit?", True),
    ('<think>The request is harmful.</think>Sorry.', True),
    ("No check at all.", True),
])
def test_quotes_outside_the_request_are_not_decoded(quoting, answer, allowed):
    assert quoting(answer) is allowed


@pytest.mark.parametrize("answer, allowed", [
    ('<think>Tool: get_time. Required: zone = "Leeds" -> "UTC".</think>', True),
    ('<think>Tool: get_weather. Required: zone = "Leeds".</think>', False),  # a tool the list does not offer
    ('<think>Tool: get_time. Required: city = "Leeds".</think>', False),  # a parameter the tool does not have
    ('<think>Tool: get_forecast. Required: unit = "Leeds".</think>', False),  # a required parameter left out
    ('<think>Tool: get_forecast. Required: alerts = true, unit = "Leeds".</think>', False),  # not in the tool's order
    ('<think>Tool: get_forecast. Required: unit = "Leeds", alerts = true. Optional: region = missing.</think>', True),  # left out of the call
    ('<think>Tool: get_forecast. Required: unit = missing, alerts = true. Optional: region = "Leeds" -> "north".</think>', False),  # a question names no optional value
    ('<think>Tool: get_time. Required: zone = "UTC".</think>', False),  # a string right after "=" is a quote of the request
    ('<think>Tool: get_forecast. Required: unit = 45, alerts = [1, {"a": null}].</think>', True),  # any other JSON value
    ('<think>Tool: get_forecast. Required: unit = "Leeds", alerts = true. Tool: get_time. Required: zone = "Budget" -> "UTC".</think>', True),  # two calls
    ('<think>No listed tool does this.</think>', True),
    ('<think>I think the user wants the forecast.</think>', False),  # prose is not the check training writes
])
def test_a_grounded_check_keeps_the_form_training_writes(quoting, answer, allowed):
    assert quoting(answer) is allowed


GIVEN = '<think>Tool: get_forecast. Required: unit = "Leeds" -> "celsius", alerts = true.</think>'
CALL = '<TOOLCALL>[{"name": "get_forecast", "arguments": {"unit": "celsius", "alerts": true}}]</TOOLCALL>'


@pytest.mark.parametrize("answer, allowed", [
    (GIVEN + CALL, True),
    (GIVEN + "Which unit would you like?", False),  # every required value given: the call, not a question
    ('<think>Tool: get_forecast. Required: unit = missing, alerts = true.</think>Which unit would you like?', True),
    ('<think>Tool: get_forecast. Required: unit = missing, alerts = true.</think>' + CALL, False),  # a value is missing: ask
    ('<think>The request is harmful.</think>' + CALL, False),
    ('<think>No listed tool does this.</think>Sorry, I cannot do that.', True),
    (GIVEN[:-len("</think>")] + ' Optional: region = missing.</think>' + CALL, True),  # an optional value marked missing is left out
    ("Which unit would you like?", True), (CALL, True),  # no check: the model decides freely, as before
])
def test_the_answer_follows_its_check(quoting, answer, allowed):
    assert quoting(answer) is allowed


SERVICE = Tool(name="book_service", parameters={"type": "object", "properties": {
    "service": {"type": "string"}, "date": {"type": "string", "description": "Date, YYYY-MM-DD."},
    "time": {"type": "string", "description": "Drop-off time, HH:MM 24-hour."}}, "required": ["service", "date", "time"]})


@pytest.fixture(scope="module")
def dating(tiny_model):
    """Accepts an answer over [SERVICE] when a request's check may give it (request -> accepts(answer))."""
    import xgrammar as xgr

    from tooltune.constrained import grammars_for
    from tooltune.inference import stop_token_ids

    model, tokenizer = load_model_and_tokenizer(tiny_model)
    grammars = grammars_for(model, tokenizer, stop_token_ids(tokenizer))
    return lambda request: (lambda text: xgr.GrammarMatcher(grammars.compile([SERVICE], quotes=[request])).accept_string(text))


SERVICE_CHECK = "<think>Tool: book_service. Required: service = \"oil change\", date = {}, time = {}.</think>"


@pytest.mark.parametrize("request_text, date, time, allowed", [
    ("oil change March 12th 2027 at 4 pm", '"March 12th 2027" -> "2027-03-12"', '"4 pm" -> "16:00"', True),
    ("oil change March 12th 2027 at 4 pm", '"March 12th 2027"', '"at 4 pm"', True),
    ("oil change March 12th 2027 at 4 pm", '"March 12th 2027"', '"4 pm" -> "04:00"', False),  # not what the words say
    ("oil change March 12th 2027 at 4 pm", '"4 pm" -> "2027-03-12"', '"4 pm"', False),  # a time is no date
    ("oil change March 12th 2027, plate 4HJK221", '"March 12th 2027"', '"4HJK221" -> "04:00"', False),  # no words state a time
    ("oil change March 12th 2027, plate 4HJK221", '"March 12th 2027"', '"2027"', False),
    ("oil change March 12th 2027, plate 4HJK221", '"March 12th 2027"', '"12:00"', False),  # nor a value of its own
    ("oil change March 12th 2027 from 9 to 10 am", '"March 12th 2027"', '"9" -> "09:00"', True),  # a bare hour inside a range
    ("oil change for zone 9 on March 12th 2027", '"March 12th 2027"', '"9"', False),  # ... and not outside one
])
def test_a_date_or_time_is_quoted_from_words_that_state_one(dating, request_text, date, time, allowed):
    assert dating(request_text)(SERVICE_CHECK.format(date, time)) is allowed


def test_a_date_or_time_the_request_does_not_state_is_asked_for(dating):
    accepts = dating("oil change on March 12th 2027, plate 4HJK221")
    assert accepts(SERVICE_CHECK.format('"March 12th 2027"', "missing") + "What time should I book it for?")
    assert not accepts(SERVICE_CHECK.format('"March 12th 2027"', "given"))  # no call check may skip it
    assert not dating("oil change please")(SERVICE_CHECK.format("given", "given"))
    assert dating("oil change please")(SERVICE_CHECK.format("missing", "given") + "Which day?")  # a question's check still may


ENUM_SERVICE = Tool(name="book_service", parameters={"type": "object", "properties": {
    "service": {"type": "string", "enum": ["oil_change", "tire_rotation"]}, "time": {"type": "string", "description": "Drop-off time, HH:MM 24-hour."}},
    "required": ["service", "time"]})
DONATE = Tool(name="donate", parameters={"type": "object", "properties": {
    "charity": {"type": "string"}, "amount": {"type": "number"}, "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}},
    "required": ["charity", "amount", "currency"]})


@pytest.fixture(scope="module")
def checking(tiny_model):
    """Accepts an answer over a tool list when a request's check may give it ((tools, request) -> accepts(answer))."""
    import xgrammar as xgr

    from tooltune.constrained import grammars_for
    from tooltune.inference import stop_token_ids

    model, tokenizer = load_model_and_tokenizer(tiny_model)
    grammars = grammars_for(model, tokenizer, stop_token_ids(tokenizer))
    return lambda tools, request: (lambda text: xgr.GrammarMatcher(grammars.compile(tools, quotes=[request])).accept_string(text))


@pytest.mark.parametrize("request_text, service, allowed", [
    ("get my car serviced at 8:30 am", '"8:30 am"', False),  # the time is the other parameter's
    ("get my car serviced at 8:30 am", '"8:30 am" -> "oil_change"', False),
    ("get my car serviced at 8:30 am", '"at 8:30 am" -> "oil_change"', False),
    ("get my car serviced at 8:30 am", '"30 am" -> "oil_change"', False),  # nor words inside it
    ("get my car serviced at 8:30 am", '"car serviced" -> "oil_change"', True),  # words outside the time
    ("get my car serviced at 8:30 am", '"serviced" -> "oil_change"', False),  # but not the tool's own word alone
    ("get my car serviced at 8:30 am", "missing", True),
    ("rotate the tires at 8:30 am", '"rotate the tires" -> "tire_rotation"', True),
    ("the 5-star rotation at 8:30 am", '"5-star rotation" -> "tire_rotation"', True),  # digits, but no time
])
def test_an_enum_of_words_quotes_no_time(checking, request_text, service, allowed):
    check = f'<think>Tool: book_service. Required: service = {service}, time = "8:30 am" -> "08:30".</think>'
    answer = check + ("Which service?" if service == "missing" else "")
    assert checking([ENUM_SERVICE], request_text)(answer) is allowed


def test_an_enum_of_a_tool_with_no_time_may_quote_one(checking):
    shift = Tool(name="pick_shift", parameters={"type": "object", "properties": {"shift": {"type": "string", "enum": ["morning", "evening"]}}, "required": ["shift"]})
    assert checking([shift], "put me on at 9am")('<think>Tool: pick_shift. Required: shift = "9am" -> "morning".</think>')


@pytest.mark.parametrize("request_text, check, allowed", [
    ("Donate 100 dollars to the ASPCA", 'charity = "ASPCA", amount = "100 dollars" -> 100, currency = missing', False),  # the request says which
    ("Donate 100 dollars please", 'charity = missing, amount = "100 dollars" -> 100, currency = given', True),
    ("Give €30 to my usual charity", 'charity = missing, amount = "€30" -> 30, currency = "€" -> "EUR"', True),
    ("Give 200 to the Salvation Army", 'charity = "Salvation Army", amount = "200" -> 200, currency = missing', True),  # no currency said
    ("Give $5 or £3 to Oxfam", 'charity = "Oxfam", amount = given, currency = missing', True),  # two: which one?
    ("Give 100 Singapore dollars to Oxfam", 'charity = "Oxfam", amount = given, currency = missing', True),
    ("Give CHF 40 to the WWF", 'charity = "WWF", amount = given, currency = missing', False),
    ("Ship 5 pounds of books to Oxfam", 'charity = "Oxfam", amount = given, currency = missing', True),  # a weight, maybe
])
def test_a_currency_the_request_states_is_not_asked_for(checking, request_text, check, allowed):
    assert checking([DONATE], request_text)(f"<think>Tool: donate. Required: {check}.</think>Which one?") is allowed


@pytest.mark.parametrize("request_text, zone, allowed", [
    ("water zone 8 for a bit", "missing", False),  # the request says which zone
    ("water zone 8 for a bit", '"8" -> 8', True),
    ("water Zone five for a bit", "missing", False),
    ("water the lawn zone for a bit", "missing", True),  # no number: which zone?
    ("water zone B for a bit", "missing", True),
])
def test_a_number_said_after_its_name_is_not_asked_for(checking, request_text, zone, allowed):
    sprinkler = Tool(name="water", parameters={"type": "object", "properties": {"zone": {"type": "integer"}, "minutes": {"type": "integer"}}, "required": ["zone", "minutes"]})
    assert checking([sprinkler], request_text)(f"<think>Tool: water. Required: zone = {zone}, minutes = missing.</think>How long?") is allowed


ROOM = Tool(name="reserve_room", parameters={"type": "object", "properties": {
    "building": {"type": "string"}, "date": {"type": "string", "description": "YYYY-MM-DD"},
    "start_time": {"type": "string", "description": "HH:MM 24-hour"}, "end_time": {"type": "string", "description": "HH:MM 24-hour"}},
    "required": ["building", "date", "start_time", "end_time"]})
SHIFT = Tool(name="add_shift", parameters={"type": "object", "properties": {
    "date": {"type": "string", "format": "date"}, "start_time": {"type": "string", "description": "HH:MM"}, "end_time": {"type": "string", "description": "HH:MM"}},
    "required": ["date", "start_time"]})
WATER = Tool(name="water", parameters={"type": "object", "properties": {
    "zone": {"type": "integer"}, "duration_minutes": {"type": "integer", "description": "Run time in minutes"}}, "required": ["zone", "duration_minutes"]})


MOVE = Tool(name="move_meeting", parameters={"type": "object", "properties": {
    "meeting": {"type": "string"}, "new_time": {"type": "string", "description": "HH:MM"}}, "required": ["meeting", "new_time"]})
SEND = Tool(name="send", parameters={"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]})


@pytest.mark.parametrize("tool, request_text, given, open_", [
    # as many different times (dates, lengths of time) as the tool takes, two or more: none of them is missing
    (ROOM, "small room at the Pine Street office, Oct 5 2027 8:30-9am", {"start_time", "end_time"}, {"building", "date"}),
    (ROOM, "a room at HQ on Oct 5 2027 from 2 pm", set(), {"date", "start_time", "end_time"}),  # one time for two
    (ROOM, "a room in the Harbor Tower building on 4/21/2027", {"building"}, {"date", "start_time", "end_time"}),  # a place named before "building"
    (ROOM, "a room in the building by the lake", set(), {"building"}),
    (ROOM, "Harbor Tower building is fine", set(), {"building"}),  # "at the", "in the" ... name a place
    (SEND, "Send a Slack message to Bob", set(), {"message"}),  # which message?
    (MOVE, "Move my 3 pm meeting with Dana", set(), {"new_time"}),  # one time for one: not the new one
    # an optional end time counts: "until 6 pm" is not the start; "05" of the date is no time
    (SHIFT, "a shift on 2026-12-05 until 6:00 pm", set(), {"start_time"}),
    (WATER, "water zone 8 for 2 hrs", {"zone"}, {"duration_minutes"}),  # one length for one: said, but maybe of something else
])
def test_what_the_request_surely_gives(tool, request_text, given, open_):
    from tooltune.constrained import stated_params

    stated = {name for _, name in stated_params([tool], [request_text])}
    assert given <= stated and not (open_ & stated)


REFILL = Tool(name="refill", parameters={"type": "object", "properties": {
    "rx": {"type": "string"}, "supply_days": {"type": "integer"}, "notify": {"type": "boolean"}, "pickup": {"type": "string", "format": "date"}}, "required": ["rx"]})


@pytest.mark.parametrize("request_text, optional, allowed", [
    ("refill RX-5 please", "supply_days = 30", False),  # the request says no 30: made up
    ("refill RX-5 for 30 days", "supply_days = 30", True),
    ("refill RX-5 for thirty days", 'supply_days = "thirty days" -> 30', True),  # a number in words is quoted
    ("refill RX-5 for thirty days", "supply_days = 30", True),  # or written bare: the request states it
    ("refill RX-5, all 1,200 pills", "supply_days = 1200", True),  # "1,200" is 1200, not 1 and 200 alone
    ("refill RX-5 please", "notify = true", True),  # a yes or no is never the request's words
    ("refill RX-5, pick up 3/19/2027", 'supply_days = "2027" -> 2027', False),  # a date's words are the date's
    ("refill RX-5, pick up 3/19/2027, 90 days", 'supply_days = "90 days" -> 90', True),
])
def test_a_number_the_check_writes_bare_is_one_the_request_writes(checking, request_text, optional, allowed):
    check = f'<think>Tool: refill. Required: rx = "RX-5". Optional: {optional}.</think>'
    assert checking([REFILL], request_text)(check) is allowed


POLLEN = Tool(name="get_pollen_forecast", parameters={"type": "object", "properties": {
    "location": {"type": "string"}, "allergen": {"type": "string", "enum": ["tree", "grass", "weed", "mold"]},
    "days": {"type": "integer"}, "notify_by_text": {"type": "boolean"}, "frequency": {"type": "string", "enum": ["once", "monthly"]}},
    "required": ["location"]})


@pytest.mark.parametrize("request_text, named", [
    ("pollen in Leeds", set()),  # "pollen" is the tool's own word, not an optional value
    ("is the mold count bad in Leeds? give me 5 days out", {"allergen", "days"}),  # an enum value; a plural
    ("Leeds forecast for one day, and text me the results", {"days", "notify_by_text"}),
    ("Leeds, and send me a notification", {"notify_by_text"}),  # five letters of "notify"
    ("Leeds, every month please", {"frequency"}),  # every word of "monthly", by its first five letters
    ("Leeds", set()),
])
def test_optional_values_a_request_talks_about(request_text, named):
    from tooltune.reading import named_optional

    assert named_optional(POLLEN, [request_text]) == named


@pytest.mark.parametrize("optional, allowed", [
    ("", False),  # the request talks about a text: the check must say whether the call sends one
    (" Optional: notify_by_text = true.", True),
    (" Optional: notify_by_text = false.", True),
    (" Optional: notify_by_text = missing.", True),  # talked about, not asked for: left out of the call
    (" Optional: days = 3.", False),
    (" Optional: days = 3, notify_by_text = true.", True),
])
def test_a_check_names_the_optional_values_the_request_talks_about(checking, optional, allowed):
    check = f'<think>Tool: get_pollen_forecast. Required: location = "Leeds".{optional}</think>'
    assert checking([POLLEN], "Leeds for 3 nights, no need to text me")(check) is allowed


def test_a_tool_results_words_name_no_optional_value(tiny_model):
    import xgrammar as xgr

    from tooltune.constrained import ToolResult, grammars_for, quote_sources
    from tooltune.inference import stop_token_ids

    model, tokenizer = load_model_and_tokenizer(tiny_model)
    grammars = grammars_for(model, tokenizer, stop_token_ids(tokenizer))
    check = '<think>Tool: get_pollen_forecast. Required: location = "Leeds".</think>'
    for said_by, allowed in (("tool", True), ("user", False)):
        conversation = [{"role": "user", "content": "pollen in Leeds"}, {"role": said_by, "content": '{"text": "sent monthly"}'}]
        sources = quote_sources(conversation)
        assert isinstance(sources[1], ToolResult) is (said_by == "tool")
        assert xgr.GrammarMatcher(grammars.compile([POLLEN], quotes=sources)).accept_string(check) is allowed


def test_a_currency_the_request_states_still_lets_a_question_ask_for_the_rest(checking):
    accepts = checking([DONATE], "Donate 100 dollars")
    assert accepts('<think>Tool: donate. Required: charity = missing, amount = "100 dollars" -> 100, currency = given.</think>Which charity?')
    assert accepts('<think>Tool: donate. Required: charity = missing, amount = missing, currency = given.</think>Which charity?')
    assert not accepts('<think>Tool: donate. Required: charity = given, amount = given, currency = given.</think>Which charity?')


def test_one_call_allowed_means_a_check_of_one_call():
    from tooltune.constrained import check_grammar

    assert check_grammar([FORECAST, CLOCK], None, "call").startswith('root ::= call ( " " call )*')
    assert check_grammar([FORECAST, CLOCK], None, "call", parallel=False).startswith("root ::= call\n")
    assert check_grammar([Tool(name="ping", parameters={"type": "object", "properties": {"host": {"type": "string"}}})], None, "ask") is None  # nothing to ask for


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


def test_every_check_training_writes_is_one_the_grammar_decodes(tiny_model, tmp_path):
    """The grounded check grammar is a superset of what the model was taught: each generated row's
    <think> (execute, clarify, refuse; parallel and multi-turn; in-passing requests) is accepted,
    but for the few calls that leave out an optional value their request talks about: decoding has
    their check name it, if only as missing (training/reasoning.py does not write that form yet)."""
    import xgrammar as xgr

    from tooltune.constrained import grammars_for, quote_sources
    from tooltune.data import read_records
    from tooltune.data.generate import GenerateConfig, generate
    from tooltune.inference import stop_token_ids
    from tooltune.reading import named_optional
    from tooltune.training.datasets import target_text
    from tooltune.training.reasoning import reasoning_trace

    model, tokenizer = load_model_and_tokenizer(tiny_model)
    grammars = grammars_for(model, tokenizer, stop_token_ids(tokenizer))
    paths = generate(GenerateConfig(n=160, eval_n=60, seed=6, pairs=1.0, shapes=0.3, passing=0.5), tmp_path).paths
    checked, talked_about = 0, 0
    for record in read_records(paths["train"]) + read_records(paths["eval"]):
        if reasoning_trace(record) is None:
            continue
        tools = {t.name: t for t in record.tools}
        asked = [m["content"] for m in record.prompt if m.get("role") == "user"]
        if any(named_optional(tools[c.name], asked) - set(c.arguments) for c in parse_tool_calls(record.ground_truth) or [] if c.name in tools):
            talked_about += 1
            continue
        trace = target_text(record, reasoning=True)  # the whole answer taught: check, then call, question or refusal
        grammar = grammars.compile(list(record.tools), quotes=quote_sources(record.prompt))
        if not xgr.GrammarMatcher(grammar).accept_string(trace):
            # A value the request typed in lower case ("rust") is shown as the call writes it ("Rust"):
            # case alone is no reading, so the check does not quote it; the grammar has it quote "rust".
            text = " ".join(quote_sources(record.prompt))
            trace = re.sub(r'(?<= = )"([^"]+)"', lambda m: json.dumps(m.group(1).lower()) if m.group(1) not in text and m.group(1).lower() in text else m.group(0), trace)
            assert xgr.GrammarMatcher(grammar).accept_string(trace), trace
        checked += 1
    assert checked > 150 and talked_about < 0.05 * checked


SALON = Tool(name="book_haircut", parameters={"type": "object", "properties": {
    "salon": {"type": "string"}, "service": {"type": "string", "enum": ["haircut", "beard_trim", "color"]}}, "required": ["salon", "service"]})
STREET = Tool(name="report_street_issue", parameters={"type": "object", "properties": {
    "issue": {"type": "string", "enum": ["pothole", "streetlight"]}, "address": {"type": "string"}}, "required": ["issue", "address"]})


@pytest.mark.parametrize("tool, request_text, value, allowed", [
    (SALON, "book me a haircut at Sharp Cuts", '"book"', False),  # the tool's own word names no service
    (SALON, "book me a haircut at Sharp Cuts", '"haircut"', True),  # the tool's word that is a value
    (SALON, "book me a haircut at Sharp Cuts", '"book me a haircut" -> "haircut"', False),  # a run that begins with one
    (SALON, "book me in at Sharp Cuts", "missing", True),  # what is left: the request gives no service
    (SALON, "need my hair done at Sharp Cuts", '"hair"', True),  # the start of a value's word ("haircut") stays
    (STREET, "the street lamp outside 5 Queen's Parade is out", '"street lamp" -> "streetlight"', True),
])
def test_a_required_choice_is_never_the_tools_own_word(checking, tool, request_text, value, allowed):
    first, other = list(tool.required)
    other_value = '"Sharp Cuts"' if tool is SALON else '"5 Queen\'s Parade"'
    values = f"{first} = {other_value}, {other} = {value}" if tool is SALON else f"{first} = {value}, {other} = {other_value}"
    decision = "missing" in value
    tail = "Happy to help. Which service?" if decision else ""
    check = f"<think>Tool: {tool.name}. Required: {values}.</think>{tail}"
    assert checking([tool], request_text)(check) is allowed
