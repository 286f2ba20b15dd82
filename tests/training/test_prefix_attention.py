"""Shared-prefix attention against plain scaled-dot-product attention over the copied cache."""

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
