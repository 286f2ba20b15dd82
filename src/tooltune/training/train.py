"""Run a job spec: a thin layer over TRL's SFTTrainer, GRPOTrainer and DPOTrainer.

    tooltune train job.yaml [key=value ...]      # start
    tooltune train --resume RUN                  # continue a killed run from its last checkpoint

We translate the few named hyperparameters (batch_size, learning_rate, epochs, rollouts, ...) into
TRL's config, pass ``trl:`` fields through untouched, track to MLflow, checkpoint every
``save_steps``, and write the final merged model and ``run.json`` into the run directory.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

from ..data import read_records
from ..models.load import bf16_supported
from ..runs import ModelRef, file_sha256, is_run, last_checkpoint, process_state, read_manifest, resolve_ref, resolve_run, run_dir_for, this_process, write_manifest
from ..rewards.loader import StopRun
from .spec import JobSpec, SpecError, load_spec
from .techniques import TECHNIQUES, Context

__all__ = ["train", "resume", "trl_config", "bf16_supported"]


def resume(ref: str, echo: Callable[[str], None] = print, callbacks: list[Any] | None = None) -> Path:
    """Continue a run from its last checkpoint with the spec it was started with."""
    run = resolve_run(ref)
    try:
        manifest = read_manifest(run)
    except (OSError, ValueError) as exc:
        raise SpecError(f"{run / 'run.json'}: cannot be read ({exc}); the run cannot be resumed, start a new one") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("spec"), dict):
        raise SpecError(f"{run / 'run.json'}: has no job spec (was it written by tooltune train?); the run cannot be resumed, start a new one")
    # Rank 0 only: under torchrun the other ranks read run.json after rank 0 wrote its own pid there.
    if int(os.environ.get("RANK", "0")) == 0 and manifest.get("pid") != os.getpid() and process_state(manifest) == "alive":
        raise SpecError(f"run {run.name} is training now (process {manifest['pid']} on this machine); stop it first, or wait for it")
    if manifest.get("status") == "completed":  # training on would pass max_steps and rewrite a registered version's weights
        raise SpecError(f"run {run.name} already completed; nothing to resume (train a new run with base=run:{run.name} to go on from it)")
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
    if not _resume_run:  # a bad `trl:` field fails before the run folder exists, so the fixed spec can take its name
        bf16 = spec.dtype == "bfloat16" or (spec.dtype == "auto" and bf16_supported())
        try:
            trl_config(spec, Path(tempfile.gettempdir()) / "tooltune-spec-check", bf16, spec.validation_data is not None and TECHNIQUES[spec.technique].trl_evaluation)
        except SpecError:
            raise
        except (TypeError, ValueError) as exc:  # TRL's own checks of its config ("... requires ...")
            raise SpecError(f"trl: {exc}") from exc
        if spec.tracking_uri and main_process:  # a store MLflow cannot open ("nonsense://") fails now, not after the folder exists
            from ..runs import use_experiment

            try:
                use_experiment(spec.tracking_uri)
            except Exception as exc:  # noqa: BLE001 - MLflow raises many kinds; each says why in its first line
                raise SpecError(f"tracking_uri: MLflow cannot use {spec.tracking_uri!r} ({str(exc).splitlines()[0][:200]})") from exc
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
            **this_process(),  # a run killed outright (SIGKILL) is told from a live one
            "processes": int(os.environ.get("WORLD_SIZE", "1")),
            "data": {k: {"path": str(getattr(spec, k)), "sha256": file_sha256(getattr(spec, k))} for k in ("train_data", "validation_data") if getattr(spec, k)},
        }
    )
    manifest.setdefault("started_at", time.strftime("%Y-%m-%dT%H:%M:%S"))
    save = (lambda: write_manifest(run, manifest)) if main_process else (lambda: None)
    # SIGTERM (a cancelled job, `kill`) ends Python without unwinding: make it an exit that does,
    # so run.json and MLflow say the run stopped instead of "running" for good, from the moment
    # run.json says "running" (loading a model takes a while too).
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm) if threading.current_thread() is threading.main_thread() else None
    save()
    try:
        return _train(spec, run, manifest, save, base, main_process, echo, callbacks, _resume_run)
    except BaseException as exc:
        # Whatever stopped it after the folder exists, run.json says so (never "running" for good);
        # once training began, _train has said it already.
        if manifest.get("status") == "running":
            stopped = isinstance(exc, (KeyboardInterrupt, SystemExit))
            manifest.update(status="interrupted" if stopped else "failed", finished_at=time.strftime("%Y-%m-%dT%H:%M:%S"))
            if not stopped:
                manifest["error"] = f"{type(exc).__name__}: {exc}"[:2000]
            save()
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise StopRun(128 + signum)  # not a plain SystemExit: a reward's own sys.exit() is caught as its failure, this never is


def _train(spec: JobSpec, run: Path, manifest: dict[str, Any], save: Callable[[], None], base: ModelRef, main_process: bool,
           echo: Callable[[str], None], callbacks: list[Any] | None, _resume_run: Path | None) -> Path:

    from ..models.load import load_model_and_tokenizer
    from ..runs import default_tracking_uri
    from .freezing import freeze_embeddings, freeze_lower_layers
    from .tracking import MlflowTracker
    from .validation import ValidationReward, pick_rows

    train_records = read_records(spec.train_data)
    eval_records = pick_rows(read_records(spec.validation_data), spec.validation_rows, spec.seed) if spec.validation_data else None
    bf16 = spec.dtype == "bfloat16" or (spec.dtype == "auto" and bf16_supported())
    # TRL's own evaluation adds the eval loss for SFT and DPO; for GRPO it would sample every
    # validation prompt `rollouts` times, which the greedy validation reward already covers.
    trl_eval = eval_records is not None and TECHNIQUES[spec.technique].trl_evaluation
    config = trl_config(spec, run, bf16, trl_eval)  # a bad `trl:` field fails here, before the model loads
    manifest["base_path"] = base.load_path()
    model, tokenizer = load_model_and_tokenizer(manifest["base_path"])
    try:
        freeze_lower_layers(model, spec.frozen_layers)
        if spec.frozen_embeddings:
            freeze_embeddings(model)
    except ValueError as exc:
        raise SpecError(str(exc)) from exc

    tracker = MlflowTracker(spec.tracking_uri or default_tracking_uri(), run.name, _flat_params(spec), run_id=manifest.get("mlflow_run_id"))
    trainer = _build_trainer(spec, config, model, tokenizer, train_records, eval_records if trl_eval else None, tracker, echo)
    if eval_records:
        from ..rewards.mixed import build_reward
        from .datasets import answer_budget

        reward = build_reward(spec.reward, spec.judge, on_error="skip")
        # The evaluation's answer budget (or the run's, if longer): a run's SFT and RLVR checks stay
        # comparable, and a long check plus call is not cut off and scored as unparseable.
        budget = max(spec.max_completion_length, answer_budget(eval_records, tokenizer))
        trainer.add_callback(ValidationReward(eval_records, reward, spec.eval_steps, budget, bf16, tokenizer, tracker.log_metrics, echo))
    for callback in callbacks or []:
        trainer.add_callback(callback)
    if main_process:
        manifest["mlflow_run_id"] = tracker.start()
        manifest["mlflow_tracking_uri"] = tracker.tracking_uri
    save()
    checkpoint = last_checkpoint(run) if _resume_run else None
    echo(f"run {run.name}: {TECHNIQUES[spec.technique].describe(spec)} on {spec.base}, {len(train_records)} rows, bf16={bf16}" + (f", resuming from {checkpoint.name}" if checkpoint else ""))
    if hint := _dtype_hint(spec.dtype, bf16):
        echo(hint)
    started = time.perf_counter()
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
    AVX512-BF16/AMX a bf16 matmul is emulated (5x slower than fp32 on one such CPU, 200x on
    another), and an fp32 SFT step of the main command took 2x to 5x a bf16 step on a CPU that has
    it (docs/performance.md; docs/ablations.md, the AVX2 baseline)."""
    import torch

    if torch.cuda.is_available() or bf16_supported():
        return None
    if bf16:
        return "note: this CPU has no native bf16 (AVX512-BF16/AMX) and dtype=bfloat16 emulates it, 5x to 200x slower than fp32; use dtype=auto"
    return "note: this CPU has no native bf16 (AVX512-BF16/AMX), so training runs in fp32 (SFT without checkpointing where memory allows, faster here): expect steps 2x to 5x slower than the README's times (the main command took ~40 s per step on a 2-core AVX2 host, ~3.3 h in all)"


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


def trl_config(spec: JobSpec, run: Path, bf16: bool, has_eval: bool) -> Any:
    """The TRL config for ``spec``: our named hyperparameters, the technique's own, then ``spec.trl`` passed through."""
    return TECHNIQUES[spec.technique].trl_config(spec, _common_args(spec, run, bf16, has_eval), bf16)


def _build_trainer(spec: JobSpec, config: Any, model: Any, tokenizer: Any, train_records: list, eval_records: list | None, tracker: Any, echo: Callable[[str], None] = print) -> Any:
    peft_config = None
    if spec.lora:
        from peft import LoraConfig

        peft_config = LoraConfig(r=spec.lora_r, lora_alpha=spec.lora_alpha, target_modules="all-linear", task_type="CAUSAL_LM")
    context = Context(model=model, tokenizer=tokenizer, train_records=train_records, eval_records=eval_records, tracker=tracker, peft_config=peft_config, echo=echo)
    trainer = TECHNIQUES[spec.technique].trainer(spec, config, context)
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
