"""End-to-end training on the tiny model: every technique, LoRA, resume after a kill, continue-from-run, MLflow."""

import json
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, TrainerCallback

from tooltune.training import load_spec
from tooltune.runs import read_manifest
from tooltune.training.spec import SpecError
from tooltune.training.train import resume, train

FAST = {"batch_size": 8, "micro_batch_size": 4, "rollouts": 4, "max_completion_length": 12, "max_length": 320, "learning_rate": 1e-3, "dtype": "float32", "save_steps": 1}


def _spec(tiny_model, small_data, **kw):
    return load_spec(None, {"base": tiny_model, "train_data": str(small_data["train"]), **FAST, **kw})


def _metrics(run):
    from mlflow.tracking import MlflowClient

    manifest = read_manifest(run)
    client = MlflowClient(manifest["mlflow_tracking_uri"])
    data = client.get_run(manifest["mlflow_run_id"]).data
    return data.metrics, data.params


def test_sft_writes_a_loadable_model_and_manifest(tiny_model, small_data):
    run = train(_spec(tiny_model, small_data, technique="sft", name="sft", max_steps=2), echo=lambda s: None)
    manifest = read_manifest(run)
    assert manifest["status"] == "completed" and manifest["steps"] == 2
    assert manifest["data"]["train_data"]["sha256"] and manifest["spec"]["technique"] == "sft"
    assert AutoModelForCausalLM.from_pretrained(run / "model").config.num_hidden_layers == 2
    assert (run / "model" / "chat_template.jinja").exists() or "chat_template" in (run / "model" / "tokenizer_config.json").read_text()
    metrics, params = _metrics(run)
    assert "train/loss" in metrics and "train/grad_norm" in metrics and "train/learning_rate" in metrics
    assert params["technique"] == "sft"


def test_sft_says_when_rows_are_longer_than_max_length(tiny_model, small_data):
    said = []
    train(_spec(tiny_model, small_data, technique="sft", name="sft-short", max_steps=1, max_length=64), echo=said.append)
    warning = [s for s in said if "longer than max_length=64" in s]
    assert warning and "raise max_length" in warning[0]
    said.clear()
    train(_spec(tiny_model, small_data, technique="sft", name="sft-long", max_steps=1, max_length=4096), echo=said.append)
    assert not [s for s in said if "max_length" in s]


def test_rlvr_logs_the_charts_a_user_watches(tiny_model, small_data):
    said = []
    run = train(
        _spec(tiny_model, small_data, technique="rlvr", name="rlvr", max_steps=2, validation_data=str(small_data["eval"]), eval_steps=2),
        echo=said.append,
    )
    metrics, _ = _metrics(run)
    for key in ("train/reward_mean", "train/reward_std", "train/completion_length", "train/entropy", "train/grad_norm",
                "train/advantage_mean", "train/zero_variance_group_fraction", "train/learning_rate", "validation/reward"):
        assert key in metrics, key
    assert any(k.startswith("train/reward_") and k.split("_")[-1] in ("execute", "clarify", "refuse") for k in metrics)
    assert any(k.startswith("validation/reward_") and k.split("_")[-1] in ("execute", "clarify", "refuse") for k in metrics)
    # a random tiny model never makes a parseable call: every group ties, which the metric shows
    assert metrics["train/zero_variance_group_fraction"] == 1.0
    # and it runs on to the 12-token limit: the run says so once, and the share at the end
    warnings = [s for s in said if "of the rollouts ran to max_completion_length=12 tokens and were cut off" in s]
    assert len(warnings) == 1 and warnings[0].startswith("warning: step 1:")
    assert any(s.startswith("rollouts cut at max_completion_length=12: ") for s in said)


def test_dpo_with_lora_saves_adapter_and_merged_model(tiny_model, small_data):
    said = []
    run = train(_spec(tiny_model, small_data, technique="dpo", name="dpo", max_steps=1, lora=True, lora_r=4, lora_alpha=8, max_completion_length=8), echo=said.append)
    # a random model never answers right, so every rejection is its own sample
    assert any(line.startswith("dpo rejections:") and " 0 near misses" in line for line in said), said
    # rejections are sampled only for the rows max_steps trains on (batch_size of them per step)
    assert any(line.startswith("dpo rejections: 8/8 sampled") for line in said), said
    assert (run / "adapter" / "adapter_config.json").exists()
    merged = AutoModelForCausalLM.from_pretrained(run / "model")
    assert not any("lora" in name for name, _ in merged.named_parameters())


