"""The main job, end to end on what exists today: generate → validate → stats → score.

    tooltune quickstart --out runs/quickstart

Until the training stages land this runs the data and reward pipeline on a generated sample and
scores four scripted policies on the held-out set with both built-in rewards. The table shows why
the strict reward is the default: a policy that never calls a tool earns the reference reward's
free clarify/refuse credit, and the strict reward takes it away.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .data import Record, read_records, validate_file
from .data.generate import GenerateConfig, generate
from .data.stats import compute_stats
from .rewards import load_reward
from .rewards.batch import score_rows
from .schema import format_tool_calls, parse_tool_calls

__all__ = ["QuickstartResult", "run_quickstart", "POLICIES"]


def _gold(record: Record) -> str:
    calls = parse_tool_calls(record.ground_truth)
    return format_tool_calls(calls) if calls else record.ground_truth


def _always_call(record: Record) -> str:
    calls = parse_tool_calls(record.ground_truth)
    if calls:
        return format_tool_calls(calls)
    tool = record.tools[0]
    return format_tool_calls([{"name": tool.name, "arguments": {}}])


def _never_call(record: Record) -> str:
    return "Could you tell me a bit more about what you need?"


def _near_miss(record: Record) -> str:
    """Right tool, but every list argument written as a comma-separated string (the classic miss)."""
    calls = parse_tool_calls(record.ground_truth)
    if not calls:
        return record.ground_truth
    for call in calls:
        call.arguments = {k: ", ".join(map(str, v)) if isinstance(v, list) else v for k, v in call.arguments.items()}
    return format_tool_calls(calls)


POLICIES: dict[str, Callable[[Record], str]] = {
    "gold answers": _gold,
    "always calls a tool": _always_call,
    "never calls a tool": _never_call,
    "lists as strings": _near_miss,
}


@dataclass
class QuickstartResult:
    paths: dict[str, Path]
    rows: dict[str, int]
    problems: int
    seconds: float
    table: list[tuple[str, dict[str, float | None], dict[str, float | None]]]

    def render(self) -> str:
        head = f"{'policy':<22}{'reward':<10}" + "".join(f"{b:>9}" for b in ("execute", "clarify", "refuse", "all"))
        lines = [head, "-" * len(head)]
        for policy, reference, strict in self.table:
            for name, means in (("toolcall", reference), ("strict", strict)):
                cells = "".join(f"{'n/a':>9}" if means.get(b) is None else f"{means[b]:9.3f}" for b in ("execute", "clarify", "refuse", "all"))
                lines.append(f"{policy if name == 'toolcall' else '':<22}{name:<10}{cells}")
        return "\n".join(lines)


def run_quickstart(out: str | Path, n: int = 600, eval_n: int = 300, seed: int = 0, echo: Callable[[str], None] = print) -> QuickstartResult:
    start = time.perf_counter()
    out = Path(out)
    paths = generate(GenerateConfig(n=n, eval_n=eval_n, seed=seed), out / "data")
    echo(f"generated {', '.join(f'{k}: {p}' for k, p in paths.items())}")
    problems = 0
    for split, path in paths.items():
        report = validate_file(path)
        problems += len(report.problems)
        echo(f"validated {split}: {report.rows} rows, {len(report.problems)} problems")
    for path in paths.values():
        echo(compute_stats(path).render(top=5))
    records = read_records(paths.get("eval", paths["train"]))
    rewards = {name: load_reward(name) for name in ("toolcall", "strict")}
    table = []
    for policy, respond in POLICIES.items():
        responses = [respond(r) for r in records]
        means = {name: {k: v for k, (_, v) in score_rows(reward, records, responses).means().items()} for name, reward in rewards.items()}
        table.append((policy, means["toolcall"], means["strict"]))
    result = QuickstartResult(paths, {k: sum(1 for _ in open(p)) for k, p in paths.items()}, problems, time.perf_counter() - start, table)
    (out / "quickstart.json").write_text(
        json.dumps({"rows": result.rows, "problems": problems, "seconds": round(result.seconds, 2), "rewards": {p: {"toolcall": r, "strict": s} for p, r, s in table}}, indent=2)
    )
    echo(f"\nmean reward on {len(records)} held-out rows (unseen tools), by behavior:\n{result.render()}")
    echo(f"\ndone in {result.seconds:.1f}s; summary in {out / 'quickstart.json'}")
    return result
