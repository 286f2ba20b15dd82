"""The OpenAI chat-completions wire format, as pydantic models, and the mapping to our prompts.

A request's ``tools`` are rendered into the system prompt exactly as training rendered them
(:func:`tooltune.schema.render_system_prompt`); earlier assistant tool calls are written back in
the ``<TOOLCALL>`` form the model was trained to produce; an answer is parsed by the same
:func:`tooltune.schema.parse_tool_calls` that rewards and evaluation use.

Torch-free.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..data.validate import schema_problem
from ..reading import read_values
from ..schema import Tool, ToolCall, ToolSchemaError, format_tool_calls, messages_with_tools, parse_tool_calls, split_reasoning

__all__ = ["ChatRequest", "Message", "ToolSpec", "conversation", "answer_message", "new_id"]


class FunctionSpec(BaseModel):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str | None = None
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})

    @field_validator("parameters")
    @classmethod
    def _a_json_schema(cls, value: dict[str, Any]) -> dict[str, Any]:
        # A broken schema is the client's error (as OpenAI answers it), not a call the server
        # quietly stops constraining. Checked once per distinct schema: agents resend their tools.
        problem = schema_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class ToolSpec(BaseModel):
    type: Literal["function"] = "function"
    function: FunctionSpec

    def tool(self) -> Tool:
        return Tool(name=self.function.name, description=self.function.description or "", parameters=self.function.parameters)


class FunctionCall(BaseModel):
    name: str
    arguments: str  # a JSON string, as OpenAI sends it


class ToolCallSpec(BaseModel):
    id: str | None = None
    type: Literal["function"] = "function"
    function: FunctionCall


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None
    tool_calls: list[ToolCallSpec] | None = None
    tool_call_id: str | None = None
    name: str | None = None

    @field_validator("content")
    @classmethod
    def _text_parts_only(cls, value: Any) -> Any:
        # An image or audio part dropped quietly would leave the model answering a message it never saw.
        for part in value if isinstance(value, list) else []:
            kind = part.get("type")
            if kind not in ("text", "refusal"):  # an assistant's refusal part is text too (OpenAI sends it in history)
                raise ValueError(f"a content part of type {kind!r}: this endpoint's model reads text parts only; send the text")
        return value

    def text(self) -> str:
        if isinstance(self.content, list):  # content parts: keep the text ones
            return "".join(part.get("text") or part.get("refusal") or "" for part in self.content if isinstance(part, dict) and part.get("type") in ("text", "refusal"))
        return self.content or ""


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # unknown OpenAI fields (seed, user, ...) are accepted and ignored

    model: str
    messages: list[Message] = Field(min_length=1)
    tools: list[ToolSpec] | None = None
    tool_choice: str | dict[str, Any] | None = None
    temperature: float = Field(default=1.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    n: int = Field(default=1, ge=1, le=8)
    seed: int | None = Field(default=None, ge=0, le=2**63 - 1)
    stop: str | list[str] | None = None
    stream: bool = False
    parallel_tool_calls: bool = True  # false: the answer carries its first call only
    logprobs: bool | None = None  # not served: refused when asked for, never silently left out
    response_format: dict[str, Any] | None = None  # {"type": "text"} only: JSON modes are refused, not ignored

    @field_validator("logprobs")
    @classmethod
    def _no_logprobs(cls, value: bool | None) -> bool | None:
        if value:
            raise ValueError("logprobs are not served by this endpoint; leave them out")
        return value

    @field_validator("response_format")
    @classmethod
    def _text_format(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and value.get("type") != "text":
            raise ValueError(f"only {{'type': 'text'}} is served (got {value.get('type')!r}); tool calls come back as message.tool_calls")
        return value

    @model_validator(mode="after")
    def _sound_text_and_tools(self) -> "ChatRequest":
        # A lone surrogate ("\\ud800" is legal JSON) cannot be tokenized: say where it is.
        parts = [(f"messages.{i}", m) for i, m in enumerate(self.messages)] + [(f"tools.{i}", t) for i, t in enumerate(self.tools or [])]
        for where, part in parts:
            try:
                json.dumps(part.model_dump(), ensure_ascii=False).encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(f"{where}: not valid Unicode (a lone surrogate such as \\ud800); send UTF-8 text") from None
        names = [t.function.name for t in self.tools or []]
        if len(set(names)) < len(names):
            raise ValueError(f"tools: {', '.join(sorted({n for n in names if names.count(n) > 1}))} listed twice; list each function once")
        return self

    @model_validator(mode="after")
    def _known_tool_choice(self) -> "ChatRequest":
        choice = self.tool_choice
        if choice is None or choice in ("auto", "none", "required"):
            if choice == "required" and not self.tools:
                raise ValueError("tool_choice 'required' needs tools")
            return self
        name = (choice.get("function") or {}).get("name") if isinstance(choice, dict) and choice.get("type") == "function" else None
        if not isinstance(name, str):
            raise ValueError('tool_choice must be "none", "auto", "required" or {"type": "function", "function": {"name": ...}}')
        if name not in {t.function.name for t in self.tools or []}:
            raise ValueError(f"tool_choice names {name!r}, which is not in tools")
        return self

    def forced_prefix(self) -> str:
        """What the answer must begin with so ``tool_choice`` holds: the model writes the rest.
        'required' opens the call list; a named function opens its call up to the arguments."""
        if not self.tools or self.tool_choice in (None, "auto", "none"):
            return ""
        if self.tool_choice == "required":
            return "<TOOLCALL>["
        name = self.tool_choice["function"]["name"]  # type: ignore[index]
        return '<TOOLCALL>[{"name": ' + json.dumps(name) + ', "arguments": '

    def offered(self) -> list[ToolSpec] | None:
        """The tools an answer may call: none when tool_choice is 'none'."""
        return None if self.tool_choice == "none" else self.tools

    @field_validator("stop")
    @classmethod
    def _stop_list(cls, value: str | list[str] | None) -> list[str] | None:
        if value is None:
            return None
        stops = [value] if isinstance(value, str) else value
        if len(stops) > 4:
            raise ValueError("at most 4 stop sequences")
        return [s for s in stops if s]

    def token_limit(self, default: int) -> int:
        return self.max_completion_tokens or self.max_tokens or default


def conversation(request: ChatRequest) -> list[dict[str, str]]:
    """The chat-template messages the model sees: tools in the system prompt, calls as <TOOLCALL>."""
    messages: list[dict[str, str]] = []
    for message in request.messages:
        role = "system" if message.role == "developer" else message.role
        content = message.text()
        if message.role == "assistant" and message.tool_calls:
            calls = [ToolCall(c.function.name, _arguments(c.function.arguments)) for c in message.tool_calls]
            content = (content + "\n" if content else "") + format_tool_calls(calls)
        messages.append({"role": role, "content": content})
    if not request.tools or request.tool_choice == "none":
        return messages
    return messages_with_tools(messages, [t.tool() for t in request.tools])


def _arguments(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def answer_message(text: str, offered: list[ToolSpec] | None, parallel: bool = True, read: bool = True, texts: list[str] | None = None) -> tuple[dict[str, Any], str]:
    """An assistant message for ``text`` and its finish reason: parsed tool calls (the first only
    unless ``parallel``), or content. With ``read``, values the check quotes from the request are
    read by code (:func:`tooltune.reading.read_values`: "7:15 pm" -> "19:15"; ``texts``, the
    request's words, let "9" of "9 to 11 am" read as 09:00).

    A leading ``<think>`` segment goes to ``reasoning_content`` (the field vLLM and DeepSeek's API
    use), so clients see the answer alone in ``content``.
    """
    if read and offered:
        text = read_values(text, [t.tool() for t in offered], texts).answer
    reasoning, answer = split_reasoning(text)
    calls = parse_tool_calls(answer) if offered else None
    if calls and not parallel:
        calls = calls[:1]
    thought = {"reasoning_content": reasoning} if reasoning else {}
    if calls:
        tool_calls = [
            {"id": f"call_{uuid.uuid4().hex[:24]}", "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
            for c in calls
        ]
        return {"role": "assistant", "content": None, **thought, "tool_calls": tool_calls}, "tool_calls"
    return {"role": "assistant", "content": answer, **thought}, "stop"


def new_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"


def created() -> int:
    return int(time.time())
