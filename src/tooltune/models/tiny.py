"""A tiny random-weight model with the default model's architecture and tokenizer, for tests.

Same Llama architecture, chat template and tokenizer as SmolLM2-135M, but 2 layers of width 64
(about 3M parameters, most of them the embedding), so a training step takes milliseconds.
"""

from __future__ import annotations

import os
from pathlib import Path

from .catalog import DEFAULT_MODEL, bundled_gguf_path
from .load import prepare_tokenizer

__all__ = ["build_tiny_model", "TINY_CONFIG"]

TINY_CONFIG = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048)


def build_tiny_model(out_dir: str | os.PathLike[str], seed: int = 0, tokenizer_dir: str | None = None) -> Path:
    """Write a tiny random LlamaForCausalLM plus the bundled tokenizer into ``out_dir``."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    if tokenizer_dir:
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    else:
        gguf = bundled_gguf_path(DEFAULT_MODEL)
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    prepare_tokenizer(tokenizer)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
        **TINY_CONFIG,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    out = Path(out_dir)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
