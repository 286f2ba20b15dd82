import dataclasses
import json

import pytest

from tooltune.quickstart import PRESETS, Preset, preset_with, reward_curve, run_quickstart

TINY = Preset(train_rows=40, sft_steps=2, rlvr_steps=2, rlvr_prompts=1, eval_rows=20, validation_rows=4)


def test_runs_warm_start_then_rlvr_and_reuses_finished_stages(tmp_path, tiny_model):
    said = []
    summary = run_quickstart(tmp_path / "qs", preset=TINY, base=tiny_model, echo=said.append)
    assert summary["warmstart"]["steps"] == 2 and summary["rlvr"]["steps"] == 2
    assert len(summary["rlvr"]["reward_curve"]) == 2
    # The per-behavior rewards reach the step history, so the curve shows each behavior's too.
    first = summary["rlvr"]["reward_curve"][0]
    assert {"execute", "clarify", "refuse"} <= first.keys() and any(first[b] is not None for b in ("execute", "clarify", "refuse"))
    assert any("train/reward_" in key for entry in json.loads((tmp_path / "qs" / "runs" / "rlvr" / "run.json").read_text())["history"] for key in entry)
    # One validation curve over both stages: the same held-out rows at each stage's start, middle and end
    curve = summary["validation"]["curve"]
    assert summary["validation"]["rows"] == 4
    assert [(c["stage"], c["step"]) for c in curve] == [("warm start", 0), ("warm start", 1), ("warm start", 2), ("rlvr", 0), ("rlvr", 1), ("rlvr", 2)]
    assert "\nvalidation reward (strict, greedy) on the same 4 held-out rows" in "\n".join(said)
    assert json.loads((tmp_path / "qs" / "quickstart.json").read_text()) == summary
    rlvr = json.loads((tmp_path / "qs" / "runs" / "rlvr" / "run.json").read_text())
    assert rlvr["base"].startswith("run:") and rlvr["base"].endswith("warmstart")  # RLVR continued from the warm start
    assert (tmp_path / "qs" / "runs" / "rlvr" / "model" / "config.json").exists()
    assert rlvr["registered"] == {"name": "model-tooltune", "version": 2}  # warm start is version 1 of the same model

    # Training time is told apart from the checks' time, per stage and in all.
    for stage in ("warmstart", "rlvr"):
        assert summary[stage]["check_seconds"] > 0 and summary[stage]["training_seconds"] == round(summary[stage]["seconds"] - summary[stage]["check_seconds"], 1)
    assert summary["training_seconds"] == round(summary["warmstart"]["training_seconds"] + summary["rlvr"]["training_seconds"], 1)

    said.clear()
    run_quickstart(tmp_path / "qs", preset=TINY, base=tiny_model, echo=said.append)  # a rerun trains nothing
    assert sum("already completed" in line for line in said) == 2


def test_a_preset_without_grpo_steps_stops_at_the_warm_start(tmp_path, tiny_model):
    said = []
    summary = run_quickstart(tmp_path / "qs", preset=dataclasses.replace(TINY, rlvr_steps=0), base=tiny_model, echo=said.append)
    assert summary["rlvr"] is None and not (tmp_path / "qs" / "runs" / "rlvr").exists()
    assert [c["stage"] for c in summary["validation"]["curve"]] == ["warm start"] * 3
    assert summary["training_seconds"] == summary["warmstart"]["training_seconds"]
    assert "GRPO" not in "\n".join(said) and said[-1].endswith(str(tmp_path / "qs" / "runs" / "warmstart" / "model"))


def test_reward_curve_averages_blocks_of_steps():
    history = [{"step": s, "reward": r} for s, r in enumerate([0.0, 0.2, 0.4, 0.6, 0.8, 1.0], start=1)] + [{"step": 6, "loss": 0.1}]
    assert reward_curve(history, blocks=3) == [(1, 2, 0.1), (3, 4, 0.5), (5, 6, 0.9)]


def test_a_behavior_curve_follows_the_overall_step_ranges_and_marks_empty_ones():
    history = [{"step": 1, "reward": 0.2, "train/reward_execute": 0.3}, {"step": 2, "reward": 0.4}, {"step": 3, "reward": 0.6, "train/reward_execute": 0.9}, {"step": 4, "reward": 0.8}]
    assert reward_curve(history, blocks=2, key="train/reward_execute") == [(1, 2, 0.3), (3, 4, 0.9)]
    assert reward_curve(history, blocks=2, key="train/reward_refuse") == [(1, 2, None), (3, 4, None)]


def test_a_folder_started_with_other_settings_is_never_resumed_with_these(tmp_path, tiny_model):
    preset = dataclasses.replace(TINY, rlvr_steps=0)
    run_quickstart(tmp_path / "qs", preset=preset, base=tiny_model, echo=lambda s: None)
    data = (tmp_path / "qs" / "data" / "train.jsonl").read_bytes()
    with pytest.raises(ValueError, match=r"other settings \(seed differ\)"):
        run_quickstart(tmp_path / "qs", preset=preset, seed=1, base=tiny_model, echo=lambda s: None)
    with pytest.raises(ValueError, match="train_rows differ"):
        run_quickstart(tmp_path / "qs", preset=dataclasses.replace(preset, train_rows=48), base=tiny_model, echo=lambda s: None)
    assert (tmp_path / "qs" / "data" / "train.jsonl").read_bytes() == data  # the first run's data is untouched


def test_set_changes_a_preset_field_and_refuses_typos_and_wrong_types():
    changed = preset_with("full", {"sft_steps": 420, "paraphrased_values": True, "pairs": 1, "refuse_kinds": [0.5, 0.25, 0.25]})
    assert (changed.sft_steps, changed.paraphrased_values, changed.pairs, changed.refuse_kinds) == (420, True, 1.0, (0.5, 0.25, 0.25))
    assert changed.train_rows == PRESETS["full"].train_rows
    with pytest.raises(ValueError, match="no such preset setting; choose from train_rows"):
        preset_with("full", {"sft_step": 420})
    with pytest.raises(ValueError, match="expected int"):
        preset_with("full", {"sft_steps": "many"})
    with pytest.raises(ValueError, match="expected bool"):
        preset_with("full", {"paraphrased_values": 1})
