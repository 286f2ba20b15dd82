"""GRPO with completion log-probs from a plain forward over the kept positions — faster on CPU.

TRL 1.16 scores completions through a fused, chunked log-prob head. On a GPU with Triton it projects
only the completion positions; elsewhere it projects *every* position (prompt included) through a
49k-wide output layer in autograd-heavy chunks. A tool-calling prompt is ~550 tokens and the
completion ~64, so on CPU most of each GRPO step went to logits nobody uses. Here the decoder runs
as usual and the output layer runs on the last ``logits_to_keep`` positions only, with the same
temperature scaling, log-softmax and entropy (checked against TRL in tests/training/test_grpo_logps.py).

It steps aside (TRL's path) wherever it would not help or would not be exact: CUDA devices (TRL's
Triton path is already compact and bounded in memory), several processes, multimodal inputs, MoE
aux losses, and models that scale or soft-cap their logits.
"""

from __future__ import annotations

from typing import Any

import torch
from trl import GRPOTrainer

from .dynamic_sampling import DynamicSampling

__all__ = ["KeptLogitsGRPOTrainer"]

_LOGIT_SCALING = ("final_logit_softcapping", "logit_scale", "output_multiplier", "lm_head_multiplier", "logits_scaling")


class KeptLogitsGRPOTrainer(DynamicSampling, GRPOTrainer):
    def _plain_forward_applies(self, input_ids: torch.Tensor, extra: dict[str, Any]) -> bool:
        config = self.model.config.get_text_config()
        return (
            input_ids.device.type == "cpu"
            and self.accelerator.num_processes == 1
            and not extra.get("compute_aux_loss")
            and all(v is None for k, v in extra.items() if k not in ("compute_aux_loss", "compute_entropy", "batch_size"))
            and all(getattr(config, name, None) is None for name in _LOGIT_SCALING)
        )

    def _get_per_token_logps_and_entropies(self, model, input_ids, attention_mask, logits_to_keep, batch_size=None, compute_entropy=False, **extra):
        if not self._plain_forward_applies(input_ids, {"compute_aux_loss": extra.get("compute_aux_loss"), **extra}):
            return super()._get_per_token_logps_and_entropies(model, input_ids, attention_mask, logits_to_keep, batch_size=batch_size, compute_entropy=compute_entropy, **extra)
        batch_size = batch_size or input_ids.size(0)
        decoder, head = model.get_decoder(), model.get_output_embeddings()
        all_logps, all_entropies = [], []
        for start in range(0, input_ids.size(0), batch_size):
            ids, mask = input_ids[start : start + batch_size], attention_mask[start : start + batch_size]
            # The decoder and head are called directly, so enter accelerate's bf16 autocast ourselves.
            with self.accelerator.autocast():
                hidden = decoder(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state
                # Position t predicts token t+1: the last K completion tokens come from positions -K-1 .. -2.
                logits = head(hidden[:, -logits_to_keep - 1 : -1])
            logps_all = torch.log_softmax(logits.float() / self.temperature, dim=-1)
            all_logps.append(logps_all.gather(-1, ids[:, -logits_to_keep:].unsqueeze(-1)).squeeze(-1))
            if compute_entropy:
                # Entropy needs a gradient only for TRL's entropy bonus (entropy_coef); else it is a metric.
                with torch.set_grad_enabled(torch.is_grad_enabled() and getattr(self, "_entropy_bonus_enabled", True)):
                    all_entropies.append(-(logps_all.exp() * logps_all).sum(-1))
        return torch.cat(all_logps), (torch.cat(all_entropies) if compute_entropy else None), None
