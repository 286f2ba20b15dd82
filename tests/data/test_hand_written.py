"""The hand-written sets: built from their sources as committed, valid, and apart from training."""

import importlib.util
import json
from pathlib import Path

import pytest

from tooltune.data import read_records, validate_file
from tooltune.data.catalog import load_catalog
from tooltune.schema import Tool

ROOT = Path(__file__).resolve().parents[2]


def _builder():
    spec = importlib.util.spec_from_file_location("heldout_build", ROOT / "heldout" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SETS = [("heldout/natural.src.jsonl", "heldout/natural.jsonl", None), ("dev/natural_dev.src.jsonl", "dev/natural_dev.jsonl", "dev/tools.json")]


@pytest.mark.parametrize("source,built,tools", SETS)
def test_each_set_is_its_source_built(source, built, tools, tmp_path):
    build = _builder()
    catalog = {t.name: t for t in map(Tool.from_dict, json.loads((ROOT / tools).read_text()))} if tools else None
    records, problems = build.build(ROOT / source, catalog)
    assert problems == []
    build.write_jsonl(tmp_path / "out.jsonl", records)
    assert (tmp_path / "out.jsonl").read_bytes() == (ROOT / built).read_bytes(), f"rebuild {built} from {source}"
    assert validate_file(ROOT / built).ok
    assert {r.behavior for r in records} == {"execute", "clarify", "refuse"}


def test_the_dev_set_shares_no_tool_and_no_request_with_training_or_the_test_set():
    dev_tools = {t["name"] for t in json.loads((ROOT / "dev" / "tools.json").read_text())}
    catalogs = {t.name for split in ("train", "eval") for t in load_catalog(split)}
    assert not dev_tools & catalogs
    dev = read_records(ROOT / "dev" / "natural_dev.jsonl")
    test = read_records(ROOT / "heldout" / "natural.jsonl")
    assert len(dev) >= 120
    assert not {r.user_prompt.casefold() for r in dev} & {r.user_prompt.casefold() for r in test}
    assert all({t.name for t in r.tools} <= dev_tools for r in dev)
