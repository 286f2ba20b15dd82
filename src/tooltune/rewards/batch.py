"""Scoring whole files: match predictions to rows, call a reward in batches, summarize per behavior."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..data.records import Record, iter_jsonl
from .loader import Reward, row_columns

__all__ = ["record_columns", "match_predictions", "score_rows", "ScoreSummary"]


def record_columns(records: list[Record]) -> dict[str, list[Any]]:
    """The dataset columns TRL would pass a reward for these rows (``line`` lets errors name the row)."""
    return {**row_columns([r.raw for r in records], [r.line for r in records]), "behavior": [r.behavior for r in records]}


def match_predictions(records: list[Record], path: str | Path, first_rows: bool = False) -> list[str]:
    """One response per record, matched by ``id`` when every prediction has one, else by position.
    ``first_rows``: ``records`` are the file's first rows (``--limit``), so by position the first
    responses answer them and the rest are left."""
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, obj, problem in iter_jsonl(path):
        if problem:
            raise ValueError(f"{path}: {problem}")
        if not isinstance(obj, dict) or not isinstance(obj.get("response"), str):
            hint = ("; this is `tooltune eval`'s own predictions.jsonl (answers under model.answer): write {\"id\", \"response\"} lines from it to score them again"
                    if isinstance(obj, dict) and isinstance(obj.get("model"), dict) and "answer" in obj["model"] else "")
            raise ValueError(f"{path}: line {number}: response: each line needs a string 'response' (and optionally 'id'){hint}")
        rows.append((number, obj))
    if rows and all("id" in obj for _, obj in rows) and all(r.id is not None for r in records):
        seen: dict[str, int] = {}
        for number, obj in rows:  # two answers for one row: which one to score is a guess, so say so
            if str(obj["id"]) in seen:
                raise ValueError(f"{path}: line {number}: id {obj['id']!r} again (first on line {seen[str(obj['id'])]}); give one response per id")
            seen[str(obj["id"])] = number
        by_id = {str(obj["id"]): obj["response"] for _, obj in rows}
        missing = [r.id for r in records if str(r.id) not in by_id]
        if missing:
            raise ValueError(f"{path}: no response for id(s) {missing[:10]}{' ...' if len(missing) > 10 else ''}")
        return [by_id[str(r.id)] for r in records]
    if first_rows and len(rows) > len(records):
        rows = rows[: len(records)]
    if len(rows) != len(records):
        raise ValueError(f"{path}: {len(rows)} responses for {len(records)} rows; give one per row or match them by 'id'")
    return [obj["response"] for _, obj in rows]


@dataclass
class ScoreSummary:
    """Per-row rewards (None where the reward did not apply or failed) and their means per behavior."""

    values: list[float | None]
    behaviors: list[str]
    parts: dict[str, list[float | None]] = field(default_factory=dict)  # a mixed reward's parts, row by row

    def part_means(self) -> dict[str, float]:
        """``{part: mean, part_behavior: mean}`` over the rows each part scored (a mixed reward only)."""
        out: dict[str, float] = {}
        for name, values in self.parts.items():
            for key in ("execute", "clarify", "refuse", "all"):
                got = [v for v, b in zip(values, self.behaviors) if v is not None and key in (b, "all")]
                if got:
                    out[name if key == "all" else f"{name}_{key}"] = sum(got) / len(got)
        return out

    def means(self) -> dict[str, tuple[int, float | None]]:
        groups: dict[str, list[float]] = defaultdict(list)
        counts: dict[str, int] = defaultdict(int)
        for value, behavior in zip(self.values, self.behaviors):
            for key in (behavior, "all"):
                counts[key] += 1
                if value is not None:
                    groups[key].append(value)
        return {k: (counts[k], sum(groups[k]) / len(groups[k]) if groups[k] else None) for k in ("execute", "clarify", "refuse", "all") if counts.get(k)}

    def render(self, name: str) -> str:
        names = list(self.parts)
        lines = [f"reward: {name}", f"{'behavior':<10}{'rows':>7}{'mean':>9}" + "".join(f"{p[:12]:>14}" for p in names)]
        means = self.part_means()
        for key, (count, mean) in self.means().items():
            cells = "".join(f"{means[k]:14.3f}" if (k := p if key == "all" else f"{p}_{key}") in means else f"{'n/a':>14}" for p in names)
            lines.append(f"{key:<10}{count:>7}{'   n/a' if mean is None else f'{mean:9.3f}'}{cells}")
        return "\n".join(lines)


def score_rows(reward: Reward | Any, records: list[Record], responses: list[str], batch_size: int = 512) -> ScoreSummary:
    values: list[float | None] = []
    parts: dict[str, list[float | None]] = defaultdict(list)
    for start in range(0, len(records), batch_size):
        chunk = records[start : start + batch_size]
        values.extend(reward([r.prompt for r in chunk], responses[start : start + batch_size], **record_columns(chunk)))
        for name, got in getattr(reward, "part_values", {}).items():  # a MixedReward's parts
            parts[name].extend(got)
    return ScoreSummary(values=values, behaviors=[r.behavior for r in records], parts=dict(parts))
