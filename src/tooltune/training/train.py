"""Run a job spec: a thin layer over TRL's SFTTrainer, GRPOTrainer and DPOTrainer.

    tooltune train job.yaml [key=value ...]      # start
    tooltune train --resume RUN                  # continue a killed run from its last checkpoint

We translate the few named hyperparameters (batch_size, learning_rate, epochs, rollouts, ...) into
TRL's config, pass ``trl:`` fields through untouched, track to MLflow, checkpoint every
``save_steps``, and write the final merged model and ``run.json`` into the run directory.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any, Callable

from ..data import read_records
from ..models.load import bf16_supported
from ..runs import ModelRef, file_sha256, is_run, last_checkpoint, read_manifest, resolve_ref, resolve_run, run_dir_for, write_manifest
from .spec import JobSpec, SpecError, load_spec, name_hints, native_blockers

__all__ = ["train", "resume", "trl_config", "rlvr_engine", "bf16_supported"]


def resume(ref: str, echo: Callable[[str], None] = print, callbacks: list[Any] | None = None) -> Path:
    """Continue a run from its last checkpoint with the spec it was started with."""
    run = resolve_run(ref)
    manifest = read_manifest(run)
    spec = load_spec(None, {**manifest["spec"], "output_dir": str(run)}, check_files=False)
    return train(spec, echo=echo, callbacks=callbacks, _resume_run=run)


def train(spec: JobSpec, echo: Callable[[str], None] = print, callbacks: list[Any] | None = None, _resume_run: Path | None = None) -> Path:
    """Train per ``spec``; returns the run directory (final model under ``model/``).

    ``callbacks`` are extra transformers ``TrainerCallback``s (progress hooks, early stops).
    """
    # Under a multi-process launcher every process runs this function; rank 0 alone writes the run
    # directory and the MLflow run, the others train and wait.
    main_process = int(os.environ.get("RANK", "0")) == 0
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not (_resume_run or spec.name or spec.output_dir):
        raise SpecError("name: required under several processes, so that every process finds the same run directory; add name=MY_RUN")
    run = _resume_run or run_dir_for(spec.name, spec.output_dir, spec.technique)
    manifest = read_manifest(run) if _resume_run else {}
    if not _resume_run and main_process and is_run(run):
        raise SpecError(f"run directory {run} already holds a run; pick another name or resume it with `tooltune train --resume {run}`")
    try:
        base = resolve_ref(spec.base)
    except ValueError as exc:
        raise SpecError(f"base: {exc}") from exc
    manifest.update(
        {
            "name": run.name,
            "spec": spec.to_dict(),
            "technique": spec.technique,
            "base": spec.base,
            "status": "running",
            "processes": int(os.environ.get("WORLD_SIZE", "1")),
            "data": {k: {"path": str(getattr(spec, k)), "sha256": file_sha256(getattr(spec, k))} for k in ("train_data", "validation_data") if getattr(spec, k)},
        }
    )
    manifest.setdefault("started_at", time.strftime("%Y-%m-%dT%H:%M:%S"))
    save = (lambda: write_manifest(run, manifest)) if main_process else (lambda: None)
    save()
    try:
        return _train(spec, run, manifest, save, base, main_process, echo, callbacks, _resume_run)
    except (KeyboardInterrupt, SystemExit):
        raise  # _train marked the run interrupted
    except BaseException as exc:
        # Whatever failed after the folder exists, run.json says so (never "running" for good).
        if manifest.get("status") == "running":
            manifest.update(status="failed", error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=time.strftime("%Y-%m-%dT%H:%M:%S"))
            save()
        raise


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _train(spec: JobSpec, run: Path, manifest: dict[str, Any], save: Callable[[], None], base: ModelRef, main_process: bool,
           echo: Callable[[str], None], callbacks: list[Any] | None, _resume_run: Path | None) -> Path:

    from ..models.load import load_model_and_tokenizer
    from ..runs import default_tracking_uri
    from .freezing import freeze_lower_layers
    from .tracking import MlflowTracker
    from .validation import ValidationReward, pick_rows

    train_records = read_records(spec.train_data)
    eval_records = pick_rows(read_records(spec.validation_data), spec.validation_rows, spec.seed) if spec.validation_data else None
    bf16 = spec.dtype == "bfloat16" or (spec.dtype == "auto" and bf16_supported())
    # TRL's own evaluation adds the eval loss for SFT and DPO; for GRPO it would sample every
    # validation prompt `rollouts` times, which the greedy validation reward already covers.
    trl_eval = eval_records is not None and spec.technique != "rlvr"
    config = trl_config(spec, run, bf16, trl_eval)  # a bad `trl:` field fails here, before the model loads
    manifest["base_path"] = base.load_path()
    model, tokenizer = load_model_and_tokenizer(manifest["base_path"])
    try:
        freeze_lower_layers(model, spec.frozen_layers)
    except ValueError as exc:
        raise SpecError(str(exc)) from exc

    tracker = MlflowTracker(spec.tracking_uri or default_tracking_uri(), run.name, _flat_params(spec), run_id=manifest.get("mlflow_run_id"))
    trainer = _build_trainer(spec, config, model, tokenizer, train_records, eval_records if trl_eval else None, tracker, echo)
    if eval_records:
        from ..inference import ANSWER_TOKENS
        from ..rewards import load_reward

        reward = load_reward(spec.reward, on_error="skip")
        # The evaluation's answer budget (or the run's, if longer): a run's SFT and RLVR checks stay
        # comparable, and a long check plus call is not cut off and scored as unparseable.
        budget = max(spec.max_completion_length, ANSWER_TOKENS)
        trainer.add_callback(ValidationReward(eval_records, reward, spec.eval_steps, budget, bf16, tokenizer, tracker.log_metrics, echo))
    for callback in callbacks or []:
        trainer.add_callback(callback)
    if main_process:
        manifest["mlflow_run_id"] = tracker.start()
        manifest["mlflow_tracking_uri"] = tracker.tracking_uri
    save()
    checkpoint = last_checkpoint(run) if _resume_run else None
    engine = f" ({rlvr_engine(spec)} engine)" if spec.technique == "rlvr" else ""
    echo(f"run {run.name}: {spec.technique}{engine} on {spec.base}, {len(train_records)} rows, bf16={bf16}" + (f", resuming from {checkpoint.name}" if checkpoint else ""))
    if hint := _dtype_hint(spec.dtype, bf16):
        echo(hint)
    started = time.perf_counter()
    # SIGTERM (a cancelled job, `kill`) ends Python without unwinding: make it an exit that does,
    # so run.json and MLflow say the run stopped instead of "running" for good.
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm) if threading.current_thread() is threading.main_thread() else None
    try:
        trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    except BaseException as exc:
        # Stopped (Ctrl+C, a signal, a cancelled job) can resume; an error is a failure, with its message.
        stopped = isinstance(exc, (KeyboardInterrupt, SystemExit))
        manifest.update(status="interrupted" if stopped else "failed", seconds=manifest.get("seconds", 0) + time.perf_counter() - started)
        if not stopped:
            manifest["error"] = f"{type(exc).__name__}: {exc}"[:2000]
        save()
        tracker.end("KILLED" if stopped else "FAILED")
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    trainer.accelerator.wait_for_everyone()
    if not main_process:
        return run
    _save_final(trainer, tokenizer, run, spec)
    history = [entry for entry in trainer.state.log_history if isinstance(entry, dict)]
    manifest.update(
        status="completed",
        finished_at=time.strftime("%Y-%m-%dT%H:%M:%S"),
        seconds=round(manifest.get("seconds", 0) + time.perf_counter() - started, 1),
        steps=trainer.state.global_step,
        metrics=_final_metrics(history),
        history=history,
    )
    write_manifest(run, manifest)
    tracker.end()
    echo(f"run {run.name} done in {manifest['seconds']}s: model in {run / 'model'}")
    return run


def _dtype_hint(dtype: str, bf16: bool) -> str | None:
    """A note when this CPU lacks native bf16, so a slow run does not look like a bug: without
    AVX512-BF16/AMX a bf16 matmul runs ~5x slower than fp32, and an fp32 SFT step ~2x slower than
    bf16 on a CPU that has it (~3x with checkpointing; README, step times)."""
    import torch

    if torch.cuda.is_available() or bf16_supported():
        return None
    if bf16:
        return "note: this CPU has no native bf16 (AVX512-BF16/AMX) and dtype=bfloat16 emulates it, ~5x slower than fp32 here; use dtype=auto"
    return "note: this CPU has no native bf16 (AVX512-BF16/AMX), so training runs in fp32 (SFT without checkpointing where memory allows, faster here): expect steps ~2x slower than the README's times"


def _flat_params(spec: JobSpec) -> dict[str, Any]:
    params = {k: v for k, v in spec.to_dict().items() if k != "trl"}
    params.update({f"trl.{k}": v for k, v in spec.trl.items()})
    return params


def _common_args(spec: JobSpec, run: Path, bf16: bool, has_eval: bool) -> dict[str, Any]:
    import torch

    world = int(os.environ.get("WORLD_SIZE", "1"))
    per_step = spec.micro_batch_size * world
    return dict(
        output_dir=str(run / "checkpoints"),
        per_device_train_batch_size=spec.micro_batch_size,
        per_device_eval_batch_size=spec.micro_batch_size,
        gradient_accumulation_steps=max(1, spec.batch_size // per_step),
        learning_rate=spec.learning_rate,
        num_train_epochs=spec.epochs,
        max_steps=spec.max_steps,
        save_strategy="steps",
        save_steps=spec.save_steps,
        save_total_limit=2,
        logging_steps=spec.logging_steps,
        eval_strategy="steps" if has_eval else "no",
        eval_steps=spec.eval_steps,
        seed=spec.seed,
        bf16=bf16,
        use_cpu=not torch.cuda.is_available(),
        report_to=[],
        run_name=run.name,
        dataloader_num_workers=0,
        save_only_model=False,
    )


def _apply_trl(config_cls: type, args: dict[str, Any], extra: dict[str, Any]) -> Any:
    names = {f.name for f in dataclasses.fields(config_cls)}
    unknown = [k for k in extra if k not in names]
    if unknown:
        raise SpecError(f"trl: {config_cls.__name__} has no field {name_hints(unknown, names)}")
    return config_cls(**{**args, **extra})


def trl_config(spec: JobSpec, run: Path, bf16: bool, has_eval: bool) -> Any:
    """The TRL config for ``spec``: our named hyperparameters, then ``spec.trl`` passed through."""
    common = _common_args(spec, run, bf16, has_eval)
    if spec.technique == "sft":
        from trl import SFTConfig

        # Rows differ a lot in length (1-4 tool schemas: 190-1060 tokens); random batches of 8 were
        # 54% padding on the generator's data. Batching rows of similar length (sft_loss.LengthBatches)
        # cuts that to 5%.
        sft = {**common, "max_length": spec.max_length, "completion_only_loss": True, "train_sampling_strategy": "group_by_length"}
        fp32_cpu = common["use_cpu"] and not bf16
        if spec.frozen_system_prompt or (fp32_cpu and _ram_gib() >= FP32_NO_CHECKPOINTING_GIB):
            # The user turn runs on the system turn's KV cache, which checkpointing would discard;
            # with no activations kept for the tool list there is little memory left to save.
            # And on a CPU without native bf16 (fp32 training) recomputing the forward costs more
            # than it saves: 69.2 vs 40.0 s per step of 8 rows on an AVX2 host (bench/train_step.py;
            # with AVX512-BF16 it is the other way, 20.3 vs 25.2), but the recipe's longest batches
            # then peak at 18.8 GB instead of ~6-8, so only where the memory is there.
            sft.update(_no_checkpointing(SFTConfig, spec.trl))
        return _apply_trl(SFTConfig, sft, spec.trl)
    if spec.technique == "dpo":
        from trl import DPOConfig

        # Each pair's prompt runs once with a KV cache both answers extend (dpo_logps.py), which
        # checkpointing would discard; the shared prompt leaves fewer activations to keep anyway.
        return _apply_trl(DPOConfig, {**common, "max_length": spec.max_length, **_no_checkpointing(DPOConfig, spec.trl)}, spec.trl)
    from trl import GRPOConfig

    # batch_size counts completions per optimizer step; TRL samples one generation batch per step
    # (steps_per_generation = gradient_accumulation_steps), i.e. batch_size / rollouts prompts.
    args = {**common, "num_generations": spec.rollouts, "max_completion_length": spec.max_completion_length, "temperature": spec.temperature, "log_completions": False}
    if rlvr_engine(spec) == "native":
        # The native engine keeps each prompt's KV cache, which checkpointing discards; sharing the
        # prompt leaves ~4x fewer activations, so the memory checkpointing saved is mostly gone too.
        args.update(_no_checkpointing(GRPOConfig, spec.trl))
    return _apply_trl(GRPOConfig, args, spec.trl)


# Physical memory (GiB) from which fp32 SFT on a CPU runs without checkpointing: the recipe's
# 136 steps peaked at 18.8 GB that way on the 24 GiB machine (~23.5 GiB as the OS counts it).
FP32_NO_CHECKPOINTING_GIB = 22


def _ram_gib() -> float:
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30


def _no_checkpointing(config_cls: type, trl: dict[str, Any]) -> dict[str, bool]:
    """Checkpointing off, under the name this TRL/transformers version reads (gradient_ was renamed
    activation_), unless the spec's ``trl:`` sets it under either name: the new name would win."""
    if {"gradient_checkpointing", "activation_checkpointing"} & set(trl):
        return {}
    names = {f.name for f in dataclasses.fields(config_cls)}
    return {"activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing": False}