class _KillAt(TrainerCallback):
    def __init__(self, step):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise KeyboardInterrupt("simulated kill")


def test_a_killed_run_resumes_from_its_last_checkpoint(tiny_model, small_data):
    spec = _spec(tiny_model, small_data, technique="sft", name="killed", max_steps=3)
    with pytest.raises(KeyboardInterrupt):
        train(spec, echo=lambda s: None, callbacks=[_KillAt(2)])
    from tooltune.runs import last_checkpoint, resolve_run

    run = resolve_run("killed")
    assert read_manifest(run)["status"] == "interrupted"
    # killed during step 2, before its checkpoint: step 1's is the last one
    assert last_checkpoint(run).name == "checkpoint-1"
    seen = []

    class _Record(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            seen.append(state.global_step)

    resume("killed", echo=lambda s: None, callbacks=[_Record()])
    manifest = read_manifest(run)
    assert manifest["status"] == "completed" and manifest["steps"] == 3
    assert seen == [2, 3]  # at most one checkpoint interval is redone


def test_native_rlvr_with_lora_resumes_after_a_kill(tiny_model, small_data, tmp_path):
    # A reward that differs between rollouts, so the native engine has rows to train on.
    (tmp_path / "reward.py").write_text("def by_length(prompts, completions, **kw):\n    return [float(len(str(c)) % 3) for c in completions]\n")
    spec = _spec(tiny_model, small_data, technique="rlvr", engine="native", lora=True, name="native-killed", max_steps=3, reward=f"{tmp_path / 'reward.py'}:by_length")
    with pytest.raises(KeyboardInterrupt):
        train(spec, echo=lambda s: None, callbacks=[_KillAt(2)])
    run = resume("native-killed", echo=lambda s: None)
    manifest = read_manifest(run)
    assert manifest["status"] == "completed" and manifest["steps"] == 3
    assert (run / "adapter" / "adapter_config.json").is_file()
    history = [h for h in manifest["history"] if "skipped_rows" in h]
    assert history and all(h["skipped_rows"] < 1 for h in history) and all(h["grad_norm"] > 0 for h in history)
    metrics, _ = _metrics(run)
    assert "train/entropy" in metrics and "train/zero_variance_group_fraction" in metrics


def test_continue_from_a_finished_run(tiny_model, small_data):
    first = train(_spec(tiny_model, small_data, technique="sft", name="warm", max_steps=1), echo=lambda s: None)
    # TRL's own GRPO engine here; the native engine is the default everywhere else in this file.
    second = train(_spec(tiny_model, small_data, technique="rlvr", engine="trl", name="then-rl", base="run:warm", max_steps=1), echo=lambda s: None)
    manifest = read_manifest(second)
    assert manifest["base"] == "run:warm" and manifest["base_path"] == str(first / "model")
    assert manifest["status"] == "completed"


def test_unknown_trl_field_fails_before_the_model_loads(tiny_model, small_data, monkeypatch):
    from tooltune.training import SpecError
    import tooltune.models.load as load

    monkeypatch.setattr(load, "load_model_and_tokenizer", lambda *a, **k: pytest.fail("model loaded"))
    with pytest.raises(SpecError, match="GRPOConfig has no field 'betaa' \\(did you mean 'beta'\\?\\)"):
        train(_spec(tiny_model, small_data, name="badtrl", trl={"betaa": 0.1}), echo=lambda s: None)
    with pytest.raises(SpecError, match="trl.learning_rate: expected float \\(its default is .*\\), got .abc."):
        train(_spec(tiny_model, small_data, name="badtrl2", trl={"learning_rate": "abc"}), echo=lambda s: None)
    # ... and before the run folder exists: the fixed spec can take the name (found by a hostile probe)
    from tooltune.runs import runs_dir

    assert not (runs_dir() / "badtrl").exists()
    with pytest.raises(SpecError, match="tracking_uri: MLflow cannot use 'nonsense://x'"):
        train(_spec(tiny_model, small_data, name="badtracking", tracking_uri="nonsense://x"), echo=lambda s: None)
    assert not (runs_dir() / "badtracking").exists()
    with pytest.raises(SpecError, match="trl.output_dir: set by tooltune"):
        _spec(tiny_model, small_data, trl={"output_dir": "/tmp/elsewhere"})


def test_a_completed_or_broken_run_is_not_resumed(tiny_model, small_data, tooltune_home):
    """--resume on a finished run trained past max_steps and rewrote a registered version's weights."""
    from tooltune.training import SpecError
    from tooltune.training.train import resume

    run = train(_spec(tiny_model, small_data, technique="sft", name="done", max_steps=1), echo=lambda s: None)
    with pytest.raises(SpecError, match="already completed; nothing to resume"):
        resume(str(run), echo=lambda s: None)
    for text, says in (("{not json", "cannot be read"), ("[]", "has no job spec"), ('{"status": "running"}', "has no job spec")):
        (run / "run.json").write_text(text)
        with pytest.raises(SpecError, match=says):
            resume(str(run), echo=lambda s: None)


def test_dpo_turns_checkpointing_off_unless_the_spec_asks_for_it(tiny_model, small_data, tmp_path):
    from tooltune.training.train import trl_config

    # a trl: number is read as a spec's own is: YAML reads 1e-5 as a string
    assert trl_config(_spec(tiny_model, small_data, technique="dpo", trl={"learning_rate": "1e-5"}), tmp_path, False, False).learning_rate == 1e-5

    assert not trl_config(_spec(tiny_model, small_data, technique="dpo"), tmp_path, False, False).gradient_checkpointing
    for name in ("gradient_checkpointing", "activation_checkpointing"):
        config = trl_config(_spec(tiny_model, small_data, technique="dpo", trl={name: True}), tmp_path, False, False)
        assert config.gradient_checkpointing, name  # the user's setting wins (and DPO takes TRL's head)


def test_sft_checkpoints_only_where_it_pays(tiny_model, small_data, tmp_path, monkeypatch):
    from tooltune.training.techniques import sft as train_module
    from tooltune.training.train import trl_config

    monkeypatch.setattr(train_module, "_ram_gib", lambda: 23.5)
    spec = _spec(tiny_model, small_data, technique="sft")
    assert trl_config(spec, tmp_path, True, False).gradient_checkpointing  # bf16 on CPU: faster with it
    assert not trl_config(spec, tmp_path, False, False).gradient_checkpointing  # fp32 on CPU: faster without
    monkeypatch.setattr(train_module, "_ram_gib", lambda: 16.0)
    assert trl_config(spec, tmp_path, False, False).gradient_checkpointing  # ... unless memory is short
    for name in ("gradient_checkpointing", "activation_checkpointing"):
        config = trl_config(_spec(tiny_model, small_data, technique="sft", trl={name: True}), tmp_path, False, False)
        assert config.gradient_checkpointing, name  # the user's setting wins


def test_sft_with_a_frozen_system_prompt_trains_without_checkpointing(tiny_model, small_data, tmp_path):
    from tooltune.training.train import trl_config

    spec = _spec(tiny_model, small_data, technique="sft", name="sft-frozen", max_steps=2, frozen_system_prompt=True)
    assert not trl_config(spec, tmp_path, True, False).gradient_checkpointing  # it would drop the system turn's cache
    run = train(spec, echo=lambda s: None)
    assert read_manifest(run)["status"] == "completed"
    metrics, _ = _metrics(run)
    assert 0 < metrics["train/loss"] < 20


def test_sft_with_shared_prompts_batches_twins_together_and_trains_with_checkpointing(tiny_model, tmp_path, monkeypatch):
    from tooltune.data.generate import GenerateConfig, generate
    from tooltune.training.sft_loss import AnswerOnlySFTTrainer

    data = generate(GenerateConfig(n=24, eval_n=8, seed=0, max_distractors=0, pairs=1.0), tmp_path / "pairs").paths
    shared = []
    packed = AnswerOnlySFTTrainer._packed_shared_prompts
    monkeypatch.setattr(AnswerOnlySFTTrainer, "_packed_shared_prompts", lambda self, inputs: shared.append(packed(self, inputs)) or shared[-1])
    spec = _spec(tiny_model, data, technique="sft", name="sft-shared", max_steps=3, share_prompts=True, trl={"gradient_checkpointing": True})
    run = train(spec, echo=lambda s: None)
    assert read_manifest(run)["status"] == "completed"
    assert any(p is not None for p in shared)  # some batch held a row and its twin
    metrics, _ = _metrics(run)
    assert 0 < metrics["train/loss"] < 20


def test_sft_with_frozen_layers_changes_only_the_layers_above(tiny_model, small_data):
    from safetensors.torch import load_file

    run = train(_spec(tiny_model, small_data, technique="sft", name="sft-frozen-layers", max_steps=2, frozen_layers=1), echo=lambda s: None)
    before, after = load_file(Path(tiny_model) / "model.safetensors"), load_file(run / "model" / "model.safetensors")
    changed = {name for name in after if not torch.equal(before[name], after[name])}
    assert changed and not any(".layers.0." in name for name in changed)
    assert any(".layers.1." in name for name in changed) and "model.embed_tokens.weight" in changed  # tied: learns from the output side
    # Too many layers fails with the spec, before any weights load: a folder's config says its depth,
    # a bundled base's catalog entry says its own.
    with pytest.raises(SpecError, match="would freeze every layer of .* \\(2\\); use at most 1"):
        _spec(tiny_model, small_data, technique="sft", name="sft-frozen-all", max_steps=1, frozen_layers=2)
    with pytest.raises(SpecError, match="would freeze every layer of smollm2-135m \\(30\\)"):
        _spec("smollm2-135m", small_data, technique="sft", frozen_layers=30)
    _spec("smollm2-135m", small_data, technique="sft", frozen_layers=29)


def test_a_cpu_without_native_bf16_gets_a_note_instead_of_a_silent_slow_run(monkeypatch):
    from tooltune.training import train as train_module

    monkeypatch.setattr(train_module, "bf16_supported", lambda: False)
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    assert "fp32" in train_module._dtype_hint("auto", False)
    assert "use dtype=auto" in train_module._dtype_hint("bfloat16", True)
    monkeypatch.setattr(train_module, "bf16_supported", lambda: True)
    assert train_module._dtype_hint("auto", True) is None


def test_a_run_that_fails_after_its_folder_exists_says_failed_with_the_error(tiny_model, small_data, tmp_path, monkeypatch):
    import tooltune.models.load as load

    def broken(*args, **kwargs):
        raise RuntimeError("weights unreadable")
    monkeypatch.setattr(load, "load_model_and_tokenizer", broken)
    with pytest.raises(RuntimeError):
        train(_spec(tiny_model, small_data, technique="sft", output_dir=str(tmp_path / "bad")), echo=lambda s: None)
    manifest = read_manifest(tmp_path / "bad")
    assert manifest["status"] == "failed" and manifest["error"] == "RuntimeError: weights unreadable"


def test_a_run_stopped_while_its_model_loads_says_interrupted(tiny_model, small_data, tmp_path, monkeypatch):
    import tooltune.models.load as load

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl+C (or SIGTERM, made an exit) before training began
    monkeypatch.setattr(load, "load_model_and_tokenizer", stopped)
    with pytest.raises(KeyboardInterrupt):
        train(_spec(tiny_model, small_data, technique="sft", output_dir=str(tmp_path / "stopped")), echo=lambda s: None)
    assert read_manifest(tmp_path / "stopped")["status"] == "interrupted"


def test_sigterm_stops_a_run_as_interrupted_and_it_resumes(tiny_model, small_data, tmp_path):
    import os
    import signal

    class Term(TrainerCallback):
        def on_log(self, args, state, control, **kw):  # after MLflow got step 2, before its checkpoint
            if state.global_step == 2:
                os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(SystemExit):
        train(_spec(tiny_model, small_data, technique="sft", output_dir=str(tmp_path / "term"), max_steps=4, logging_steps=1), echo=lambda s: None, callbacks=[Term()])
    assert read_manifest(tmp_path / "term")["status"] == "interrupted"
    manifest = read_manifest(resume(str(tmp_path / "term"), echo=lambda s: None))
    assert manifest["status"] == "completed"
    from mlflow.tracking import MlflowClient

    steps = [m.step for m in MlflowClient(manifest["mlflow_tracking_uri"]).get_metric_history(manifest["mlflow_run_id"], "train/loss")]
    assert sorted(steps) == [1, 2, 3, 4]  # the redone step 2 is not logged twice


def test_a_reward_that_fails_on_most_rows_stops_the_run_with_the_data_line(tiny_model, small_data, tmp_path):
    from tooltune.rewards import RewardError

    bad = tmp_path / "bad_reward.py"
    bad.write_text("def reward(prompts, completions, **kw):\n    raise ValueError('no luck')\n")
    with pytest.raises(RewardError, match=r"failed on \d+ of \d+ rows.*no luck.*data line \d+"):
        train(_spec(tiny_model, small_data, technique="rlvr", engine="trl", output_dir=str(tmp_path / "rl"), reward=f"{bad}:reward", max_steps=8), echo=lambda s: None)
    manifest = read_manifest(tmp_path / "rl")
    assert manifest["status"] == "failed" and "no luck" in manifest["error"]


def test_sft_trains_on_every_shape_with_shared_prompts_and_the_think_check(tiny_model, tmp_path):
    """Parallel calls, multi-turn prompts (a tool result, a follow-up) and long lists go through the recipe's SFT."""
    from tooltune.data import read_records
    from tooltune.data.generate import GenerateConfig, generate
    from tooltune.training.datasets import sft_rows

    data = generate(GenerateConfig(n=48, eval_n=8, seed=5, shapes=1.0, pairs=1.0, rows_per_list=4), tmp_path / "shapes").paths  # a draw with every shape and turn kind
    rows = read_records(data["train"])
    assert {"parallel", "multi_turn"} <= {r.shape for r in rows}
    multi = next(r for r in rows if r.raw["extra_info"].get("turns") == "after_result")
    (converted,) = sft_rows([multi], reasoning=True)
    assert [m["role"] for m in converted["prompt"]] == ["system", "user", "assistant", "tool", "user"]
    spec = _spec(tiny_model, data, technique="sft", name="sft-shapes", max_steps=3, share_prompts=True, reasoning=True, max_length=1024)
    run = train(spec, echo=lambda s: None)
    assert read_manifest(run)["status"] == "completed"
    assert 0 < _metrics(run)[0]["train/loss"] < 20


def test_rlaif_trains_with_a_judge_and_logs_each_part_and_its_cost(tiny_model, small_data, tmp_path):
    from tests.rewards.test_judge import FakeJudge, serve_fake_judge

    fake = FakeJudge()
    server, url = serve_fake_judge(fake)
    try:
        spec = _spec(tiny_model, small_data, technique="rlaif", name="rlaif", max_steps=2, reward={"strict": 0.5, "judge": 0.5}, balance_behaviors=True,
                     judge={"url": url, "model": "grader", "cache": str(tmp_path / "verdicts.sqlite")}, validation_data=str(small_data["eval"]), eval_steps=2)
        run = train(spec, echo=lambda s: None)
    finally:
        server.should_exit = True
    metrics, params = _metrics(run)
    assert params["technique"] == "rlaif" and fake.calls > 0
    for key in ("train/reward_mean", "train/reward.strict", "train/reward.judge", "judge/requests", "judge/seconds", "validation/reward.judge", "validation/reward.strict"):
        assert key in metrics, key
    assert metrics["train/reward.judge"] == 1.0  # the scripted judge gives every reply 5 of 5
    assert metrics["judge/requests"] + metrics["judge/cache_hits"] > 0 and metrics["judge/failures"] == 0
    history = read_manifest(run)["history"]
    assert [h["validation/reward.judge"] for h in history if "validation/reward.judge" in h] == [1.0, 1.0]  # before and after


def test_rlaif_with_a_judge_that_is_not_there_fails_before_training(tiny_model, small_data, tmp_path):
    spec = _spec(tiny_model, small_data, technique="rlaif", name="rlaif-dead", max_steps=1, reward=["strict", "judge"], judge={"url": "http://127.0.0.1:9/v1", "timeout": 2})
    with pytest.raises(Exception, match="did not answer.*start the endpoint or fix judge.url"):
        train(spec, echo=lambda s: None)


def test_rlvr_trains_on_the_grounded_reward(tiny_model, small_data):
    run = train(_spec(tiny_model, small_data, technique="rlvr", name="rlvr-grounded", max_steps=1, reward="grounded",
                      validation_data=str(small_data["eval"]), eval_steps=1), echo=lambda s: None)
    metrics, _ = _metrics(run)
    assert "train/reward_mean" in metrics and "validation/reward" in metrics
