"""Resolve a model spec to a transformers folder and load it.

A spec is a bundled name (``smollm2-135m``), a local transformers folder, a ``.gguf`` file, or a
hub id (used as is, where the network allows). GGUF weights are converted once into a cached plain
folder: a GGUF-loaded model refuses ``save_pretrained``, so we rebuild the model from its config
and copy the dequantized state dict into it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..home import models_cache
from .catalog import BUNDLED, ChatFormat, ModelNotFound, bundled_gguf_path, chat_format_of

__all__ = ["resolve_model", "convert_gguf", "load_model_and_tokenizer", "prepare_tokenizer", "bf16_supported", "resolve_dtype"]


def resolve_model(spec: str | os.PathLike[str]) -> str:
    """A path (or hub id) that ``from_pretrained`` can load; converts GGUF weights on first use."""
    text = str(spec)
    if text in BUNDLED:
        target = models_cache() / text
        if not (target / "config.json").exists():
            convert_gguf(bundled_gguf_path(text, verify=True), target, chat=BUNDLED[text].chat)
        return str(target)
    path = Path(text).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        stat = path.stat()
        key = hashlib.sha1(f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:12]
        target = models_cache() / f"gguf-{path.stem}-{key}"
        if not (target / "config.json").exists():
            convert_gguf(path, target)
        return str(target)
    if path.is_dir():
        if not (path / "config.json").exists():
            raise ModelNotFound(f"{path} is a folder without config.json; give a transformers model folder, a .gguf file or one of: {', '.join(BUNDLED)}")
        return str(path)
    if path.exists() or text.startswith((".", "/", "~")) or text.endswith(".gguf"):
        raise ModelNotFound(f"model {text!r} not found; give a transformers folder, a .gguf file, a hub id, or one of: {', '.join(BUNDLED)}")
    return text  # a hub id: transformers resolves it, or fails with its own message offline


def convert_gguf(gguf_path: str | os.PathLike[str], out_dir: str | os.PathLike[str], chat: ChatFormat | None = None) -> Path:
    """Dequantize a GGUF file into a plain fp32 transformers folder (weights, config, tokenizer);
    ``chat``'s template is installed when the file carries none (pretrained bases)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf_path = Path(gguf_path)
    out_dir = Path(out_dir)
    loaded = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    # The loaded config still says "quantized GGUF"; transformers would then refuse to fine-tune it.
    clean = {k: v for k, v in loaded.config.to_dict().items() if k not in ("quantization_config", "_name_or_path", "_model_name_or_path")}
    config = type(loaded.config).from_dict(clean)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    model.generation_config = loaded.generation_config
    if chat is not None and chat.template and not getattr(tokenizer, "chat_template", None):
        tokenizer.chat_template = chat.template
    prepare_tokenizer(tokenizer)
    # Write beside the target and rename, so an interrupted conversion never leaves half a model.
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        staging.rename(out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out_dir


def prepare_tokenizer(tokenizer: Any) -> Any:
    """Give the tokenizer its chat format's pad token when it has none (else its eos), and pad on
    the left for generation."""
    if tokenizer.pad_token is None:
        chat = chat_format_of(tokenizer)
        tokenizer.pad_token = chat.pad if chat is not None and chat.pad in tokenizer.get_vocab() else tokenizer.eos_token
    tokenizer.padding_side = "left"
    return tokenizer


def bf16_supported() -> bool:
    """bf16 autocast pays off on GPUs that support it and on CPUs with native bf16 (AVX512-BF16/AMX)."""
    import torch

    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_dtype(dtype: str) -> str:
    """``auto`` → ``bfloat16`` where the hardware has native bf16, else ``float32``; others as given."""
    return dtype if dtype != "auto" else ("bfloat16" if bf16_supported() else "float32")


def load_model_and_tokenizer(spec: str, dtype: str = "float32") -> tuple[Any, Any]:
    """Load a causal LM and its prepared tokenizer from any spec :func:`resolve_model` accepts."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    # Weights never come from a hub at run time here; transformers would otherwise look up hub
    # kernels for RMSNorm/rotary on CUDA, which fails on an offline GPU box. USE_HUB_KERNELS=YES opts in.
    os.environ.setdefault("USE_HUB_KERNELS", "NO")
    path = resolve_model(spec)
    torch_dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[resolve_dtype(dtype)]
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype)
    tokenizer = prepare_tokenizer(AutoTokenizer.from_pretrained(path))
    return model, tokenizer
