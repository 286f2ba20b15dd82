"""Tiny random-weight models with a bundled base's architecture, tokenizer and chat template, for tests.

2 layers of width 64 (a few million parameters, most of them the embedding), so a training step
takes milliseconds, while everything model-specific (turn format, end-of-turn and pad tokens, the
answer mask SFT computes) is the real base's.
"""

from __future__ import annotations

import os
from pathlib import Path

from .catalog import BUNDLED, DEFAULT_MODEL, bundled_gguf_path
from .load import prepare_tokenizer

__all__ = ["build_tiny_model", "TINY_CONFIG"]

TINY_CONFIG = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048)


def build_tiny_model(out_dir: str | os.PathLike[str], seed: int = 0, tokenizer_dir: str | None = None, base: str = DEFAULT_MODEL) -> Path:
    """Write a tiny random model of ``base``'s architecture plus its tokenizer into ``out_dir``."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    bundled = BUNDLED[base]
    if tokenizer_dir:
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    else:
        gguf = bundled_gguf_path(base)
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    if bundled.chat.template and not getattr(tokenizer, "chat_template", None):
        tokenizer.chat_template = bundled.chat.template
    prepare_tokenizer(tokenizer)
    extra = {"head_dim": 16} if bundled.model_type.startswith("gemma") else {}
    config = AutoConfig.for_model(
        bundled.model_type,
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
        **TINY_CONFIG,
        **extra,
    )
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    out = Path(out_dir)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
