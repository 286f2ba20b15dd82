"""The Python SDK: customize, evaluate, serve and export, the same calls the CLI and the quickstart make.

    import tooltune

    done = tooltune.customize("recipe:warmstart-sft", train_data="data/train.jsonl", max_steps=20)
    print(done.version)                               # smollm2-135m-tooltune@1
    scores = tooltune.evaluate(done.version, data="heldout/natural.jsonl", out="eval/", base="smollm2-135m")
    print(scores["results"]["model"]["metrics"]["all"]["exact_call"])
    tooltune.export(done.version, "export/", format="gguf")

Every function takes a model the way every command does (a bundled name, ``NAME@VERSION``, a run,
a folder, a ``.gguf`` file: :func:`tooltune.runs.resolve_ref`) and raises ``ValueError`` subclasses
(SpecError, RunError, RegistryError, DatasetError) whose message says how to fix the input.
Importing this module loads no torch; the functions load what they need.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .inference import ANSWER_TOKENS

__all__ = ["Customized", "customize", "evaluate", "serve", "export"]


@dataclass(frozen=True)
class Customized:
    """What :func:`customize` made."""

    run: Path  # the run directory: checkpoints, model/, run.json
    version: str | None  # NAME@VERSION in My Models (None when the spec says register: false)
    evaluation: dict[str, Any] | None  # eval.json when the spec has eval_data

    @property
    def model(self) -> str:
        """The reference to pass on: the registered version, else the run."""
        return self.version or f"run:{self.run}"


def customize(spec: str | Path | None = None, *, resume: str | None = None, echo: Callable[[str], None] = print,
              callbacks: list[Any] | None = None, **overrides: Any) -> Customized:
    """Train as ``spec`` (a YAML file or ``recipe:NAME``) and ``overrides`` say, register the model
    and, when the spec has ``eval_data``, evaluate it against its base; or ``resume`` a run."""
    from .runs import read_manifest, record_evaluations, register_finished_run, resolve_ref
    from .training import SpecError, load_spec
    from .training.train import resume as resume_run
    from .training.train import train

    if spec is not None and not isinstance(spec, (str, os.PathLike)):  # a dict would fail deep in pathlib
        raise SpecError(f"spec: a YAML file's path or recipe:NAME, got {type(spec).__name__}; pass fields as keyword arguments (customize(None, base=..., train_data=...))")
    if resume is not None and not isinstance(resume, (str, os.PathLike)):
        raise SpecError(f"resume: a run's name or folder, got {type(resume).__name__}")
    if resume:
        if spec is not None or overrides:
            raise SpecError("resume takes no spec or overrides: the run keeps its own spec")
        run = resume_run(os.fspath(resume), echo=echo, callbacks=callbacks)
    else:
        job = load_spec(spec, overrides)
        try:
            job.base = resolve_ref(job.base).spec_base  # NAME@V trains from its run, keeping the lineage
        except ValueError as exc:
            raise SpecError(f"base: {exc}") from exc
        run = train(job, echo=echo, callbacks=callbacks)
    if int(os.environ.get("RANK", "0")) != 0:
        return Customized(run, None, None)  # under a multi-process launcher, rank 0 registers and evaluates
    try:
        registered = register_finished_run(run)
    except Exception as exc:  # noqa: BLE001 - the trained model is safe in the run directory either way
        echo(f"warning: the run finished but registering it failed ({exc}); register it with `tooltune models register {run} --name NAME`")
        registered = None
    version = f"{registered.name}@{registered.version}" if registered else None
    if version:
        echo(f"registered {version} (tooltune models show {version})")
    evaluation = None
    settings = read_manifest(run).get("spec", {})
    if settings.get("eval_data"):
        echo(f"evaluating {run.name} against {settings['base']} on {settings['eval_data']}")
        evaluation = evaluate(str(run), data=settings["eval_data"], out=run / "eval", base=settings["base"], echo=echo)
        record_evaluations(run)
    return Customized(run, version, evaluation)


def evaluate(model: str | None, data: str | Path, out: str | Path, base: str | None = None, echo: Callable[[str], None] = print, **settings: Any) -> dict[str, Any]:
    """Answer every row of ``data`` with ``model`` (and ``base``), score both with every metric, write
    ``out``/{predictions.jsonl, eval.json, report.md, chart.png}; returns what eval.json holds.
    ``settings`` are :class:`tooltune.evaluation.evaluate.EvalConfig` fields (``limit``, ``predictions``, ...)."""
    from .evaluation.evaluate import EvalConfig
    from .evaluation.evaluate import evaluate as run_evaluation
    from .runs import record_evaluations, resolve_ref

    fields = EvalConfig.__dataclass_fields__
    unknown = sorted(set(settings) - set(fields))
    if unknown:  # a TypeError from the dataclass would not say which settings exist
        raise ValueError(f"evaluate: no setting {', '.join(unknown)}; settings are {', '.join(f for f in fields if f not in ('data', 'out', 'model', 'base'))}")
    if not Path(data).is_file():
        raise ValueError(f"data: {data} {'is a folder; give the JSONL file in it' if Path(data).is_dir() else 'does not exist'}")
    refs = [resolve_ref(m) if m else None for m in (model, base)]
    for ref, given in ((model, settings.get("predictions")), (base, settings.get("base_predictions"))):
        if ref and given:  # said, so nobody reads the scores as the model's own generation here
            echo(f"scoring {given} as {ref}'s answers: nothing is generated, and {ref}'s run (if any) records these scores")
    # A run (or a version whose run is still there) is evaluated as that run: its MLflow run gets the metrics.
    names = [None if r is None else str(r.run) if r.run else r.load_path() if r.kind == "version" else r.text for r in refs]
    result = run_evaluation(EvalConfig(data=str(data), out=str(out), model=names[0], base=names[1], **settings), echo=echo)
    if refs[0] is not None and refs[0].run is not None:
        record_evaluations(refs[0].run)  # a registered run's version lists this evaluation too
    return result


def serve(model: str, host: str = "127.0.0.1", port: int = 8000, api_key: str | None = None, served_name: str | None = None, max_tokens: int = ANSWER_TOKENS,
          max_batch: int = 16, prefix_cache: int = 8, read_values: bool = True, constrain_calls: bool = True, ground_quotes: bool = True, echo: Callable[[str], None] = print) -> None:
    """Serve ``model`` as an OpenAI-compatible endpoint until interrupted."""
    import uvicorn

    from .runs import resolve_ref
    from .serving.app import Engine, ServeConfig, create_app

    if constrain_calls:
        from .constrained import require

        require()  # before minutes of loading: say now that --free-calls or an install is needed
    path = resolve_ref(model).load_path()
    config = ServeConfig(model=path, served_name=served_name or model, api_key=api_key, max_tokens=max_tokens, max_batch=max_batch, prefix_cache=prefix_cache,
                         read_values=read_values, constrain_calls=constrain_calls, ground_quotes=ground_quotes)
    echo(f"loading {path} ...")
    app = create_app(config, Engine.load(path, config.dtype, config.max_batch, config.prefix_cache))
    echo(f"serving {config.served_name!r} at http://{host}:{port}/v1 (OpenAI-compatible){' with an API key' if api_key else ''}")
    # SIGTERM / Ctrl+C: requests get 2 s to finish, then their tasks are cancelled, which stops
    # their generation at the next token (a busy server used to ignore SIGTERM until it was done).
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=2)


def export(model: str, out: str | Path, format: str = "hf", dtype: str = "f16") -> Path:
    """Write ``model`` as a merged transformers folder (``hf``) or GGUF weights plus an Ollama Modelfile (``gguf``)."""
    from .weights import export_gguf, export_hf
    from .runs import resolve_ref

    if format not in ("hf", "gguf"):
        raise ValueError(f"format must be hf or gguf, got {format!r}")
    path = resolve_ref(model).load_path()
    return Path(export_hf(path, str(out)) if format == "hf" else export_gguf(path, str(out), dtype=dtype, name=model))
