import pytest

from tooltune.schema import Tool, ToolSchemaError, render_system_prompt, tools_from_system_prompt
from tests.conftest import STDDEV, WEATHER


def test_system_prompt_is_exactly_the_mission_format():
    prompt = render_system_prompt([WEATHER])
    lines = prompt.splitlines()
    assert lines[0] == "You are a helpful assistant with access to the following tools:"
    assert lines[1].startswith('{"name":"get_weather_forecast","description":')
    assert " " not in lines[1].split('"description"')[0]  # compact separators
    assert lines[2] == 'When using tools, respond with: <TOOLCALL>[{"name": "tool_name", "arguments": {"param": "value"}}]</TOOLCALL>'
    assert lines[3] == "If the user's request is missing a required parameter, ask a clarifying question instead of calling a tool."
    assert lines[4] == "If the request is harmful or out of scope, politely refuse."


def test_tools_round_trip_through_the_system_prompt():
    assert tools_from_system_prompt(render_system_prompt([WEATHER, STDDEV])) == [WEATHER, STDDEV]


def test_openai_function_schema_accepted():
    tool = Tool.from_dict({"type": "function", "function": WEATHER.to_dict()})
    assert tool == WEATHER
    assert tool.required == ["location"]


@pytest.mark.parametrize("bad", [{"description": "x"}, {"name": ""}, {"name": "f", "parameters": []}, {"name": "f", "parameters": {"required": "x"}}, "f"])
def test_unusable_tool_definitions_say_what_to_fix(bad):
    with pytest.raises(ToolSchemaError):
        Tool.from_dict(bad)


def test_a_description_with_unicode_line_separators_reads_back():
    """str.splitlines() broke a tool line at U+2028 / \\x0b / \\x85 (found by a hostile probe): the row lost its tool."""
    import json

    from tooltune.schema import Tool, render_system_prompt, tools_from_system_prompt

    tool = Tool(name="f", description="one\u2028two\x0bthree\x85four", parameters={"type": "object", "properties": {"x": {"type": "string", "description": "a\u2029b"}}})
    raw = "Tools:\n" + json.dumps(tool.to_openai(), ensure_ascii=False) + "\r\nAnswer."  # as a user's own file may hold it
    for text in (render_system_prompt([tool]), raw):
        (back,) = tools_from_system_prompt(text)
        assert back.description == tool.description and back.parameters == tool.parameters
