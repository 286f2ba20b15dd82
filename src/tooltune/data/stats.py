"""What is in a dataset: behavior mix, tools, prompt lengths, duplicates and request shapes.

Token counts are approximate (a word-or-punctuation count, no tokenizer needed): close to BPE
counts for English and JSON, and cheap enough for 100k rows in seconds, since the system prompt,
the bulk of every row, is counted once per distinct prompt.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..schema import parse_tool_calls
from .records import Record, iter_jsonl, structural_problems
from .surface import family_of

__all__ = ["DatasetStats", "compute_stats", "approx_tokens", "request_shape"]

_TOKEN_RE = re.compile(r"\w+|[^\w\s]")
_NUMBER_RE = re.compile(r"\d+(?:[.,:/-]\d+)*")


def approx_tokens(text: str) -> int:
    return len(_TOKEN_RE.findall(text))


def request_shape(user: str, ground_truth_calls: list[Any] | None) -> str:
    """The request with its argument values and numbers masked: rows sharing a shape share a sentence frame."""
    shape = user.casefold()
    values: list[str] = []
    for call in ground_truth_calls or []:
        values.extend(_leaf_strings(call.arguments))
    for value in sorted(set(values), key=len, reverse=True):
        if value:
            shape = shape.replace(value.casefold(), "<v>")
    shape = _NUMBER_RE.sub("<n>", shape)
    return " ".join(shape.split())


def _leaf_strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _leaf_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _leaf_strings(v)] + ([", ".join(map(str, value))] if value else [])
    if isinstance(value, bool) or value is None:
        return []
    return [str(value)]


@dataclass
class DatasetStats:
    """Counts and summaries for one JSONL file (see :func:`compute_stats`)."""

    path: str
    rows: int = 0
    unreadable: int = 0
    behaviors: Counter = field(default_factory=Counter)
    tools_called: Counter = field(default_factory=Counter)
    tools_offered: Counter = field(default_factory=Counter)
    prompt_tokens: list[int] = field(default_factory=list)
    duplicate_prompts: int = 0
    duplicate_rows: int = 0
    shapes: Counter = field(default_factory=Counter)
    # Values a request words otherwise than its call writes them (``extra_info.said``), by surface
    # family ("date", "unit", "enum" ...): how much of the file teaches reading rather than copying.
    said: Counter = field(default_factory=Counter)

    def token_summary(self) -> dict[str, float]:
        values = sorted(self.prompt_tokens)
        if not values:
            return {}
        pick = lambda q: values[min(len(values) - 1, int(q * len(values)))]  # noqa: E731
        return {"min": values[0], "mean": round(sum(values) / len(values), 1), "p50": pick(0.5), "p95": pick(0.95), "max": values[-1]}

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "rows": self.rows,
            "unreadable_rows": self.unreadable,
            "behaviors": dict(self.behaviors),
            "tools_called": dict(self.tools_called.most_common()),
            "tools_offered": dict(self.tools_offered.most_common()),
            "prompt_tokens": self.token_summary(),
            "duplicate_prompts": self.duplicate_prompts,
            "duplicate_rows": self.duplicate_rows,
            "distinct_request_shapes": len(self.shapes),
            "values_said_otherwise": dict(self.said.most_common()),
        }

    def render(self, top: int = 15) -> str:
        lines = [f"{self.path}: {self.rows} rows" + (f" ({self.unreadable} unreadable; run `tooltune data validate`)" if self.unreadable else "")]
        usable = sum(self.behaviors.values()) or 1
        lines.append("behavior mix:")
        for name in ("execute", "clarify", "refuse"):
            count = self.behaviors.get(name, 0)
            lines.append(f"  {name:<8} {count:>7}  {100 * count / usable:5.1f}%")
        tokens = self.token_summary()
        if tokens:
            lines.append("prompt tokens (approx.): " + "  ".join(f"{k} {v}" for k, v in tokens.items()))
        lines.append(f"tools: {len(self.tools_offered)} offered, {len(self.tools_called)} called in ground truth")
        for name, count in self.tools_called.most_common(top):
            lines.append(f"  {name:<32} called {count:>6}  offered {self.tools_offered[name]:>6}")
        if len(self.tools_called) > top:
            lines.append(f"  ... and {len(self.tools_called) - top} more")
        lines.append(f"distinct request shapes (values masked): {len(self.shapes)}")
        lines.append(f"duplicates: {self.duplicate_prompts} repeated user prompts, {self.duplicate_rows} repeated rows")
        if self.said:
            lines.append(f"values said otherwise than the call writes them, by parameter kind: {sum(self.said.values())} (" + ", ".join(f"{k} {v}" for k, v in self.said.most_common()) + ")")
        return "\n".join(lines)


def compute_stats(path: str | Path) -> DatasetStats:
    stats = DatasetStats(path=str(path))
    seen_prompts: set[str] = set()
    seen_rows: set[tuple[str, str]] = set()
    system_tokens: dict[str, int] = {}
    for number, obj, problem in iter_jsonl(path):
        stats.rows += 1
        if problem or structural_problems(obj, number):
            stats.unreadable += 1
            continue
        record = Record(raw=obj, line=number)
        stats.behaviors[record.behavior] += 1
        for tool in record.tools:
            stats.tools_offered[tool.name] += 1
        calls = parse_tool_calls(record.ground_truth)
        for call in calls or []:
            stats.tools_called[call.name] += 1
        tokens = 0
        for message in record.prompt:
            content = message.get("content", "")
            if message.get("role") == "system":
                if content not in system_tokens:
                    system_tokens[content] = approx_tokens(content)
                tokens += system_tokens[content]
            else:
                tokens += approx_tokens(content)
        stats.prompt_tokens.append(tokens)
        user = " ".join(record.user_prompt.casefold().split())
        if user in seen_prompts:
            stats.duplicate_prompts += 1
        seen_prompts.add(user)
        key = (record.system_prompt + "\x00" + user, record.ground_truth)
        if key in seen_rows:
            stats.duplicate_rows += 1
        seen_rows.add(key)
        stats.shapes[request_shape(record.user_prompt, calls)] += 1
        extra = obj.get("extra_info") if isinstance(obj.get("extra_info"), dict) else {}
        said = extra.get("said")
        if isinstance(said, dict) and said:
            # The row's own tool last, so it wins where two listed tools share a parameter name.
            schemas = {name: schema for tool in sorted(record.tools, key=lambda t: t.name == extra.get("tool")) for name, schema in tool.properties.items() if isinstance(schema, dict)}
            for name in said:
                schema = schemas.get(name, {})
                family = "enum" if schema.get("enum") else family_of(name, schema) or "other"
                stats.said["unit" if family.startswith("unit:") else family] += 1
    return stats
