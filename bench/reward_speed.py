"""How fast parsing, scoring, validation and stats run, so scoring is never the bottleneck.

    .venv/bin/python bench/reward_speed.py [--rows 100000]

Generates held-out rows, answers them with scripted policies (gold calls, near misses, questions,
refusals), then times: the parser alone, each built-in reward through its TRL signature, and
`data validate` / `data stats` on a file of --rows rows. Prints rows/s; asserts nothing.
"""

from __future__ import annotations

import argparse
import itertools
import platform
import tempfile
import time
from pathlib import Path

from tooltune.data import read_records, validate_file, write_jsonl
from tooltune.data.generate import GenerateConfig, generate
from tooltune.data.stats import compute_stats
from tooltune.rewards import load_reward
from tooltune.rewards.batch import score_rows
from tooltune.schema import format_tool_calls, parse_tool_calls


def _gold(record) -> str:
    calls = parse_tool_calls(record.ground_truth)
    return format_tool_calls(calls) if calls else record.ground_truth


def _always_call(record) -> str:
    return format_tool_calls(parse_tool_calls(record.ground_truth) or [{"name": record.tools[0].name, "arguments": {}}])


def _near_miss(record) -> str:
    # every list argument written as a comma-separated string ("10, 20, 30"), the seed's near miss
    calls = parse_tool_calls(record.ground_truth)
    if not calls:
        return record.ground_truth
    return format_tool_calls([{"name": c.name, "arguments": {k: ", ".join(map(str, v)) if isinstance(v, list) else v for k, v in c.arguments.items()}} for c in calls])


# Scripted answers, so every scorer path runs: right calls, calls where a question or refusal is due,
# the same vague question everywhere, lists as strings.
POLICIES = {"gold answers": _gold, "always calls a tool": _always_call, "never calls a tool": lambda record: "Could you tell me more about what you need?", "lists as strings": _near_miss}


def timed(label: str, count: int, fn) -> float:
    start = time.perf_counter()
    fn()
    seconds = time.perf_counter() - start
    print(f"{label:<42} {count:>8} rows  {seconds:7.2f} s  {count / seconds:>10,.0f} rows/s")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="rows in the file that validate/stats read")
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.processor() or 'cpu'}")
    with tempfile.TemporaryDirectory() as tmp:
        paths = generate(GenerateConfig(n=2000, eval_n=2000, seed=1), tmp).paths
        records = read_records(paths["eval"])
        responses = [policy(r) for policy in POLICIES.values() for r in records]
        rows = records * len(POLICIES)
        timed("parse_tool_calls", len(responses), lambda: [parse_tool_calls(t) for t in responses])
        for name in ("toolcall", "strict", "grounded"):
            reward = load_reward(name)
            timed(f"reward '{name}' (TRL signature, batches of 512)", len(rows), lambda reward=reward: score_rows(reward, rows, responses))
        big = Path(tmp) / "big.jsonl"
        source = read_records(paths["train"])
        write_jsonl(big, (r.raw for r in itertools.islice(itertools.cycle(source), args.rows)))
        size_mb = big.stat().st_size / 1e6
        print(f"file for validate/stats: {args.rows} rows, {size_mb:.0f} MB")
        timed("data validate", args.rows, lambda: validate_file(big))
        timed("data stats", args.rows, lambda: compute_stats(big))


if __name__ == "__main__":
    main()
