"""Messages, tools, tool calls and behaviors: the vocabulary every other layer speaks. No torch."""

from .behavior import BEHAVIORS, EXPECTED_DECISION, Behavior, Decision, classify_response, infer_behavior, is_question, is_refusal
from .toolcalls import THINK_CLOSE, THINK_OPEN, ToolCall, format_tool_calls, has_call_markup, parse_tool_calls, split_reasoning
from .tools import Tool, ToolSchemaError, messages_with_tools, render_system_prompt, tools_from_system_prompt

__all__ = [
    "BEHAVIORS",
    "THINK_CLOSE",
    "THINK_OPEN",
    "EXPECTED_DECISION",
    "Behavior",
    "Decision",
    "Tool",
    "ToolCall",
    "ToolSchemaError",
    "classify_response",
    "format_tool_calls",
    "has_call_markup",
    "infer_behavior",
    "is_question",
    "is_refusal",
    "parse_tool_calls",
    "messages_with_tools",
    "render_system_prompt",
    "split_reasoning",
    "tools_from_system_prompt",
]
