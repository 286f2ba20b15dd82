"""Optional teacher: reword generated requests through any OpenAI-compatible endpoint.

The generator is fully offline; a teacher model only makes the wording more natural. A rewrite is
kept only if it passes checks that protect the label: every argument value of an execute row must
still appear verbatim, and a clarify row's rewrite must not grow a value the row lacks (we cannot
check that exactly, so rewrites that add digits or run much longer are rejected). A value the
request states in other words ("4 pm" for "16:00") is checked by ``keeps``, which ``data generate``
sets to the grounded check (``tooltune.rewards.grounding.still_grounded``: it lives a layer up).
Anything the teacher gets wrong leaves the original request in place, counted in the returned summary.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Callable

from ..schema import parse_tool_calls
from .records import Record

__all__ = ["TeacherSummary", "rewrite_with_teacher", "TEACHER_INSTRUCTIONS"]

TEACHER_INSTRUCTIONS = (
    "Rewrite the user's request so it sounds like a real person wrote it. Keep every name, number, date, "
    "code and quoted value exactly as written, do not add any new facts or values, and keep the same intent. "
    "Reply with the rewritten request only."
)


@dataclass
class TeacherSummary:
    rewritten: int = 0
    kept_original: int = 0
    failed_calls: int = 0


def rewrite_with_teacher(records: list[Record], url: str, model: str, api_key: str | None = None, timeout: float = 60.0,
                         keeps: Callable[[Record, str], bool] | None = None) -> TeacherSummary:
    """Reword each row's last user message in place; returns how many were rewritten or kept.
    ``keeps(record, rewrite)``, when given, must also accept a rewrite (every value still stated)."""
    from openai import OpenAI  # imported here: only teacher runs need the client

    client = OpenAI(base_url=url.rstrip("/"), api_key=api_key or os.environ.get("OPENAI_API_KEY") or "not-needed", timeout=timeout, max_retries=1)
    summary = TeacherSummary()
    for record in records:
        original = record.user_prompt
        try:
            reply = client.chat.completions.create(
                model=model,
                messages=[{"role": "system", "content": TEACHER_INSTRUCTIONS}, {"role": "user", "content": original}],
                temperature=0.7,
            )
            candidate = (reply.choices[0].message.content or "").strip().strip('"')
        except Exception:  # a flaky endpoint must not lose the generated data
            summary.failed_calls += 1
            continue
        if _acceptable(record, original, candidate) and (keeps is None or keeps(record, candidate)):
            record.prompt[-1]["content"] = candidate
            record.raw.setdefault("extra_info", {})["teacher"] = {"model": model, "original": original}
            summary.rewritten += 1
        else:
            summary.kept_original += 1
    return summary


def _acceptable(record: Record, original: str, candidate: str) -> bool:
    if not candidate or len(candidate) > 3 * len(original) + 40 or "\n\n" in candidate:
        return False
    lowered = candidate.casefold()
    if record.behavior == "execute":
        calls = parse_tool_calls(record.ground_truth) or []
        return all(value.casefold() in lowered for call in calls for value in _leaf_texts(call.arguments) if value.casefold() in original.casefold())
    # Clarify and refuse rows: no new numbers may appear (a new number is a new value).
    return set(re.findall(r"\d+", candidate)) <= set(re.findall(r"\d+", original))


def _leaf_texts(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [t for v in value.values() for t in _leaf_texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _leaf_texts(v)]
    if isinstance(value, bool) or value is None:
        return []
    return [str(value)]
