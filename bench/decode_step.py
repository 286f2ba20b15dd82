"""Time of one decoding step with transformers' DynamicCache against tooltune's in-place cache.

    .venv/bin/python bench/decode_step.py [--model smollm2-135m] [--rows 13] [--context 700] [--steps 12]

Prefills ``rows`` random prompts of ``context`` tokens, then decodes ``steps`` greedy tokens with
each cache (one row left-padded, as a batch of different prompts is) and prints the mean and each
step's milliseconds (the first two steps are warm-up), and whether both caches chose the same
tokens. Asserts nothing.
"""

from __future__ import annotations

import argparse
import time

import torch
from transformers import DynamicCache

from tooltune.kv_cache import growing_cache
from tooltune.models.load import load_model_and_tokenizer
from tooltune.runs import resolve_ref


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--rows", type=int, default=13)
    parser.add_argument("--context", type=int, default=700)
    parser.add_argument("--steps", type=int, default=12)
    args = parser.parse_args()
    model, _ = load_model_and_tokenizer(resolve_ref(args.model).load_path(), dtype="auto")
    model.eval()
    ids = torch.randint(100, model.config.vocab_size - 100, (args.rows, args.context), generator=torch.Generator().manual_seed(0))
    print(f"model {args.model} ({model.dtype}), {torch.get_num_threads()} threads, {args.rows} rows x {args.context} tokens")
    chosen = {}
    for name, make in (("DynamicCache", lambda: DynamicCache(config=model.config)), ("growing_cache", lambda: growing_cache(model.config))):
        cache, times, tokens = make(), [], []
        with torch.inference_mode():
            model(input_ids=ids[:, :-1], use_cache=True, past_key_values=cache, logits_to_keep=1)
            token = ids[:, -1:]
            for step in range(args.steps + 2):
                mask = torch.ones(args.rows, args.context + step, dtype=torch.long)
                mask[0, :5] = 0
                started = time.perf_counter()
                logits = model(input_ids=token, attention_mask=mask, position_ids=torch.full((args.rows, 1), args.context - 1 + step),
                               use_cache=True, past_key_values=cache, logits_to_keep=1).logits[:, -1]
                times.append(time.perf_counter() - started)
                token = logits.argmax(-1, keepdim=True)
                tokens.append(token)
        chosen[name] = torch.cat(tokens, 1)
        measured = times[2:]
        print(f"{name:<14} {1000 * sum(measured) / len(measured):7.1f} ms/step   {[round(1000 * t) for t in measured]}")
    print("same tokens:", torch.equal(*chosen.values()))


if __name__ == "__main__":
    main()
