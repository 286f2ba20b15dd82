"""Tool schemas and the default system prompt that shows them to the model.

The model's chat template does not render ``tools=``, so tooltune writes the tools into the system
prompt itself, one compact JSON schema per line (the shared record format, docs/data.md). Training, evaluation and serving all
render through :func:`render_system_prompt`, and rows whose tools live only in their system prompt
are read back by :func:`tools_from_system_prompt`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

__all__ = [
    "Tool",
    "ToolSchemaError",
    "render_system_prompt",
    "tools_from_system_prompt",
    "SYSTEM_PROMPT_HEADER",
    "SYSTEM_PROMPT_RULES",
]

SYSTEM_PROMPT_HEADER = "You are a helpful assistant with access to the following tools:"
SYSTEM_PROMPT_RULES = (
    'When using tools, respond with: <TOOLCALL>[{"name": "tool_name", "arguments": {"param": "value"}}]</TOOLCALL>\n'
    "If the user's request is missing a required parameter, ask a clarifying question instead of calling a tool.\n"
    "If the request is harmful or out of scope, politely refuse."
)


class ToolSchemaError(ValueError):
    """A tool definition that cannot be used; the message says which field to fix."""


@dataclass(frozen=True)
class Tool:
    """A function the model may call, in the OpenAI function-schema vocabulary."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})

    @classmethod
    def from_dict(cls, obj: Any) -> "Tool":
        """Accept ``{"type": "function", "function": {...}}`` or the bare ``{"name", ...}`` form, with the
        schema under ``parameters`` (OpenAI), ``inputSchema`` (an MCP server's ``tools/list``) or
        ``input_schema`` (Anthropic)."""
        if isinstance(obj, dict) and isinstance(obj.get("function"), dict):
            obj = obj["function"]
        if not isinstance(obj, dict):
            raise ToolSchemaError(f"a tool must be a JSON object, got {type(obj).__name__}")
        name = obj.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ToolSchemaError("a tool needs a non-empty string 'name'")
        key = next((k for k in ("parameters", "inputSchema", "input_schema") if k in obj), "parameters")
        params = obj.get(key)
        if params is None:  # absent, or null: a tool without parameters
            params = {"type": "object", "properties": {}}
        if not isinstance(params, dict):
            raise ToolSchemaError(f"tool '{name}': '{key}' must be a JSON schema object")
        props = params.get("properties", {})
        if not isinstance(props, dict):
            raise ToolSchemaError(f"tool '{name}': 'parameters.properties' must be an object")
        required = params.get("required", [])
        if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
            raise ToolSchemaError(f"tool '{name}': 'parameters.required' must be a list of names")
        description = obj.get("description", "")
        return cls(name=name.strip(), description=description if isinstance(description, str) else "", parameters=params)

    @property
    def properties(self) -> dict[str, Any]:
        return self.parameters.get("properties", {}) or {}

    @property
    def required(self) -> list[str]:
        return list(self.parameters.get("required", []) or [])

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "parameters": self.parameters}

    def to_openai(self) -> dict[str, Any]:
        return {"type": "function", "function": self.to_dict()}

    def to_prompt_line(self) -> str:
        """The compact one-line JSON the default system prompt lists."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))


def render_system_prompt(tools: list[Tool]) -> str:
    """The default system prompt: the header, one compact JSON schema per tool, the format rules (docs/data.md)."""
    lines = [SYSTEM_PROMPT_HEADER, *(tool.to_prompt_line() for tool in tools), SYSTEM_PROMPT_RULES]
    return "\n".join(lines)


def messages_with_tools(messages: list[dict[str, str]], tools: list[Tool]) -> list[dict[str, str]]:
    """The prompt format, for training, evaluation and serving alike: the tools rendered into the
    system turn (before its own text), unless that turn lists tools already; chat templates ignore
    ``tools=``, so this is the one place tools reach the model."""
    messages = [dict(m) for m in messages]
    if not tools:
        return messages
    if messages and messages[0]["role"] == "system":
        if not tools_from_system_prompt(messages[0]["content"]):
            messages[0]["content"] = render_system_prompt(tools) + "\n\n" + messages[0]["content"]
    else:
        messages.insert(0, {"role": "system", "content": render_system_prompt(tools)})
    return messages


def tools_from_system_prompt(text: str) -> list[Tool]:
    """The tools listed one JSON object per line in a system prompt (ours or a compatible one)."""
    if not isinstance(text, str):
        return []
    # Lines end at "\n" only: str.splitlines() also breaks at U+2028, \x0b, \x0c and \x85, which a
    # tool's description may hold (JSON keeps them unescaped), and the tool would vanish from its row.
    return [tool for line in text.split("\n") if (tool := _tool_from_line(line.strip())) is not None]


@lru_cache(maxsize=65536)
def _tool_from_line(line: str) -> Tool | None:
    # Cached: a dataset repeats the same few hundred tool lines across 100k rows.
    if not (line.startswith("{") and line.endswith("}")):
        return None
    try:
        obj = json.loads(line)
        if "name" not in obj and "function" not in obj:
            return None
        return Tool.from_dict(obj)
    except (ValueError, ToolSchemaError):
        return None
