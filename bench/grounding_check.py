"""How often the grounded check is wrong: right values it calls invented, invented ones it misses.

    .venv/bin/python bench/grounding_check.py [--data FILE ...] [--probes FILE ...]

For each data file (tooltune rows; default: the recipe's generated files, the dev set): every
reference call's values, which are right by construction, so each one the check calls invented
is a false alarm; then each value swapped for the same parameter's value from another row (a
wrong value, usually one the request never states) and an optional value added from another row
(invented), counted by verdict. For each probe file (hand-written rows: ``tools``, ``messages``,
``call``, ``label`` right / invented, ``param``; tests/fixtures/grounding_probes): false alarms on
the right rows and the invented parameter's verdict on the others. Prints counts; asserts nothing.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import tempfile
from pathlib import Path

from tooltune.data.generate import GenerateConfig, generate
from tooltune.data.records import read_records
from tooltune.reading import quote_sources
from tooltune.rewards.grounding import grounding
from tooltune.schema import Tool, ToolCall, format_tool_calls, parse_tool_calls

PROBES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "grounding_probes"


def verdict(found, path: str) -> str:
    return next((name for name in ("invented", "grounded", "unchecked", "invalid") if path in getattr(found, name)), "absent")


def check_data(path: Path) -> None:
    rng = random.Random(0)
    rows = [r for r in read_records(path) if r.behavior == "execute"]
    pool = collections.defaultdict(list)
    for r in rows:
        for c in parse_tool_calls(r.ground_truth) or []:
            for key, value in c.arguments.items():
                pool[(c.name, key)].append(value)
    right, swapped, added = collections.Counter(), collections.Counter(), collections.Counter()
    for r in rows:
        texts = quote_sources(r.prompt)
        calls = parse_tool_calls(r.ground_truth) or []
        found = grounding(r.ground_truth, r.tools, texts)
        right.update({"grounded": len(found.grounded), "invented": len(found.invented), "unchecked": len(found.unchecked), "invalid": len(found.invalid)})
        if len(calls) != 1:
            continue
        call, tool = calls[0], next(t for t in r.tools if t.name == calls[0].name)
        for key, value in call.arguments.items():
            others = [o for o in pool[(call.name, key)] if json.dumps(o).lower() != json.dumps(value).lower() and not isinstance(o, bool)]
            if others and not isinstance(value, bool):
                wrong = format_tool_calls([ToolCall(call.name, {**call.arguments, key: rng.choice(others)})])
                swapped[verdict(grounding(wrong, r.tools, texts), f"{call.name}.{key}")] += 1
        for key in tool.properties:
            others = [o for o in pool[(call.name, key)] if not isinstance(o, bool)]
            if key not in call.arguments and key not in tool.required and others:
                extra = format_tool_calls([ToolCall(call.name, {**call.arguments, key: rng.choice(others)})])
                added[verdict(grounding(extra, r.tools, texts), f"{call.name}.{key}")] += 1
    print(f"{path}: {len(rows)} execute rows")
    print(f"  reference values (right):     {dict(right)}")
    print(f"  a value swapped for another:  {dict(swapped)}")
    print(f"  an optional value added:      {dict(added)}")


def check_probe(path: Path) -> None:
    counts = collections.Counter()
    for line in path.read_text().splitlines():
        row = json.loads(line)
        tools = [Tool.from_dict(t) for t in row["tools"]]
        answer = format_tool_calls([ToolCall(row["call"]["name"], row["call"]["arguments"])])
        found = grounding(answer, tools, quote_sources(row["messages"]))
        if row["label"] == "right":
            wrong = found.invented + found.invalid
            counts.update({"right rows": 1, "right values checked": len(found.grounded) + len(found.invented),
                           "right values called invented": len(wrong), "right rows with one called invented": bool(wrong)})
        else:
            counts.update({"invented rows": 1, f"invented value -> {verdict(found, row['call']['name'] + '.' + row['param'])}": 1})
    print(f"{path.name}: {dict(counts)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", nargs="*", type=Path, help="tooltune data files (default: the recipe's generated files and dev/natural_dev.jsonl)")
    parser.add_argument("--probes", nargs="*", type=Path, default=sorted(PROBES.glob("*.jsonl")))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if data is None:
            recipe = generate(GenerateConfig(n=2400, eval_n=300, seed=0, pairs=1.0, rows_per_list=4, near_refusals=0.7, refuse_kinds=(0.45, 0.2, 0.35)), tmp).paths
            data = [Path(recipe["train"]), Path(recipe["eval"]), Path(__file__).resolve().parent.parent / "dev" / "natural_dev.jsonl"]
        for path in data:
            check_data(path)
    for path in args.probes:
        check_probe(path)


if __name__ == "__main__":
    main()
