"""Decoding many rollouts of one prompt without copying the prompt's KV cache to each of them.

A GRPO group samples 8 answers to one prompt of ~500-1000 tokens. Copying the prompt's keys and
values to every row (what ``generate`` needs for a batch) makes each decode step read them 8 times
and re-copy them as the cache grows: on 2 cores one step of 16 rows took 409 ms with 900-token
prompts against 90 ms with 50-token prompts, for the same 16 new tokens. Here the cache keeps each
distinct prompt's keys once (``SharedPrefixLayer``) and only the rollouts' own tokens per row; an
attention function registered with transformers' ``AttentionInterface`` attends a row to its
prompt's keys and its own, in one softmax over both (exact: same scores, same normalization).

Only ``generate`` sees it, inside ``shared_prefix_attention(model)``; training runs the prompt once
per group with plain attention (native_grpo.py).
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import torch
from transformers import AttentionInterface
from transformers.cache_utils import DynamicLayer
from transformers.integrations.sdpa_attention import sdpa_attention_forward

__all__ = ["SharedPrefixLayer", "shared_prefix_attention", "attend", "NAME"]

NAME = "tooltune_shared_prefix"


class SharedPrefixLayer(DynamicLayer):
    """One layer's cache: each distinct prompt's keys once, each row's own tokens after them.

    ``groups`` lists ``(prompt, first_row, end_row)``: the rows of one prompt are contiguous.
    """

    def __init__(self, keys: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, groups: list[tuple[int, int, int]]):
        super().__init__()
        # Kept in fp32: attend() computes in fp32, and casting once beats casting at every token.
        self.prefix_keys, self.prefix_values, self.prefix_mask, self.groups = keys.float(), values.float(), mask.bool(), groups
        self.lazy_initialization(keys, values)

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor]:
        self.keys = key_states if self.keys.numel() == 0 else torch.cat([self.keys, key_states], dim=-2)
        self.values = value_states if self.values.numel() == 0 else torch.cat([self.values, value_states], dim=-2)
        keys = self.keys.view_as(self.keys)  # a fresh handle to carry the prefix to the attention function
        keys.tooltune_prefix = self
        return keys, self.values

    def get_seq_length(self) -> int:
        return self.prefix_keys.shape[-2] + (self.keys.shape[-2] if self.keys.numel() else 0)

    def get_mask_sizes(self, query_length: int) -> tuple[int, int]:
        return self.get_seq_length() + query_length, 0


def attend(query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, layer: SharedPrefixLayer, scaling: float) -> torch.Tensor:
    """Attention of each row over its prompt's keys and its own; returns (rows, queries, heads, dim) like sdpa's.

    Runs in fp32 whatever the cache's dtype (softmax over ~1000 keys). Decoding calls this once per
    layer per token with tiny tensors, so op count, not arithmetic, sets its speed: when every prompt
    has the same number of rows (a GRPO batch) all groups go through one batched product per term.
    """
    rows, heads, length, dim = query.shape
    kv_heads, own, prefix = keys.shape[1], keys.shape[-2], layer.prefix_keys.shape[-2]
    per_kv = heads // kv_heads
    # A row's own token j is visible to its query i when j <= i + (own - length): causal within the answer.
    visible = torch.arange(own, device=query.device)[None, :] <= torch.arange(length, device=query.device)[:, None] + (own - length)
    prefix_keys, prefix_values = layer.prefix_keys, layer.prefix_values  # fp32 already (SharedPrefixLayer)
    keys, values = keys.float(), values.float()
    sizes = {end - start for _, start, end in layer.groups}
    if len(sizes) == 1 and [g for g, _, _ in layer.groups] == list(range(len(layer.groups))):
        n, prompts = sizes.pop(), len(layer.groups)
        # Queries as (prompt, kv head, row * query head * position, dim): one product per prompt's keys.
        q = query.float().reshape(prompts, n, kv_heads, per_kv * length, dim)
        on_prompt = torch.matmul(q.transpose(1, 2).reshape(prompts, kv_heads, n * per_kv * length, dim), prefix_keys.transpose(-1, -2)) * scaling
        on_prompt = on_prompt.masked_fill(~layer.prefix_mask[:, None, None, :], float("-inf"))
        on_prompt = on_prompt.view(prompts, kv_heads, n, per_kv * length, prefix).transpose(1, 2).reshape(rows, kv_heads, per_kv * length, prefix)
        on_own = torch.matmul(q.reshape(rows, kv_heads, per_kv * length, dim), keys.transpose(-1, -2)) * scaling
        on_own = on_own.masked_fill(~visible.repeat(per_kv, 1), float("-inf"))
        weights = torch.softmax(torch.cat([on_prompt, on_own], dim=-1), dim=-1)
        from_prompt = weights[..., :prefix].reshape(prompts, n, kv_heads, per_kv * length, prefix).transpose(1, 2).reshape(prompts, kv_heads, n * per_kv * length, prefix)
        from_prompt = torch.matmul(from_prompt, prefix_values).view(prompts, kv_heads, n, per_kv * length, dim).transpose(1, 2).reshape(rows, kv_heads, per_kv * length, dim)
        mixed = from_prompt + torch.matmul(weights[..., prefix:], values)
        return mixed.reshape(rows, heads, length, dim).transpose(1, 2).to(query.dtype)
    out = query.new_empty(rows, length, heads, dim)
    for prompt, start, end in layer.groups:
        q = query[start:end].float().reshape(end - start, kv_heads, per_kv, length, dim)
        on_prompt = torch.einsum("nhrqd,hpd->nhrqp", q, prefix_keys[prompt]) * scaling
        on_prompt = on_prompt.masked_fill(~layer.prefix_mask[prompt], float("-inf"))
        on_own = torch.einsum("nhrqd,nhsd->nhrqs", q, keys[start:end]) * scaling
        on_own = on_own.masked_fill(~visible, float("-inf"))
        weights = torch.softmax(torch.cat([on_prompt, on_own], dim=-1), dim=-1)
        mixed = torch.einsum("nhrqp,hpd->nhrqd", weights[..., :prefix], prefix_values[prompt])
        mixed = mixed + torch.einsum("nhrqs,nhsd->nhrqd", weights[..., prefix:], values[start:end])
        out[start:end] = mixed.reshape(end - start, heads, length, dim).transpose(1, 2).to(out.dtype)
    return out


def _attention(module: Any, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, attention_mask: Any, scaling: float | None = None, **kwargs: Any):
    layer = getattr(key, "tooltune_prefix", None)
    if layer is None:  # not a shared-prefix cache: the default kernel
        return sdpa_attention_forward(module, query, key, value, attention_mask, scaling=scaling, **kwargs)
    return attend(query, key, value, layer, scaling if scaling is not None else query.shape[-1] ** -0.5), None


AttentionInterface.register(NAME, _attention)


@contextlib.contextmanager
def shared_prefix_attention(model: Any) -> Iterator[None]:
    """Route ``model``'s attention through the shared-prefix function while the block runs."""
    before = model.config._attn_implementation
    model.set_attn_implementation(NAME)
    try:
        yield
    finally:
        model.set_attn_implementation(before)
