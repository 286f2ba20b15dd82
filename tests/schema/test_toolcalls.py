import json

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tooltune.schema import ToolCall, format_tool_calls, has_call_markup, parse_tool_calls, split_reasoning

CALL = ToolCall("get_weather_forecast", {"location": "San Francisco", "days": 3})


def test_toolcall_tags_list_and_single_object():
    text = 'Sure. <TOOLCALL>[{"name": "get_weather_forecast", "arguments": {"location": "San Francisco", "days": 3}}]</TOOLCALL>'
    assert parse_tool_calls(text) == [CALL]
    single = '<TOOLCALL>{"name": "get_weather_forecast", "arguments": {"location": "San Francisco", "days": 3}}</TOOLCALL>'
    assert parse_tool_calls(single) == [CALL]


def test_hermes_tool_call_tags_one_or_many_with_string_arguments():
    text = (
        '<tool_call>{"name": "a", "arguments": "{\\"x\\": 1}"}</tool_call>\n'
        '<tool_call>{"name": "b", "parameters": {"y": [1, 2]}}</tool_call>'
    )
    assert parse_tool_calls(text) == [ToolCall("a", {"x": 1}), ToolCall("b", {"y": [1, 2]})]


def test_fenced_json_blocks_with_and_without_language():
    assert parse_tool_calls('Here:\n```json\n[{"name": "f", "arguments": {}}]\n```') == [ToolCall("f", {})]
    assert parse_tool_calls('```\n{"name": "f", "arguments": {"q": "x"}}\n```') == [ToolCall("f", {"q": "x"})]


def test_bare_json_list_or_object_in_prose():
    assert parse_tool_calls('I will call [{"name": "f", "arguments": {"a": 1}}] now') == [ToolCall("f", {"a": 1})]
    assert parse_tool_calls('{"name": "f", "arguments": {"a": 1}}') == [ToolCall("f", {"a": 1})]


def test_openai_function_shape_is_unwrapped():
    text = json.dumps([{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"a": 2}'}}])
    assert parse_tool_calls(text) == [ToolCall("f", {"a": 2})]


def test_repairs_trailing_commas_single_quotes_and_python_literals():
    assert parse_tool_calls("<TOOLCALL>[{'name': 'f', 'arguments': {'a': [1, 2,],},}]</TOOLCALL>") == [ToolCall("f", {"a": [1, 2]})]
    assert parse_tool_calls("<TOOLCALL>[{'name': 'f', 'arguments': {'ok': True, 'x': None}}]</TOOLCALL>") == [ToolCall("f", {"ok": True, "x": None})]


def test_no_guessing_on_broken_json():
    assert parse_tool_calls('<TOOLCALL>[{"name": "f", "arguments": {"a": </TOOLCALL>') is None
    assert has_call_markup('<TOOLCALL>[{"name": "f", "arguments": {"a": </TOOLCALL>')


def test_reasoning_is_ignored_and_returned_by_sibling():
    text = '<think>maybe [{"name": "wrong"}]</think><TOOLCALL>[{"name": "f", "arguments": {}}]</TOOLCALL>'
    assert parse_tool_calls(text) == [ToolCall("f", {})]
    reasoning, answer = split_reasoning(text)
    assert reasoning == 'maybe [{"name": "wrong"}]'
    assert answer.startswith("<TOOLCALL>")
    assert parse_tool_calls('<think>[{"name": "f"}]</think>Which city?') is None
    assert split_reasoning("plan</think>answer") == ("plan", "answer")


def test_text_without_a_call_returns_none():
    for text in ["Which city would you like?", "", "[1, 2, 3]", '{"city": "Paris"}', "<TOOLCALL>[]</TOOLCALL>", "{", None]:
        assert parse_tool_calls(text) is None


def test_data_lists_are_not_calls():
    # a list of objects where only some items are calls is data, not a call list
    assert parse_tool_calls('[{"name": "f"}, {"value": 3}]') is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
calls = st.builds(
    ToolCall,
    name=st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True),
    arguments=st.dictionaries(st.text(max_size=10), json_values, max_size=5),
)


def test_the_tag_that_opens_first_wins():
    """Found by the fuzz test below: a Hermes call whose argument is the text "<TOOLCALL>"."""
    hermes = '<tool_call>{"name": "a", "arguments": "{\\"<TOOLCALL>\\": null}"}</tool_call>'
    assert parse_tool_calls(hermes) == [ToolCall(name="a", arguments={"<TOOLCALL>": None})]
    ours = '<TOOLCALL>[{"name": "b", "arguments": {"note": "<tool_call>"}}]</TOOLCALL>'
    assert parse_tool_calls(ours) == [ToolCall(name="b", arguments={"note": "<tool_call>"})]
    fenced = '```json\n[{"name": "a", "arguments": {"": ["<tool_call>"]}}]\n```'  # a tag that is only text in a fenced call's value
    assert parse_tool_calls(fenced) == [ToolCall(name="a", arguments={"": ["<tool_call>"]})]
    assert parse_tool_calls('[{"name": "a", "arguments": {"x": "<TOOLCALL>"}}]') == [ToolCall(name="a", arguments={"x": "<TOOLCALL>"})]


@settings(max_examples=200, deadline=None)
@given(st.lists(calls, min_size=1, max_size=4), st.text(max_size=40), st.sampled_from(["toolcall", "hermes", "fence", "bare"]))
def test_round_trip_every_format(call_list, prose, style):
    prose = prose.replace("<", "").replace("`", "").replace("[", "").replace("{", "")
    payload = json.dumps([c.to_dict() for c in call_list], ensure_ascii=False)
    assume("</think>" not in payload)  # a lone </think> ends a reasoning segment by design
    text = {
        "toolcall": format_tool_calls(call_list),
        "hermes": "".join(f"<tool_call>{json.dumps({'name': c.name, 'arguments': json.dumps(c.arguments)})}</tool_call>" for c in call_list),
        "fence": f"```json\n{payload}\n```",
        "bare": payload,
    }[style]
    assert parse_tool_calls(prose + text) == call_list


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=300))
def test_never_raises_on_arbitrary_text(text):
    result = parse_tool_calls(text)
    assert result is None or all(isinstance(c, ToolCall) for c in result)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="[]{}\"',:<>/TOLCAtoolcal_ {}0123456789nametrgus\\", max_size=200))
def test_never_raises_on_bracket_soup(text):
    parse_tool_calls(text)
    parse_tool_calls("<TOOLCALL>" + text)
