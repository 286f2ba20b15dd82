"""``tooltune eval``: answer every held-out row with a model (and its base), score both, report.

    tooltune eval --model run:rlvr --base smollm2-135m --data eval.jsonl --out eval/

Writes ``predictions.jsonl`` (every row, both answers, every score), ``eval.json`` (settings,
timing, every metric overall and per behavior, confusion tables, failure counts), ``report.md``
(base vs customized with absolute and relative change) and ``chart.png``; and logs the metrics to
MLflow, into the training run's own MLflow run when the model is a tooltune run.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from ..data import Record, read_records
from ..constrained import quote_sources
from ..reading import read_values
from ..rewards.batch import match_predictions
from ..training.datasets import answer_budget, training_messages
from ..runs import file_sha256, read_manifest, resolve_ref
from .metrics import score_answer, summarize
from .report import bar_chart, markdown_report

__all__ = ["EvalConfig", "evaluate"]


@dataclass
class EvalConfig:
    """One evaluation. Give ``model`` or ``predictions`` (answers produced elsewhere), or both sides."""

    data: str  # held-out rows in the record shape (any file `tooltune data validate` accepts)
    out: str  # directory for predictions.jsonl, eval.json, report.md, chart.png
    model: str | None = None  # run, transformers folder, .gguf file, bundled name or hub id
    base: str | None = None  # the model to compare against (usually what `model` was trained from)
    predictions: str | None = None  # JSONL of {"id"?, "response"} for `model`, instead of generating
    base_predictions: str | None = None  # the same for `base`
    max_new_tokens: int | None = None  # longest answer; None: the file's longest reference answer with its check + 64 (training.datasets.answer_budget)
    temperature: float = 0.0  # 0: greedy (the default, so a rerun gives the same answers)
    batch_size: int = 16  # rows per generate() call
    limit: int | None = None  # evaluate only the first N rows (a quick look)
    dtype: str = "auto"  # auto: bf16 weights where the CPU/GPU has native bf16; float32 otherwise
    tracking_uri: str | None = None  # MLflow; default: the training run's, else SQLite under $TOOLTUNE_HOME
    seed: int = 0  # sampling seed when temperature > 0
    # Generated answers get the values they quote from the request read by code, as serving does
    # (tooltune/reading.py); eval.json keeps the scores of the model's own values too ("unread").
    # Answers given as predictions are scored as they are.
    read_values: bool = True
    # Tool calls are decoded within the offered tools' schemas, as serving does (tooltune/constrained.py).
    constrain_calls: bool = True
    # With constrain_calls: the <think> check keeps its trained form, its quotes are the request's own words,
    # and the answer follows it (tooltune/constrained.py).
    ground_quotes: bool = True

    def __post_init__(self) -> None:
        for name in ("batch_size", "limit", "max_new_tokens"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise ValueError(f"{name}: must be a whole number >= 1, got {value!r}")


def evaluate(config: EvalConfig, echo: Callable[[str], None] = print) -> dict[str, Any]:
    if not (config.model or config.predictions):
        raise ValueError("give --model (to generate answers) or --predictions (answers produced elsewhere)")
    records = read_records(config.data)[: config.limit or None]
    if not records:
        raise ValueError(f"{config.data}: no rows to evaluate")
    out = Path(config.out)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)  # now: an --out that cannot be made fails before minutes of generation
    try:
        return _evaluate(config, records, out, echo)
    except BaseException:
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # a failed evaluation leaves no empty folder behind
        raise


def _evaluate(config: EvalConfig, records: list[Record], out: Path, echo: Callable[[str], None]) -> dict[str, Any]:
    started = time.perf_counter()
    sides: dict[str, dict[str, Any]] = {}
    # Base first: the report's "change" column reads base -> customized.
    for label, ref, predictions in (("base", config.base, config.base_predictions), ("model", config.model, config.predictions)):
        if not (ref or predictions):
            continue
        answers, generation = _answers(records, ref, predictions, config, label, echo)
        readings = [read_values(a, r.tools, quote_sources(r.prompt)) if config.read_values and not predictions else None for r, a in zip(records, answers)]
        read = [reading.answer if reading else a for reading, a in zip(readings, answers)]
        scores = [score_answer(r, a) for r, a in zip(records, read)]
        summary = summarize(records, read, scores).to_dict()
        sides[label] = {"ref": ref, "predictions": predictions, "answers": read, "scores": scores, "summary": summary, "generation": generation,
                        "unread": answers, "changes": [reading.changes if reading else [] for reading in readings]}
        echo(f"{label}: tool-call reward {summary['metrics']['all']['toolcall_reward']:.3f}, strict {summary['metrics']['all']['strict_reward']:.3f}, "
             f"decision accuracy {summary['metrics']['all']['decision_accuracy']:.3f}")
        if changed := sum(bool(c) for c in sides[label]["changes"]):
            # Only the changed answers need scoring again.
            unread_scores = [score_answer(r, a) if c else s for r, a, c, s in zip(records, answers, sides[label]["changes"], scores)]
            unread = summarize(records, answers, unread_scores).to_dict()["metrics"]
            generation["read_values"] = {"answers_changed": changed, "unread_metrics": unread}
            echo(f"{label}: values read by code in {changed} answers; without that, tool-call reward {unread['all']['toolcall_reward']:.3f}, "
                 f"exact call {unread['all']['exact_call']:.3f} (exact call with it: {summary['metrics']['all']['exact_call']:.3f})")

    _write_predictions(out / "predictions.jsonl", records, sides)
    results = {label: side["summary"] for label, side in sides.items()}
    report = markdown_report(results, title=f"Evaluation on {Path(config.data).name}")
    (out / "report.md").write_text(report)
    bar_chart(results, out / "chart.png")
    payload = {
        "config": asdict(config),
        "data": {"path": str(Path(config.data).resolve()), "sha256": file_sha256(config.data), "rows": len(records)},
        "seconds": round(time.perf_counter() - started, 1),
        "generation": {label: side["generation"] for label, side in sides.items()},
        "results": results,
    }
    (out / "eval.json").write_text(json.dumps(payload, indent=2))
    payload["mlflow_run_id"] = _log_mlflow(config, sides, out)
    (out / "eval.json").write_text(json.dumps(payload, indent=2))
    echo(report)
    echo(f"wrote {out / 'predictions.jsonl'}, {out / 'eval.json'}, {out / 'report.md'}, {out / 'chart.png'}")
    return payload


def _answers(records: list[Record], ref: str | None, predictions: str | None, config: EvalConfig, label: str, echo: Callable[[str], None]) -> tuple[list[str], dict[str, Any]]:
    if predictions:
        return match_predictions(records, predictions, first_rows=config.limit is not None), {"source": str(predictions)}
    import torch

    from ..inference import Sampling, generate_answers, progress_bar
    from ..models.load import load_model_and_tokenizer, resolve_dtype

    path = resolve_ref(str(ref)).load_path()
    dtype = resolve_dtype(config.dtype)
    loaded = time.perf_counter()
    model, tokenizer = load_model_and_tokenizer(path, dtype=dtype)
    if torch.cuda.is_available():
        model.to("cuda")
    budget = config.max_new_tokens or answer_budget(records, tokenizer)
    sampling = Sampling(max_new_tokens=budget, temperature=config.temperature, batch_size=config.batch_size, seed=config.seed)
    tokens = 0

    def count(rows: int, new: int) -> None:
        nonlocal tokens
        tokens += new
        advance(rows, new)

    started = time.perf_counter()
    with progress_bar(len(records), f"{label}: generating") as advance:
        answers = [group[0] for group in generate_answers(model, tokenizer, [training_messages(r) for r in records], sampling, progress=count,
                                                          tools=[r.tools for r in records] if config.constrain_calls else None,
                                                          ground_quotes=config.ground_quotes)]
    seconds = time.perf_counter() - started
    echo(f"{label}: {len(records)} rows in {seconds:.0f}s ({tokens / seconds:.0f} tokens/s, {dtype}; load {started - loaded:.0f}s)")
    return answers, {"source": path, "max_new_tokens": budget, "constrain_calls": config.constrain_calls,
                     "ground_quotes": config.constrain_calls and config.ground_quotes, "seconds": round(seconds, 1), "new_tokens": tokens,
                     "tokens_per_s": round(tokens / seconds, 1), "dtype": dtype}


def _write_predictions(path: Path, records: list[Record], sides: dict[str, dict[str, Any]]) -> None:
    with open(path, "w") as handle:
        for i, record in enumerate(records):
            row: dict[str, Any] = {"id": record.id, "line": record.line, "behavior": record.behavior, "request": record.user_prompt, "ground_truth": record.ground_truth}
            for label, side in sides.items():
                score = side["scores"][i]
                row[label] = {"answer": side["answers"][i], "decision": score.decision, "failure": score.failure, **{k: round(v, 4) for k, v in score.metrics.items()}}
                if side["changes"][i]:  # what code read into the call, and the answer as the model wrote it
                    row[label].update(read=side["changes"][i], unread_answer=side["unread"][i])
            handle.write(json.dumps(row) + "\n")


def _log_mlflow(config: EvalConfig, sides: dict[str, dict[str, Any]], out: Path) -> str | None:
    """Log into the training run's MLflow run when the model is a run; else a run of its own."""
    import mlflow

    from ..runs import default_tracking_uri, use_experiment

    run_id, uri = None, config.tracking_uri
    if config.model:
        try:
            run_dir = resolve_ref(config.model).run
        except Exception:  # noqa: BLE001 - a model given only as predictions has no run
            run_dir = None
        if run_dir is not None:
            manifest = read_manifest(run_dir)
            run_id, uri = manifest.get("mlflow_run_id"), uri or manifest.get("mlflow_tracking_uri")
    if run_id is None:
        use_experiment(uri or default_tracking_uri())
    else:
        mlflow.set_tracking_uri(uri or default_tracking_uri())  # a run's own MLflow run already has its experiment
    metrics = {}
    for label, side in sides.items():
        prefix = "heldout" if label == "model" else "heldout_base"
        for group, values in side["summary"]["metrics"].items():
            metrics.update({f"{prefix}/{group}/{name}": float(v) for name, v in values.items()})
    with mlflow.start_run(run_id=run_id, run_name=None if run_id else f"eval-{time.strftime('%Y%m%d-%H%M%S')}") as run:
        mlflow.log_metrics(metrics)
        for name in ("eval.json", "report.md", "chart.png", "predictions.jsonl"):
            mlflow.log_artifact(str(out / name), artifact_path=f"eval/{Path(config.data).stem}")
        return run.info.run_id
