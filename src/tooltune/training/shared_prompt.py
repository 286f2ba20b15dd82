"""A prompt run once under several answers, with gradients: GRPO groups and DPO pairs.

The prompt (all but its last token) goes through the decoder once; its KV cache is repeated for
each answer row and the answers run on top. Autograd sums every answer's gradient into the
prompt's activations, exactly as if the prompt had been run once per answer (the parity tests in
tests/training/test_native_grpo.py and test_dpo_logps.py check every parameter's gradient).
"""

from __future__ import annotations

import inspect
from typing import Any

import torch

__all__ = ["cache_kwarg", "shared_prompt_hidden"]


def cache_kwarg(module: torch.nn.Module) -> str:
    """transformers 5.2x renamed ``past_key_values`` to ``cache`` (the old name warns until 5.40)."""
    return "cache" if "cache" in inspect.signature(module.forward).parameters else "past_key_values"


def shared_prompt_hidden(model: Any, prompt: torch.Tensor, suffix: torch.Tensor) -> torch.Tensor:
    """Last hidden states (rows, length, hidden) of ``suffix`` after ``prompt[:-1]``.

    ``prompt`` is one row of token ids; ``suffix`` holds each answer row, starting with the
    prompt's last token (which predicts the first answer token).
    """
    from transformers import DynamicCache

    decoder = model.get_decoder()
    kwarg = cache_kwarg(decoder)
    # One embedding lookup for prompt and answers: each lookup's backward writes a dense gradient
    # of the whole 49k-row table, ~0.2 s apiece on a 2-core CPU.
    embeds = decoder.get_input_embeddings()(torch.cat([prompt[:-1], suffix.flatten()]))
    cache, prefix = DynamicCache(config=model.config), len(prompt) - 1
    if prefix:
        decoder(inputs_embeds=embeds[None, :prefix], use_cache=True, **{kwarg: cache})
        cache.batch_select_indices(torch.zeros(suffix.size(0), dtype=torch.long, device=suffix.device))
    return decoder(inputs_embeds=embeds[prefix:].view(*suffix.shape, -1), use_cache=True, **{kwarg: cache}).last_hidden_state
