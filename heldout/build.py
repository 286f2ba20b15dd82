"""Build ``natural.jsonl`` from ``natural.src.jsonl``: hand-written requests over the held-out catalog.

    python heldout/build.py            # writes heldout/natural.jsonl, exits 1 on any bad row
    python heldout/build.py dev/natural_dev.src.jsonl --tools dev/tools.json   # the dev set (dev/README.md)

Each source row was written by hand, the way a user types a request: the tools it offers (names
from the bundled held-out catalog), the request, the behavior, and the normalized answer. This
script only adds the default system prompt and the record shape; it never reads the generator's
templates or value banks, so nothing here shares the training data's wording or conventions.
Never train or tune on these rows.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tooltune.data.catalog import load_catalog
from tooltune.data.records import make_record, write_jsonl
from tooltune.data.validate import argument_problems
from tooltune.schema import Tool, render_system_prompt

HERE = Path(__file__).resolve().parent
KINDS = ("harmful", "out_of_scope", "tool_not_offered")


def build(source: Path, catalog: dict[str, Tool] | None = None) -> tuple[list, list[str]]:
    """(records, problems) for ``source``'s rows over ``catalog`` (default: the held-out catalog)."""
    catalog = catalog if catalog is not None else {t.name: t.tool for t in load_catalog("eval")}
    records, problems = [], []
    seen: set[str] = set()
    for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{source.name}:{number}"
        try:
            row = json.loads(line)
        except ValueError as exc:
            problems.append(f"{where}: not JSON ({exc})")
            continue
        names, request, behavior = row.get("tools") or [], row.get("request", "").strip(), row.get("behavior")
        unknown = [n for n in names if n not in catalog]
        if unknown or not names:
            problems.append(f"{where}: tools must be names of the set's catalog, got {unknown or names}")
            continue
        if not request or request.casefold() in seen:
            problems.append(f"{where}: empty or repeated request")
            continue
        seen.add(request.casefold())
        tools = [catalog[n] for n in names]
        extra = {"source": "hand-written", "id": row.get("id", f"line{number}")}
        if behavior == "execute":
            calls = row.get("calls") or []
            for call in calls:
                if call.get("name") not in names:
                    problems.append(f"{where}: call to {call.get('name')!r}, which the row does not offer")
                    continue
                for path, message in argument_problems(catalog[call["name"]], call.get("arguments") or {}):
                    problems.append(f"{where}: {call['name']}{path}: {message}")
            if not calls:
                problems.append(f"{where}: an execute row needs calls")
            truth = json.dumps([{"name": c.get("name"), "arguments": c.get("arguments") or {}} for c in calls], ensure_ascii=False)
            extra["tool"] = calls[0].get("name") if calls else None
        elif behavior == "clarify":
            tool, missing = row.get("tool"), row.get("missing") or []
            if tool not in names or not missing or not set(missing) <= set(catalog[tool].required):
                problems.append(f"{where}: a clarify row names an offered tool and which of its required parameters are missing")
            truth = row.get("answer", "").strip()
            extra.update({"tool": tool, "missing": missing})
        elif behavior == "refuse":
            kind = row.get("kind")
            if kind not in KINDS:
                problems.append(f"{where}: kind must be one of {', '.join(KINDS)}")
            if kind == "tool_not_offered" and row.get("tool") in names:
                problems.append(f"{where}: a tool-not-offered row must not list the tool it asks for")
            truth = row.get("answer", "").strip()
            extra.update({"kind": kind, **({"tool": row["tool"]} if row.get("tool") else {})})
        else:
            problems.append(f"{where}: behavior must be execute, clarify or refuse")
            continue
        if not truth:
            problems.append(f"{where}: empty answer")
        records.append(make_record(render_system_prompt(tools), request, truth, behavior, data_source="tooltune/hand-written", extra_info=extra))
    return records, problems


def main() -> int:
    parser = argparse.ArgumentParser(description="Build a hand-written set's records from its source rows.")
    parser.add_argument("source", nargs="?", default=str(HERE / "natural.src.jsonl"))
    parser.add_argument("out", nargs="?", help="default: the source's name without .src")
    parser.add_argument("--tools", help="the set's tools (a JSON list of function schemas); default: the held-out catalog")
    args = parser.parse_args()
    source = Path(args.source)
    out = Path(args.out) if args.out else source.with_name(source.name.replace(".src", ""))
    try:
        catalog = {t.name: t for t in map(Tool.from_dict, json.loads(Path(args.tools).read_text(encoding="utf-8")))} if args.tools else None
    except (OSError, ValueError, TypeError) as exc:  # a missing file, bad JSON, a tool without a name
        print(f"--tools {args.tools}: {exc}; give a JSON list of function schemas", file=sys.stderr)
        return 1
    records, problems = build(source, catalog)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    write_jsonl(out, records)
    counts = {b: sum(r.behavior == b for r in records) for b in ("execute", "clarify", "refuse")}
    print(f"wrote {len(records)} rows to {out}: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
