import json

import pytest

from tooltune.evaluation.metrics import DECISIONS
from tooltune.evaluation.report import ComparisonError, compare_evaluations, comparison_table, markdown_report


def _summary(reward: float, clarify_rows: int = 2) -> dict:
    return {"rows": {"all": 2 + clarify_rows, "execute": 2, "clarify": clarify_rows},
            "metrics": {"all": {"toolcall_reward": reward, "exact_call": None}, "execute": {"toolcall_reward": reward, "exact_call": reward / 2},
                        "clarify": {"toolcall_reward": 1.0 - reward}}}


def _eval_json(where, reward, sha="aa" * 32, base=None, name=None):
    results = {"model": _summary(reward)} | ({"base": _summary(base)} if base is not None else {})
    (where / "eval").mkdir(parents=True)
    (where / "eval" / "eval.json").write_text(json.dumps({"data": {"path": "/data/eval.jsonl", "sha256": sha, "rows": 4}, "results": results}))
    if name:
        (where / "run.json").write_text(json.dumps({"name": name}))
    return where


def test_mean_and_spread_per_behavior():
    table = comparison_table({"s0": _summary(0.8), "s1": _summary(0.7), "s2": _summary(0.6)}, mean=True)
    assert "| metric | s0 | s1 | s2 | mean of 3 (min-max) |" in table
    assert "| tool-call reward | 0.800 | 0.700 | 0.600 | 0.700 (0.600-0.800) |" in table
    clarify = table[table.index("## clarify (2 rows)"):]
    assert "| tool-call reward | 0.200 | 0.300 | 0.400 | 0.300 (0.200-0.400) |" in clarify
    # a metric no run has for a group (exact call on all rows here) is left out, not printed as 0
    assert table[: table.index("## execute")].count("exact call") == 0 and "| exact call (execute) | 0.400 |" in table


def test_evaluations_of_other_rows_are_refused(tmp_path):
    with pytest.raises(ComparisonError, match="different numbers of rows"):
        comparison_table({"a": _summary(0.8), "b": _summary(0.8, clarify_rows=3)})
    a = _eval_json(tmp_path / "a", 0.8)
    b = _eval_json(tmp_path / "b", 0.7, sha="bb" * 32)
    with pytest.raises(ComparisonError, match="different held-out files.*aaaaaaaa.*bbbbbbbb"):
        compare_evaluations([str(a), str(b)])
    with pytest.raises(ComparisonError, match="nowhere: does not exist"):
        compare_evaluations([str(tmp_path / "nowhere")])
    with pytest.raises(ComparisonError, match="has no eval.json"):
        compare_evaluations([str(tmp_path)])
    for text in ('{"results": {}, "data": {}}', '{"results": [1], "data": {}}', "[1, 2]", '{"results": {"model": {}}}'):
        (tmp_path / "odd.json").write_text(text)
        with pytest.raises(ComparisonError, match="needs a 'results' object per model and a 'data' object"):
            compare_evaluations([str(tmp_path / "odd.json")])


def test_paths_labels_and_the_base_result(tmp_path):
    run = _eval_json(tmp_path / "run", 0.8, base=0.4, name="seed0")
    other = _eval_json(tmp_path / "other", 0.6)
    table = compare_evaluations([str(run), f"{run}/eval#base", f"s1={other}/eval/eval.json"], mean=True)
    # the run's name from its manifest, the base model's result by #base, an explicit label
    assert "| metric | seed0 | seed0#base | s1 | mean of 3 (min-max) |" in table
    assert "| tool-call reward | 0.800 | 0.400 | 0.600 | 0.600 (0.400-0.800) |" in table
    assert table.startswith("Held-out file /data/eval.jsonl (sha256 aaaaaaaa..., 4 rows).")
    with pytest.raises(ComparisonError, match="no result 'teacher'; it has base, model"):
        compare_evaluations([f"{run}#teacher"])


def test_the_eval_report_shows_the_change_from_base_to_model():
    confusion = {"confusion": {"execute": dict.fromkeys(DECISIONS, 1)}}
    report = markdown_report({"base": _summary(0.4) | confusion, "model": _summary(0.6) | confusion})
    assert "| metric | base | model | change |" in report
    assert "| tool-call reward | 0.400 | 0.600 | +0.200 (+50%) |" in report
    assert report[: report.index("## execute")].count("exact call") == 0
    three = markdown_report({k: _summary(0.5) | confusion for k in ("a", "b", "c")})
    assert "| metric | a | b | c |" in three and "change" not in three