def rlvr_engine(spec: JobSpec) -> str:
    """Which GRPO engine runs ``spec``: 'native' or 'trl' (see the spec's ``engine`` field)."""
    import torch

    if spec.technique != "rlvr" or spec.engine == "trl":
        return "trl"
    blockers = native_blockers(spec.trl, int(os.environ.get("WORLD_SIZE", "1")))
    if spec.engine == "native":
        if blockers:
            raise SpecError(f"engine: native does not run with {' or '.join(blockers)}; use engine: trl")
        return "native"
    # auto: native where it is measured (one CPU process); on a GPU TRL's path is the tested one.
    return "trl" if blockers or torch.cuda.is_available() else "native"


def _rows_to_sample(records: list, spec: JobSpec) -> list:
    """The rows a DPO run with ``max_steps`` trains on: a seeded random subset, so rejections are
    sampled (a generation per row, ~1 s each on CPU) only for rows the run will use."""
    needed = spec.max_steps * spec.batch_size
    if spec.max_steps <= 0 or needed >= len(records):
        return records
    import random

    return random.Random(spec.seed).sample(records, needed)


def _sampled_rejections(spec: JobSpec, model: Any, tokenizer: Any, records: list, echo: Callable[[str], None]) -> list[str | None]:
    """Sample the base model's own answers and keep its worst-scored one per row as the rejection."""
    import torch

    from ..inference import Sampling, progress_bar
    from ..rewards import load_reward
    from .rejections import sampled_rejections

    sampling = Sampling(max_new_tokens=spec.max_completion_length, temperature=spec.temperature, samples=spec.rejection_samples, batch_size=8, seed=spec.seed)
    with progress_bar(len(records), "sampling rejections") as advance:
        with torch.autocast(model.device.type, dtype=torch.bfloat16, enabled=bf16_supported()):
            rejected = sampled_rejections(model, tokenizer, records, load_reward(spec.reward, on_error="skip"), sampling, progress=advance)
    sampled = sum(r is not None for r in rejected)
    echo(f"dpo rejections: {sampled}/{len(records)} sampled from the model, {len(records) - sampled} near misses where every sample was right")
    return rejected


