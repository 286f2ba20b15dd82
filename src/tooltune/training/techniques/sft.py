"""SFT: learn the ground-truth answer (with ``reasoning``, after a ``<think>`` check), loss on the
answer only (training/sft_loss.py)."""

from __future__ import annotations

import os
from typing import Any

from .base import Context, Technique
from .config import apply_trl, no_checkpointing

__all__ = ["SFT", "FP32_NO_CHECKPOINTING_GIB"]

# Physical memory (GiB) from which fp32 SFT on a CPU runs without checkpointing: the recipe's
# longest batches peaked at 18.8 GB that way on the 24 GiB machine (~23.5 GiB as the OS counts it).
FP32_NO_CHECKPOINTING_GIB = 22


def _ram_gib() -> float:
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30


class SFT(Technique):
    name = "sft"
    summary = "supervised fine-tuning on the ground-truth answers"
    reads = ("max_length", "reasoning", "frozen_system_prompt", "share_prompts")

    def trl_config(self, spec: Any, common: dict[str, Any], bf16: bool) -> Any:
        from trl import SFTConfig

        # Rows differ a lot in length (1-4 tool schemas: 190-1060 tokens): batches of rows of similar
        # length (sft_loss.LengthBatches) pad 5% instead of 54% (docs/performance.md).
        args = {**common, "max_length": spec.max_length, "completion_only_loss": True, "train_sampling_strategy": "group_by_length"}
        fp32_cpu = common["use_cpu"] and not bf16
        if spec.frozen_system_prompt or (fp32_cpu and _ram_gib() >= FP32_NO_CHECKPOINTING_GIB):
            # The user turn runs on the system turn's KV cache, which checkpointing would discard. And
            # on a CPU without native bf16 recomputing the forward costs more than it saves, where the
            # memory is there (docs/performance.md).
            args.update(no_checkpointing(SFTConfig, spec.trl))
        return apply_trl(SFTConfig, args, spec.trl)

    def trainer(self, spec: Any, config: Any, context: Context) -> Any:
        from datasets import Dataset

        from ..datasets import sft_rows
        from ..sft_loss import AnswerOnlySFTTrainer

        evaluation = Dataset.from_list(sft_rows(context.eval_records, spec.reasoning)) if context.eval_records else None
        trainer = AnswerOnlySFTTrainer(**context.shared(config), train_dataset=Dataset.from_list(sft_rows(context.train_records, spec.reasoning)), eval_dataset=evaluation)
        trainer.frozen_system_prompt = spec.frozen_system_prompt
        trainer.share_prompts = spec.share_prompts
        _warn_cut_rows(trainer.train_dataset, len(context.train_records), spec.max_length, context.echo)
        return trainer


def _warn_cut_rows(dataset: Any, rows: int, max_length: int, echo: Any) -> None:
    """Say how many rows lost (part of) their answer to ``max_length``: TRL cuts long rows from the
    end, where the answer is, and drops the ones left with nothing to learn, without a word."""
    dropped = rows - len(dataset)
    cut = sum(len(ids) >= max_length for ids in dataset["input_ids"])
    if dropped or cut:
        echo(f"warning: {dropped + cut} of {rows} training rows are longer than max_length={max_length} tokens "
             f"({dropped} dropped, {cut} cut short): their answers are not learned in full; raise max_length in the spec")
