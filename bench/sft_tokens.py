"""Tokens an SFT epoch runs through the decoder, with and without sharing system turns.

    .venv/bin/python bench/sft_tokens.py [--n 1500] [--pairs 1.0] [--rows-per-list 1 4] [--batch 8]

For each data layout it generates the rows (`data generate` with the given options), batches them
the way the recipe does (tooltune's `LengthBatches`, 8 rows, the `<think>` check on), and counts the
token positions each batch's forward and backward cover, padding included: as plain rows, and as
`share_prompts: true` packs them (one sequence per distinct system turn). It runs the trainer's own
batching and packing code on the bundled tokenizer and no model, so it takes seconds; the ratio of
the two counts is the share of a step's work that sharing leaves (attention's quadratic part aside;
`bench/train_step.py --set share_prompts=true` times real steps).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

import torch
from datasets import Dataset
from trl import SFTConfig

from tooltune.data import read_records
from tooltune.data.generate import GenerateConfig, generate
from tooltune.models.load import load_model_and_tokenizer
from tooltune.models.tiny import build_tiny_model
from tooltune.training.datasets import sft_rows
from tooltune.training.sft_loss import AnswerOnlySFTTrainer


def count(trainer: AnswerOnlySFTTrainer, share: bool) -> dict[str, float]:
    trainer.share_prompts = share
    torch.manual_seed(0)
    plain = packed = batches = 0
    for batch in trainer.get_train_dataloader():
        batches += 1
        plain += batch["input_ids"].numel()
        shared = trainer._packed_shared_prompts(dict(batch))
        packed += batch["input_ids"].numel() if shared is None else shared[0].numel()
    return {"batches": batches, "plain_tokens": plain, "run_tokens": packed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pairs", type=float, default=1.0)
    parser.add_argument("--rows-per-list", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tooltune-sft-tokens-"))
    # The tiny model carries SmolLM2's tokenizer and chat template; no forward pass runs.
    model, tokenizer = load_model_and_tokenizer(str(build_tiny_model(work / "tiny")))
    config = SFTConfig(output_dir=str(work / "out"), per_device_train_batch_size=args.batch, max_length=1024, completion_only_loss=True,
                       train_sampling_strategy="group_by_length", report_to=[], use_cpu=True, bf16=False, dataloader_num_workers=0)
    for per_list in args.rows_per_list:
        paths = generate(GenerateConfig(n=args.n, eval_n=0, seed=args.seed, pairs=args.pairs, rows_per_list=per_list), work / f"data-{per_list}").paths
        records = read_records(paths["train"])
        trainer = AnswerOnlySFTTrainer(model=model, args=config, processing_class=tokenizer, train_dataset=Dataset.from_list(sft_rows(records, reasoning=True)))
        lengths = [len(ids) for ids in trainer.train_dataset["input_ids"]]
        result = {"rows": args.n, "pairs": args.pairs, "rows_per_list": per_list, "tokens_per_row": round(statistics.mean(lengths), 1)}
        for share in (False, True):
            counted = count(trainer, share)
            result[f"share_prompts={str(share).lower()}"] = {**counted, "run_over_row_tokens": round(counted["run_tokens"] / sum(lengths), 3)}
        print(json.dumps(result))


if __name__ == "__main__":
    main()