def _build_trainer(spec: JobSpec, config: Any, model: Any, tokenizer: Any, train_records: list, eval_records: list | None, tracker: Any, echo: Callable[[str], None] = print) -> Any:
    from datasets import Dataset

    from .datasets import balance_behaviors, dpo_rows, rlvr_rows, sft_rows

    peft_config = None
    if spec.lora:
        from peft import LoraConfig

        peft_config = LoraConfig(r=spec.lora_r, lora_alpha=spec.lora_alpha, target_modules="all-linear", task_type="CAUSAL_LM")
    shared = dict(model=model, args=config, processing_class=tokenizer, peft_config=peft_config, callbacks=[tracker])

    def dataset(rows_fn: Callable[..., list], records: list | None, *extra: Any) -> Any:
        return Dataset.from_list(rows_fn(records, *extra)) if records else None

    if spec.technique == "sft":
        from .sft_loss import AnswerOnlySFTTrainer

        trainer = AnswerOnlySFTTrainer(**shared, train_dataset=dataset(sft_rows, train_records, spec.reasoning), eval_dataset=dataset(sft_rows, eval_records, spec.reasoning))
        trainer.frozen_system_prompt = spec.frozen_system_prompt
        trainer.share_prompts = spec.share_prompts
    elif spec.technique == "dpo":
        from .dpo_logps import SharedPromptDPOTrainer

        if spec.rejections == "sampled":
            train_records = _rows_to_sample(train_records, spec)
        rejected = _sampled_rejections(spec, model, tokenizer, train_records, echo) if spec.rejections == "sampled" else None
        trainer = SharedPromptDPOTrainer(**shared, train_dataset=dataset(dpo_rows, train_records, spec.seed, rejected, spec.reasoning), eval_dataset=dataset(dpo_rows, eval_records, spec.seed, None, spec.reasoning))
    else:
        from ..rewards import load_reward
        from .grpo_logps import KeptLogitsGRPOTrainer
        from .native_grpo import NativeGRPOTrainer
        from .tracking import BehaviorRewards

        reward = BehaviorRewards(load_reward(spec.reward, on_error="skip"))
        tracker.rewards = reward
        trainer_cls = NativeGRPOTrainer if rlvr_engine(spec) == "native" else KeptLogitsGRPOTrainer
        prompts = balance_behaviors(train_records, spec.seed) if spec.balance_behaviors else train_records
        trainer = trainer_cls(**shared, reward_funcs=[reward], train_dataset=dataset(rlvr_rows, prompts), eval_dataset=dataset(rlvr_rows, eval_records))
        reward.model = trainer.model
    tracker.trainer = trainer
    return trainer


def _save_final(trainer: Any, tokenizer: Any, run: Path, spec: JobSpec) -> None:
    model = trainer.model
    if spec.lora:
        model.save_pretrained(run / "adapter")
        model = model.merge_and_unload()
    model.save_pretrained(run / "model")
    tokenizer.save_pretrained(run / "model")


def _final_metrics(history: list[dict[str, Any]]) -> dict[str, float]:
    """The last logged value of each metric."""
    out: dict[str, float] = {}
    for entry in history:
        for key, value in entry.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                out[key] = value
    return out
