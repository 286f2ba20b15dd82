import json
from pathlib import Path
import subprocess
import sys

from click.testing import CliRunner

from tooltune.cli.main import cli
from tooltune.data import write_jsonl


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_help_lists_every_group_and_is_fast_to_import():
    result = run("--help")
    assert result.exit_code == 0
    for word in ("data", "reward", "quickstart"):
        assert word in result.output
    # --help must not drag in heavy modules
    code = "import sys, tooltune.cli.main; print(any(m in sys.modules for m in ('torch', 'openai', 'jsonschema')))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_validate_ok_and_broken(tmp_path, weather_rows):
    good = tmp_path / "good.jsonl"
    write_jsonl(good, weather_rows)
    result = run("data", "validate", str(good))
    assert result.exit_code == 0 and "3 rows, no problems" in result.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(weather_rows[0].raw) + "\n{oops\n" + json.dumps({"prompt": "x", "reward_model": {}}) + "\n")
    result = CliRunner().invoke(cli, ["data", "validate", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:line 2: <json>" in result.output
    assert f"{bad}:line 3: prompt" in result.output and f"{bad}:line 3: reward_model.ground_truth" in result.output


def test_stats_text_and_json(tmp_path, weather_rows):
    path = tmp_path / "d.jsonl"
    write_jsonl(path, weather_rows)
    assert "behavior mix" in run("data", "stats", str(path)).output
    stats = json.loads(run("data", "stats", str(path), "--json").output)
    assert stats["behaviors"] == {"execute": 1, "clarify": 1, "refuse": 1}


def test_reward_score_by_line_and_by_id(tmp_path, weather_rows):
    data = tmp_path / "d.jsonl"
    write_jsonl(data, weather_rows)
    preds = tmp_path / "p.jsonl"
    responses = ['<TOOLCALL>[{"name": "get_weather_forecast", "arguments": {"location": "San Francisco"}}]</TOOLCALL>', "Which city?", "Sure!"]
    preds.write_text("".join(json.dumps({"response": r}) + "\n" for r in responses))
    result = run("reward", "score", "--data", str(data), "--responses", str(preds), "--out", str(tmp_path / "s.jsonl"))
    assert result.exit_code == 0, result.output
    lines = {l.split()[0]: l.split() for l in result.output.splitlines()[2:]}
    assert lines["execute"][2] == "1.000" and lines["clarify"][2] == "1.000" and lines["refuse"][2] == "0.000"
    assert lines["all"][2] == "0.667"
    ref = run("reward", "score", "--data", str(data), "--responses", str(preds), "--reward", "toolcall")
    assert "1.000" in ref.output.splitlines()[-1]  # the reference reward credits "Sure!" on a refuse row
    for i, r in enumerate(weather_rows):
        r.raw["id"] = f"r{i}"
    write_jsonl(data, weather_rows)
    preds.write_text("".join(json.dumps({"id": f"r{i}", "response": r}) + "\n" for i, r in reversed(list(enumerate(responses)))))
    assert "0.667" in run("reward", "score", "--data", str(data), "--responses", str(preds)).output


def test_reward_score_reports_a_failing_user_reward_with_its_row(tmp_path, weather_rows):
    data = tmp_path / "d.jsonl"
    write_jsonl(data, weather_rows)
    preds = tmp_path / "p.jsonl"
    preds.write_text("".join(json.dumps({"response": r}) + "\n" for r in ["a", "boom", "c"]))
    user = tmp_path / "r.py"
    user.write_text("def f(prompts, completions, **kw):\n    return [1/0 if c == 'boom' else 0.5 for c in completions]\n")
    result = CliRunner().invoke(cli, ["reward", "score", "--data", str(data), "--responses", str(preds), "--reward", f"{user}:f"])
    assert result.exit_code == 1
    assert "ZeroDivisionError" in result.output and "line 2" in result.output and "Traceback" not in result.output
    assert "0.500" in result.output  # the other rows were still scored


def test_reward_score_mismatched_predictions_is_a_clear_error(tmp_path, weather_rows):
    data = tmp_path / "d.jsonl"
    write_jsonl(data, weather_rows)
    preds = tmp_path / "p.jsonl"
    preds.write_text(json.dumps({"response": "x"}) + "\n")
    result = CliRunner().invoke(cli, ["reward", "score", "--data", str(data), "--responses", str(preds)])
    assert result.exit_code == 1 and "1 responses for 3 rows" in result.output
    data.write_text("".join(json.dumps({**r.raw, "id": f"r{i}"}) + "\n" for i, r in enumerate(weather_rows)))
    preds.write_text("".join(json.dumps({"id": i, "response": "x"}) + "\n" for i in ["r0", "r0", "r1", "r2"]))
    twice = CliRunner().invoke(cli, ["reward", "score", "--data", str(data), "--responses", str(preds)])
    assert twice.exit_code == 1 and "line 2: id" in twice.output and "again (first on line 1)" in twice.output


def test_generate_then_validate_and_stats(tmp_path):
    out = tmp_path / "data"
    result = run("data", "generate", "--n", "100", "--eval-n", "40", "--out", str(out), "--seed", "1")
    assert result.exit_code == 0, result.output
    assert run("data", "validate", str(out / "train.jsonl")).exit_code == 0
    stats = json.loads(run("data", "stats", str(out / "eval.jsonl"), "--json").output)
    assert stats["behaviors"] == {"execute": 24, "clarify": 10, "refuse": 6}
    bad = CliRunner().invoke(cli, ["data", "generate", "--out", str(out), "--mix", "0.5,0.5,0.5"])
    assert bad.exit_code == 1 and "sum to 1" in bad.output
    # found by a hostile probe: files are never replaced unasked; a path the system refuses is a line
    again = CliRunner().invoke(cli, ["data", "generate", "--n", "5", "--eval-n", "5", "--out", str(out)])
    assert again.exit_code == 1 and "already holds train.jsonl and eval.jsonl; add --overwrite" in again.output
    assert run("data", "generate", "--n", "5", "--eval-n", "5", "--out", str(out), "--overwrite").exit_code == 0
    under_a_file = CliRunner().invoke(cli, ["data", "generate", "--n", "5", "--eval-n", "5", "--out", str(out / "train.jsonl" / "sub")])
    assert under_a_file.exit_code == 1 and "Not a directory" in under_a_file.output and "Traceback" not in under_a_file.output
    for flag, value in (("--harmful-uses", "nan"), ("--near-refusals", "7"), ("--backstories", "-0.5"), ("--refuse-kinds", "nan,0,1")):
        bad = CliRunner().invoke(cli, ["data", "generate", "--out", str(tmp_path / "nan"), flag, value])
        assert bad.exit_code == 1 and flag in bad.output, (flag, bad.output)


def test_quickstart_offers_the_presets():
    from tooltune.quickstart import PRESETS

    choices = next(p for p in cli.commands["quickstart"].params if p.name == "preset").type.choices
    assert sorted(choices) == sorted(PRESETS)
    result = run("quickstart", "--help")
    assert all(name in result.output for name in PRESETS)
    for bad, says in ((["--set", "sft_step=4"], "no such preset setting"), (["--set", "sft_steps"], "write key=value"), (["--set", "pairs=lots"], "expected float"),
                      (["--set", "eval_rows=0"], "at least 1"), (["--set", "pairs=2"], "--set"), (["--base", "nope"], "--base: model 'nope' not found")):
        result = run("quickstart", "--out", "unused", *bad)
        assert result.exit_code == 1 and says in result.output and "Traceback" not in result.output, result.output
        assert not Path("unused").exists()  # nothing written: the corrected command can use the folder


def test_train_command_runs_a_spec_and_rejects_bad_ones(tmp_path, tiny_model, small_data):
    spec = tmp_path / "job.yaml"
    spec.write_text(
        f"base: {tiny_model}\ntechnique: sft\ntrain_data: {small_data['train']}\n"
        "batch_size: 4\nmicro_batch_size: 4\nmax_length: 320\ndtype: float32\nname: cli-run\n"
    )
    result = CliRunner().invoke(cli, ["train", str(spec), "max_steps=1"])
    assert result.exit_code == 0, result.output
    assert "run cli-run done" in result.output
    assert "registered model-tooltune@1" in result.output  # the tiny fixture's folder is called "model"
    bad = CliRunner().invoke(cli, ["train", str(spec), "batch_sise=8"])
    assert bad.exit_code == 1 and "did you mean 'batch_size'" in bad.output
    again = CliRunner().invoke(cli, ["train", str(spec), "max_steps=1"])
    assert again.exit_code == 1 and "already holds a run" in again.output
    # a second run continuing from the first is the same model's next version
    second = CliRunner().invoke(cli, ["train", str(spec), "max_steps=1", "name=cli-run-2", "base=run:cli-run"])
    assert second.exit_code == 0 and "registered model-tooltune@2" in second.output, second.output
    # and a registered version is a base like any other: model-tooltune@2 continues from cli-run-2
    third = CliRunner().invoke(cli, ["train", str(spec), "max_steps=1", "name=cli-run-3", "base=model-tooltune@2"])
    assert third.exit_code == 0 and "registered model-tooltune@3" in third.output, third.output
    listed = run("models", "list")
    assert "model-tooltune@1" in listed.output and "model-tooltune@2" in listed.output and "smollm2-135m" in listed.output


def test_models_show_alias_delete(tooltune_home, tiny_model):
    from tests.test_registry import _run

    _run(tooltune_home, tiny_model, "r1")
    assert run("models", "register", "r1", "--name", "bot").output.strip() == "registered bot@1"
    assert run("models", "alias", "bot", "prod", "1").exit_code == 0
    shown = json.loads(run("models", "show", "bot@prod").output)
    assert shown["version"] == 1 and shown["aliases"] == ["prod"] and shown["technique"] == "sft"
    missing = CliRunner().invoke(cli, ["models", "show", "bot@7"])
    assert missing.exit_code == 1 and "it has: 1, @prod" in missing.output
    assert run("models", "delete", "bot", "1", "--yes").exit_code == 0
    assert CliRunner().invoke(cli, ["models", "show", "bot@1"]).exit_code == 1
    base = CliRunner().invoke(cli, ["models", "show", "smollm2-135m"])  # a bundled base: its entry, not "register it"
    assert base.exit_code == 0 and json.loads(base.output)["chat"] == "chatml"


def test_eval_scores_predictions_and_explains_a_missing_model(tmp_path):
    from tests.evaluation.test_evaluate import _files

    data, preds = _files(tmp_path)
    result = run("eval", "--data", str(data), "--predictions", str(preds), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0 and "tool-call reward" in result.output
    assert json.loads((tmp_path / "out" / "eval.json").read_text())["results"]["model"]["rows"]["all"] == 4
    bad = CliRunner().invoke(cli, ["eval", "--data", str(data), "--out", str(tmp_path / "out2")])
    assert bad.exit_code == 1 and "--model" in bad.output
    missing = CliRunner().invoke(cli, ["eval", "--model", str(tmp_path / "nowhere"), "--data", str(data), "--out", str(tmp_path / "out3")])
    assert missing.exit_code == 1 and "not found" in missing.output


def test_compare_puts_two_evaluations_of_one_file_side_by_side(tmp_path):
    from tests.evaluation.test_evaluate import _files

    data, preds = _files(tmp_path)
    for out in ("a", "b"):
        assert run("eval", "--data", str(data), "--predictions", str(preds), "--out", str(tmp_path / out)).exit_code == 0
    result = run("compare", f"first={tmp_path / 'a'}", f"second={tmp_path / 'b' / 'eval.json'}", "--mean", "--out", str(tmp_path / "table.md"))
    assert result.exit_code == 0
    assert "| tool-call reward | 0.875 | 0.875 | 0.875 (0.875-0.875) |" in result.output
    assert (tmp_path / "table.md").read_text().strip() == result.output.strip()
    missing = CliRunner().invoke(cli, ["compare", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1 and "does not exist" in missing.output
