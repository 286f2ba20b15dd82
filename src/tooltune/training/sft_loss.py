"""SFT with the output layer computed on answer tokens only — the same loss, several times faster on CPU.

A tool-calling row is ~550 prompt tokens and ~40 answer tokens, and the loss only looks at the
answer. TRL's stock loss runs a fused output layer over every position (its non-GPU path is slow),
so most of an SFT step is spent on logits nobody uses. Here the decoder runs as usual and the
49k-wide output layer runs on the positions that have labels. The loss is the same token-mean
negative log-likelihood (checked against TRL's in tests/training/test_sft_loss.py).

This is the one override of a TRL trainer in tooltune, and it steps aside (falls back to TRL's loss)
for anything it does not cover: multiple processes, padding-free/packed batches, non-NLL losses.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from trl import SFTTrainer

__all__ = ["AnswerOnlySFTTrainer"]


class AnswerOnlySFTTrainer(SFTTrainer):
    def compute_loss(self, model: Any, inputs: dict[str, Any], return_outputs: bool = False, num_items_in_batch: Any = None):
        if (
            return_outputs
            or self.args.loss_type != "nll"
            or self.accelerator.num_processes > 1  # DDP must see its own forward; keep TRL's path there
            or "labels" not in inputs
            or "position_ids" in inputs  # padding-free / packed batches
            or self.label_smoother is not None
            or self.compute_loss_func is not None
        ):
            return super().compute_loss(model, inputs, return_outputs=return_outputs, num_items_in_batch=num_items_in_batch)
        labels = inputs["labels"][:, 1:]
        keep = labels != -100
        # accelerate applies bf16 autocast by wrapping model.forward; we call the decoder and the
        # output layer directly, so enter the same autocast ourselves (else bf16=True runs in fp32).
        with self.accelerator.autocast():
            hidden = model.get_decoder()(input_ids=inputs["input_ids"], attention_mask=inputs.get("attention_mask"), use_cache=False).last_hidden_state
            logits = model.get_output_embeddings()(hidden[:, :-1][keep])
        count = keep.sum() if num_items_in_batch is None else num_items_in_batch
        loss = F.cross_entropy(logits.float(), labels[keep], reduction="sum") / torch.as_tensor(count, device=logits.device).clamp(min=1)
        if self.args.average_tokens_across_devices and num_items_in_batch is not None:
            loss = loss * self.accelerator.num_processes
        return loss
