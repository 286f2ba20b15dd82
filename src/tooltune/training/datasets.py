"""Dataset rows → the conversational datasets TRL's trainers take, one builder per technique.

- sft:  ``prompt`` (messages) + ``completion`` (the assistant answer): TRL puts the loss on the
        answer only for prompt-completion data.
- rlvr: ``prompt`` + the columns our rewards read (``reward_model``, ``behavior``, ``extra_info``).
- dpo:  ``prompt`` + ``chosen`` (the ground truth) + ``rejected`` (the model's own worst-scored
        sample, or a near miss of the right kind: a call where it should ask, a dropped or mistyped
        argument, compliance where it should refuse).
"""

from __future__ import annotations

import json
import random
from typing import Any

from ..data.records import Record
from ..schema import ToolCall, format_tool_calls, messages_with_tools, parse_tool_calls
from .reasoning import asked_tool, call_trace, missing_parameters, reasoning_trace

__all__ = ["training_messages", "target_text", "answer_budget", "sft_rows", "rlvr_rows", "dpo_rows", "near_miss", "balance_behaviors"]


def training_messages(record: Record) -> list[dict[str, str]]:
    """The prompt the model sees. Tools that live only in a row's ``tools`` field are rendered into
    the system prompt, because the model's chat template ignores ``tools=``."""
    return messages_with_tools([{"role": m["role"], "content": m["content"]} for m in record.prompt], record.tools)


def target_text(record: Record, reasoning: bool = False) -> str:
    """The answer to learn: the canonical ``<TOOLCALL>`` form for calls, the text otherwise;
    with ``reasoning``, after the row's ``<think>`` check where it has one."""
    calls = parse_tool_calls(record.ground_truth)
    answer = format_tool_calls(calls) if calls else record.ground_truth
    trace = reasoning_trace(record) if reasoning else None
    return trace + answer if trace else answer


def answer_budget(records: list[Record], tokenizer: Any, margin: int = 64) -> int:
    """Tokens for scoring answers to ``records``: their longest taught answer (with its ``<think>``
    check) plus ``margin``. A right answer is never cut off, and a model that runs on (an untuned base
    does on nearly every row) stops near the file's own longest answer rather than at a fixed cap."""
    longest = max((len(tokenizer(target_text(r, reasoning=True), add_special_tokens=False)["input_ids"]) for r in records), default=0)
    return longest + margin


def sft_rows(records: list[Record], reasoning: bool = False) -> list[dict[str, Any]]:
    return [{"prompt": training_messages(r), "completion": [{"role": "assistant", "content": target_text(r, reasoning)}]} for r in records]


def balance_behaviors(records: list[Record], seed: int = 0) -> list[Record]:
    """Every behavior as often as the most common one (the rarer rows repeated, in a seeded order).

    On the 60/25/15 mix, GRPO prompts are mostly execute rows, where calling earns up to 1.0, so
    RL pushes the policy toward calling and unlearns asking and refusing (docs/ablations.md).
    Rows without a behavior label are kept once.
    """
    groups: dict[str, list[Record]] = {}
    for record in records:
        groups.setdefault(record.behavior or "", []).append(record)
    labelled = {b: rows for b, rows in groups.items() if b}
    target = max((len(rows) for rows in labelled.values()), default=0)
    rng = random.Random(seed)
    out = list(groups.get("", []))
    for rows in labelled.values():
        extra = [rows[i % len(rows)] for i in range(target - len(rows))]
        out += rows + rng.sample(extra, len(extra))
    rng.shuffle(out)
    return out


def rlvr_rows(records: list[Record]) -> list[dict[str, Any]]:
    """The prompt, and the whole row as JSON: the reward gets every field the user wrote, as in
    `tooltune reward score` (:func:`tooltune.rewards.loader.row_columns`); ``line`` names it in errors."""
    return [{"prompt": training_messages(r), "behavior": r.behavior, "row": json.dumps(r.raw, ensure_ascii=False), "line": r.line} for r in records]


def dpo_rows(records: list[Record], seed: int = 0, rejected: list[str | None] | None = None, reasoning: bool = False) -> list[dict[str, Any]]:
    """``rejected`` holds answers sampled from the model (see ``rejections.py``); a row without
    one gets a synthesized near miss. With ``reasoning`` (a model warm-started with the ``<think>``
    check) both sides carry a check, so the pair does not differ merely in having one."""
    rng = random.Random(seed)
    rejected = rejected or [None] * len(records)
    return [
        {
            "prompt": training_messages(r),
            "chosen": [{"role": "assistant", "content": target_text(r, reasoning)}],
            "rejected": [{"role": "assistant", "content": sampled if sampled is not None else near_miss(r, rng, reasoning)}],
        }
        for r, sampled in zip(records, rejected)
    ]


def near_miss(record: Record, rng: random.Random, reasoning: bool = False) -> str:
    """A plausible wrong answer of the kind small models give for this row's behavior.

    With ``reasoning`` it comes after a check: the wrong check a wrong call implies (an invented
    value where the row's check says ``missing``), else the row's own check, which the answer then
    contradicts (asking although the check found every value)."""
    answer = _near_miss_answer(record, rng)
    if not reasoning:
        return answer
    return (call_trace(record, answer) or reasoning_trace(record) or "") + answer


def _near_miss_answer(record: Record, rng: random.Random) -> str:
    calls = parse_tool_calls(record.ground_truth)
    tools = {t.name: t for t in record.tools}
    if calls:
        call = calls[0]
        tool = tools.get(call.name)
        options = []
        if tool and tool.required:
            param = rng.choice(tool.required)
            options.append(lambda: f"Which {param.replace('_', ' ')} would you like?")  # asks although everything was given
            if len(call.arguments) > 1 or param not in call.arguments:
                options.append(lambda: format_tool_calls([ToolCall(call.name, {k: v for k, v in call.arguments.items() if k != param})]))
        stringly = {k: ", ".join(map(str, v)) if isinstance(v, list) else str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v for k, v in call.arguments.items()}
        if stringly != call.arguments:
            options.append(lambda: format_tool_calls([ToolCall(call.name, stringly)]))
        others = [name for name in tools if name != call.name]
        if others:
            options.append(lambda: format_tool_calls([ToolCall(rng.choice(others), call.arguments)]))
        options.append(lambda: "I'm sorry, but I can't help with that.")
        return rng.choice(options)()
    behavior = record.behavior
    if behavior == "clarify" and tools:
        tool = asked_tool(record) or next(iter(tools.values()))
        invented = {name: _invented(tool.properties.get(name, {})) for name in tool.required}
        return format_tool_calls([ToolCall(tool.name, invented)])  # calls anyway, inventing the missing value
    if tools and rng.random() < 0.5:
        tool = rng.choice(list(tools.values()))
        return format_tool_calls([ToolCall(tool.name, {name: _invented(tool.properties.get(name, {})) for name in tool.required})])
    return "Sure! Here is what you asked for."


def _invented(schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if schema.get("enum"):
        return schema["enum"][0]
    return {"integer": 1, "number": 1.0, "boolean": True, "array": [], "object": {}}.get(kind, "example")
