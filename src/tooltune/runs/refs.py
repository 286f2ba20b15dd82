"""One resolver for every way a command names a model.

    smollm2-135m              a bundled base            weather-bot@2, weather-bot@prod   a registered version
    run:NAME, NAME, runs/DIR  a training run            path/to/folder                    a transformers folder
    model.gguf                GGUF weights              HuggingFaceTB/SmolLM2-360M        a hub id

:func:`resolve_ref` reads the text once and returns a :class:`ModelRef` that training, evaluation,
serving, export, jobs and the studio all take; nothing else parses ``run:`` or ``NAME@V``.
Resolving loads no weights (``load_path`` converts a bundled or GGUF model on first use).
"""

from __future__ import annotations

import difflib

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .dirs import RunError, resolve_run

__all__ = ["ModelRef", "ModelRefError", "resolve_ref", "is_run"]

Kind = Literal["version", "run", "bundled", "gguf", "folder", "hub"]


class ModelRefError(ValueError):
    """A model reference that names nothing usable; the message lists the forms that work."""


def is_run(path: str | Path) -> bool:
    """Whether ``path`` is a training run's directory (it holds run.json)."""
    return (Path(path) / "run.json").exists()


@dataclass(frozen=True)
class ModelRef:
    """A model reference, resolved: what it is and where it lives."""

    text: str  # as it was written
    kind: Kind
    run: Path | None = None  # the run directory: runs, and versions whose run still exists
    folder: Path | None = None  # a transformers folder that exists now (a run's model/, a version's, a folder)
    version: str | None = None  # NAME@VERSION, for registered versions

    def load_path(self) -> str:
        """What ``from_pretrained`` loads: the folder, or a bundled/GGUF model converted once and cached."""
        if self.folder is not None:
            return str(self.folder)
        if self.kind == "hub":
            return self.text
        from ..models.load import resolve_model

        return resolve_model(self.text)

    @property
    def spec_base(self) -> str:
        """How a job spec's ``base`` names this model: ``run:DIR`` keeps the lineage of a run."""
        if self.run is not None:
            return f"run:{self.run}"
        return str(self.folder) if self.kind == "version" else self.text


def resolve_ref(text: str, tracking_uri: str | None = None) -> ModelRef:
    """Resolve ``text`` (see the module docstring); raises ModelRefError, RunError or RegistryError
    with what exists when it names nothing usable."""
    from ..models.catalog import BUNDLED
    from .registry import Registry, parse_ref

    text = str(text)
    path = Path(text).expanduser()
    name, selector = parse_ref(text)
    if selector is not None and not path.exists():
        registry = Registry(tracking_uri)
        found = registry.get(name, selector)
        label = f"{found.name}@{found.version}"
        run = Path(found.tags.get("run", ""))
        if found.tags.get("run") and is_run(run) and Path(found.source) == run / "model":
            return ModelRef(text, "version", run=run, folder=_model_folder(run, text), version=label)
        return ModelRef(text, "version", folder=Path(registry.local_path(found)), version=label)
    if text.startswith("run:"):
        run = resolve_run(text[4:])
        return ModelRef(text, "run", run=run, folder=_model_folder(run, text))
    if text in BUNDLED:
        return ModelRef(text, "bundled")
    try:
        run = resolve_run(text)  # a run by directory or by name
    except RunError:
        pass
    else:
        return ModelRef(text, "run", run=run, folder=_model_folder(run, text))
    if path.is_file() and path.suffix == ".gguf":
        return ModelRef(text, "gguf")
    if path.is_dir():
        if not (path / "config.json").exists():
            raise ModelRefError(f"{path} is a folder without config.json; give a transformers model folder, a run, a .gguf file, NAME@VERSION or one of: {', '.join(BUNDLED)}")
        return ModelRef(text, "folder", folder=path)
    if path.exists() or text.startswith((".", "/", "~")) or text.endswith(".gguf") or "/" not in text:
        # A bare name is a typo more often than a hub id (hub ids are ORG/NAME): say so now,
        # not after a minute of retries against a hub this machine may not reach.
        close = difflib.get_close_matches(text, list(BUNDLED), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ModelRefError(f"model {text!r} not found: {hint}give a transformers folder (with config.json), a .gguf file, a run, NAME@VERSION, a hub id (ORG/NAME), or one of: {', '.join(BUNDLED)}")
    return ModelRef(text, "hub")


def _model_folder(run: Path, text: str) -> Path:
    model = run / "model"
    if not (model / "config.json").exists():
        from .dirs import process_state, read_manifest

        manifest = read_manifest(run)
        status = manifest.get("status")
        if process_state(manifest) == "gone":
            status = "running, but its process is gone: it was killed"
        if status == "completed":  # it finished once: its model folder was deleted since
            raise RunError(f"run {text!r} finished, but its model folder {model} is gone; train it again (or register another run)")
        raise RunError(f"run {text!r} has no final model yet (status: {status}); resume it with `tooltune train --resume {run}`")
    return model
