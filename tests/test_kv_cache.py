"""The in-place cache decodes exactly as transformers' own, through joins, drops and crops."""

import torch
from transformers import DynamicCache

from tooltune.kv_cache import growing_cache
from tooltune.models.load import load_model_and_tokenizer


def _decode(model, cache, ids, steps, edit=None):
    """Each step's logits (greedy decoding after prefilling ``ids``); ``edit(cache, step, token)`` may
    rework the cache between steps. Logits, not tokens: a random tiny model's argmax barely depends
    on what the cache holds."""
    out = []
    with torch.inference_mode():
        logits = model(input_ids=ids, use_cache=True, past_key_values=cache).logits[:, -1]
        for step in range(steps):
            out.append(logits)
            token = logits.argmax(-1, keepdim=True)
            if edit is not None:
                token = edit(cache, step, token)
            length = cache.get_seq_length()
            logits = model(input_ids=token, position_ids=torch.full((token.shape[0], 1), length), use_cache=True, past_key_values=cache).logits[:, -1]
    return out


def test_growing_cache_decodes_token_for_token_like_dynamic_cache(bundled_tiny):
    _, path = bundled_tiny
    model, _ = load_model_and_tokenizer(path, dtype="float32")
    model.eval()
    ids = torch.randint(5, 400, (3, 20), generator=torch.Generator().manual_seed(0))
    # 200 steps: the buffer (room for 148 tokens at first) fills and grows.
    plain, grown = _decode(model, DynamicCache(config=model.config), ids, 200), _decode(model, growing_cache(model.config), ids, 200)
    assert len(plain) == len(grown) and all(torch.allclose(a, b, atol=1e-5) for a, b in zip(plain, grown))


def test_rows_dropped_and_tokens_cropped_mid_decoding_stay_exact(tiny_model):
    """The serving batcher assigns keys itself (rows leave, columns go); the next update adopts them."""
    model, _ = load_model_and_tokenizer(tiny_model, dtype="float32")
    model.eval()
    ids = torch.randint(5, 400, (3, 30), generator=torch.Generator().manual_seed(1))

    def edit(cache, step, token):
        if step == 5:  # the middle row leaves
            cache.batch_select_indices(torch.tensor([0, 2]))
            return token[[0, 2]]
        if step == 9:  # the last token is dropped and decoded again
            cache.crop(-1)
        return token

    plain = _decode(model, DynamicCache(config=model.config), ids, 20, edit)
    grown = _decode(model, growing_cache(model.config), ids, 20, edit)
    assert len(plain) == len(grown) and all(torch.allclose(a, b, atol=1e-5) for a, b in zip(plain, grown))
    layer = growing_cache(model.config).layers[0]
    assert type(layer).__name__ == "GrowingLayer"
