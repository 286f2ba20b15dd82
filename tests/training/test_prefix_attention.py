"""Shared-prefix attention against plain scaled-dot-product attention over the copied cache."""

import pytest
import torch

from tooltune.training.prefix_attention import SharedPrefixLayer, attend


def test_matches_sdpa_over_a_copied_prefix_with_padding_and_several_queries():
    torch.manual_seed(0)
    kv_heads, heads, dim, prefix = 2, 6, 8, 7
    prompt_keys, prompt_values = torch.randn(2, kv_heads, prefix, dim), torch.randn(2, kv_heads, prefix, dim)
    prompt_mask = torch.ones(2, prefix, dtype=torch.bool)
    prompt_mask[1, :3] = False  # the second prompt is left-padded
    groups = [(0, 0, 3), (1, 3, 5)]  # rows 0-2 answer prompt 0, rows 3-4 prompt 1
    layer = SharedPrefixLayer(prompt_keys, prompt_values, prompt_mask, groups)
    own = 4
    keys, values = torch.randn(5, kv_heads, own, dim), torch.randn(5, kv_heads, own, dim)
    query = torch.randn(5, heads, 2, dim)  # the last two tokens, causal among themselves

    ours = attend(query, keys, values, layer, dim**-0.5)

    row_prompt = torch.tensor([0, 0, 0, 1, 1])
    full_keys = torch.cat([prompt_keys[row_prompt], keys], 2).repeat_interleave(heads // kv_heads, 1)
    full_values = torch.cat([prompt_values[row_prompt], values], 2).repeat_interleave(heads // kv_heads, 1)
    causal = torch.arange(own)[None, :] <= torch.arange(2)[:, None] + own - 2
    mask = torch.cat([prompt_mask[row_prompt][:, None, None, :].expand(5, 1, 2, prefix), causal.expand(5, 1, 2, own)], -1)
    reference = torch.nn.functional.scaled_dot_product_attention(query, full_keys, full_values, attn_mask=mask).transpose(1, 2)
    assert ours.shape == reference.shape == (5, 2, heads, dim)
    assert torch.allclose(ours, reference, atol=1e-5)


def test_the_cache_counts_the_prompt_and_grows_by_the_rows_own_tokens():
    layer = SharedPrefixLayer(torch.zeros(1, 2, 5, 4), torch.zeros(1, 2, 5, 4), torch.ones(1, 5), [(0, 0, 3)])
    assert layer.get_seq_length() == 5
    keys, values = layer.update(torch.ones(3, 2, 1, 4), torch.ones(3, 2, 1, 4))
    keys, values = layer.update(torch.ones(3, 2, 1, 4), torch.ones(3, 2, 1, 4))
    assert keys.shape == (3, 2, 2, 4) and keys.tooltune_prefix is layer
    assert layer.get_seq_length() == 7 and layer.get_mask_sizes(1) == (8, 0)


@pytest.mark.parametrize("prompts,length", [(2, 3), (1, 1), (2, 1)])
def test_equal_groups_take_the_batched_path_and_match_sdpa(prompts, length):
    torch.manual_seed(1)
    kv_heads, heads, dim, prefix, own, n = 3, 9, 8, 6, 5, 4
    rows = prompts * n
    prompt_keys, prompt_values = torch.randn(prompts, kv_heads, prefix, dim), torch.randn(prompts, kv_heads, prefix, dim)
    prompt_mask = torch.ones(prompts, prefix, dtype=torch.bool)
    prompt_mask[0, :2] = False
    layer = SharedPrefixLayer(prompt_keys, prompt_values, prompt_mask, [(p, p * n, (p + 1) * n) for p in range(prompts)])
    keys, values = torch.randn(rows, kv_heads, own, dim), torch.randn(rows, kv_heads, own, dim)
    # A transposed query, as the model's attention passes it.
    query = torch.randn(rows, length, heads, dim).transpose(1, 2)

    ours = attend(query, keys, values, layer, dim**-0.5)

    row_prompt = torch.arange(prompts).repeat_interleave(n)
    full_keys = torch.cat([prompt_keys[row_prompt], keys], 2).repeat_interleave(heads // kv_heads, 1)
    full_values = torch.cat([prompt_values[row_prompt], values], 2).repeat_interleave(heads // kv_heads, 1)
    causal = torch.arange(own)[None, :] <= torch.arange(length)[:, None] + own - length
    mask = torch.cat([prompt_mask[row_prompt][:, None, None, :].expand(rows, 1, length, prefix), causal.expand(rows, 1, length, own)], -1)
    reference = torch.nn.functional.scaled_dot_product_attention(query, full_keys, full_values, attn_mask=mask).transpose(1, 2)
    assert ours.shape == reference.shape == (rows, length, heads, dim)
    assert torch.allclose(ours, reference, atol=1e-5)
