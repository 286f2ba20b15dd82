import json
import shutil
import pytest

from mlflow.tracking import MlflowClient

from tests.evaluation.test_metrics import ANSWERS, ROWS
from tooltune.evaluation.evaluate import EvalConfig, evaluate
from tooltune.evaluation.report import change
from tooltune.runs import write_manifest
from tooltune.runs import default_tracking_uri


def _files(tmp_path):
    data = tmp_path / "eval.jsonl"
    data.write_text("".join(json.dumps(r.raw) + "\n" for r in ROWS))
    preds = tmp_path / "preds.jsonl"
    preds.write_text("".join(json.dumps({"response": a}) + "\n" for a in ANSWERS))
    return data, preds


def test_fixed_predictions_against_a_generating_base(tmp_path, tiny_model, tooltune_home):
    data, preds = _files(tmp_path)
    said = []
    result = evaluate(EvalConfig(data=str(data), out=str(tmp_path / "out"), base=tiny_model, predictions=str(preds), max_new_tokens=8), echo=said.append)
    out = tmp_path / "out"
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all("base" in r and "model" in r for r in rows)
    assert rows[1]["model"]["answer"] == ANSWERS[1] and rows[1]["model"]["failure"] == "wrong_argument_type"
    saved = json.loads((out / "eval.json").read_text())
    assert saved["results"]["model"]["metrics"]["all"]["toolcall_reward"] == 0.875
    assert saved["generation"]["base"]["new_tokens"] > 0 and saved["generation"]["base"]["tokens_per_s"] > 0
    report = (out / "report.md").read_text()
    assert "| metric | base | model | change |" in report and "| tool-call reward |" in report
    assert (out / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    logged = MlflowClient(default_tracking_uri()).get_run(result["mlflow_run_id"])
    metrics = logged.data.metrics
    # artifacts live beside the MLflow database, not in ./mlruns of wherever the command ran
    assert logged.info.artifact_uri.startswith(tooltune_home.resolve().as_uri())
    assert metrics["heldout/all/toolcall_reward"] == 0.875 and "heldout_base/refuse/decision_accuracy" in metrics


def test_a_run_is_evaluated_into_its_own_mlflow_run(tmp_path, tiny_model, tooltune_home):
    import mlflow

    mlflow.set_tracking_uri(default_tracking_uri())
    # training's own experiment, somewhere else; evaluation must not switch it
    mlflow.create_experiment("a-training-experiment", artifact_location=(tmp_path / "artifacts").as_uri())
    mlflow.set_experiment("a-training-experiment")
    with mlflow.start_run() as training:
        pass
    run = tooltune_home / "runs" / "my-run"
    shutil.copytree(tiny_model, run / "model")
    write_manifest(run, {"status": "completed", "mlflow_run_id": training.info.run_id, "mlflow_tracking_uri": default_tracking_uri()})
    data, preds = _files(tmp_path)
    result = evaluate(EvalConfig(data=str(data), out=str(tmp_path / "out"), model="run:my-run", predictions=str(preds)), echo=lambda s: None)
    assert result["mlflow_run_id"] == training.info.run_id
    assert "heldout/execute/exact_call" in MlflowClient(default_tracking_uri()).get_run(training.info.run_id).data.metrics


def test_change_reads_like_the_reference():
    assert change(0.35, 0.55) == "+0.200 (+57%)"
    assert change(0.0, 0.5) == "+0.500" and change(0.003, 0.5) == "+0.497"  # no relative change from (almost) zero


def test_generated_answers_get_their_quoted_values_read_and_the_unread_scores_are_kept(tmp_path, tooltune_home, monkeypatch):
    import tooltune.evaluation.evaluate as module

    data, _ = _files(tmp_path)
    wrong = ('<think>Tool: calculate_standard_deviation. Required: numbers = "10, 20 and 30" -> [10, 20].</think>'
             '<TOOLCALL>[{"name": "calculate_standard_deviation", "arguments": {"numbers": [10, 20]}}]</TOOLCALL>')
    generated = [ANSWERS[0], wrong, ANSWERS[2], ANSWERS[3]]
    monkeypatch.setattr(module, "_answers", lambda records, ref, predictions, config, label, echo: (list(generated), {"source": "stub"}))
    said = []
    result = evaluate(EvalConfig(data=str(data), out=str(tmp_path / "out"), model="stub"), echo=said.append)
    assert result["results"]["model"]["metrics"]["execute"]["exact_call"] == 1.0  # both calls right once read
    assert result["generation"]["model"]["read_values"]["answers_changed"] == 1
    assert result["generation"]["model"]["read_values"]["unread_metrics"]["execute"]["exact_call"] == 0.5
    rows = [json.loads(line) for line in (tmp_path / "out" / "predictions.jsonl").read_text().splitlines()]
    assert rows[1]["model"]["unread_answer"] == wrong and rows[1]["model"]["read"] == ["calculate_standard_deviation.numbers: [10, 20] -> [10, 20, 30]"]
    assert any("values read by code in 1 answers" in line for line in said)
    off = evaluate(EvalConfig(data=str(data), out=str(tmp_path / "off"), model="stub", read_values=False), echo=said.append)
    assert off["results"]["model"]["metrics"]["execute"]["exact_call"] == 0.5 and "read_values" not in off["generation"]["model"]


def test_the_default_answer_budget_is_the_files_longest_taught_answer_plus_a_margin(tmp_path, tiny_model, tooltune_home):
    from transformers import AutoTokenizer

    from tooltune.training.datasets import answer_budget

    data, preds = _files(tmp_path)
    result = evaluate(EvalConfig(data=str(data), out=str(tmp_path / "out"), base=tiny_model, predictions=str(preds)), echo=lambda _: None)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    budget = answer_budget(ROWS, tokenizer)
    assert result["generation"]["base"]["max_new_tokens"] == budget > 64
    assert result["generation"]["base"]["constrain_calls"] is True  # calls decoded within the row's schemas, as serving does
    assert result["generation"]["base"]["ground_quotes"] is True  # and the check's quotes held to the request's words
    # a random model runs on: it stops at the budget, not at a fixed cap
    rows = [json.loads(line) for line in (tmp_path / "out" / "predictions.jsonl").read_text().splitlines()]
    assert max(len(tokenizer(r["base"].get("unread_answer", r["base"]["answer"]), add_special_tokens=False)["input_ids"]) for r in rows) <= budget + 2


def test_a_limit_or_batch_that_is_not_a_positive_count_is_refused():
    from tooltune.evaluation.evaluate import EvalConfig

    for bad in ({"limit": 0}, {"limit": -5}, {"batch_size": 0}, {"max_new_tokens": 0}):
        with pytest.raises(ValueError, match="must be a whole number >= 1"):
            EvalConfig(data="x.jsonl", out="out", model="m", **bad)


def test_a_failed_evaluation_leaves_no_empty_folder(tmp_path):
    data, _ = _files(tmp_path)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"response": "only one"}) + "\n")
    with pytest.raises(ValueError, match="1 responses for 4 rows"):
        evaluate(EvalConfig(data=str(data), out=str(tmp_path / "out"), predictions=str(bad)), echo=lambda s: None)
    assert not (tmp_path / "out").exists()
    (tmp_path / "kept").mkdir()
    with pytest.raises(ValueError):
        evaluate(EvalConfig(data=str(data), out=str(tmp_path / "kept"), predictions=str(bad)), echo=lambda s: None)
    assert (tmp_path / "kept").is_dir()  # a folder the user made stays


def test_a_limit_scores_the_first_rows_with_the_first_answers(tmp_path):
    data, preds = _files(tmp_path)  # four rows, four positional answers
    result = evaluate(EvalConfig(data=str(data), out=str(tmp_path / "out"), predictions=str(preds), limit=2), echo=lambda s: None)
    assert result["data"]["rows"] == 2
    rows = [json.loads(line) for line in (tmp_path / "out" / "predictions.jsonl").read_text().splitlines()]
    assert [r["model"]["answer"] for r in rows] == ANSWERS[:2]
