"""DPO with each pair's prompt run once and the output layer on answer tokens only — faster on CPU.

TRL 1.16's DPOTrainer scores a batch ``[chosen rows; rejected rows]`` through a fused, chunked
log-prob head. On a GPU with Triton it projects only the answer positions; elsewhere it projects
*every* position (prompt included) through the 49k-wide output layer. A tool-calling prompt is
~350 tokens and each answer ~60, so on CPU most of a DPO step went to logits nobody reads. And a
pair's two rows share their prompt token for token, yet the decoder ran it twice. On
SmolLM2-135M, 2 cores, 8 pairs: 95 s/step with TRL's head and checkpointing, 27 s here
(bench/train_step.py --technique dpo).

Here a pair's prompt runs once with a KV cache that both answers extend (gradients through the
shared prompt accumulate exactly as if each row had run it: the cache is indexed, not copied
out of the graph), and the output layer runs on answer tokens only. The result has the shape
and fields of TRL's ``FusedCausalLMOutput``, so TRL's loss code is untouched (checked against
TRL's head in tests/training/test_dpo_logps.py).

It steps aside (TRL's path) where it would not help or not be exact: CUDA devices (TRL's Triton
path is already compact), padding-free batches, MoE aux losses, models that scale or soft-cap
their logits, batches not laid out as prompt-then-answer pairs, and a checkpointed policy
(checkpointing discards the cache the answers extend).
"""

from __future__ import annotations

import contextlib
import types
from typing import Any, Callable

import torch
from trl import DPOTrainer
from trl.trainer.utils import FusedCausalLMOutput

from .grpo_logps import _LOGIT_SCALING
from .shared_prompt import shared_prompt_hidden

__all__ = ["SharedPromptDPOTrainer", "shared_prompt_head"]


class SharedPromptDPOTrainer(DPOTrainer):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # TRL patched these forwards with its fused head in __init__; ours wraps theirs and falls
        # back to it wherever the shared-prompt path does not apply.
        policy = self.model.get_base_model() if hasattr(self.model, "get_base_model") else self.model
        for model in (policy, self.ref_model):
            if model is not None:
                shared_prompt_head(model, self.accelerator.autocast)


def shared_prompt_head(model: Any, autocast: Callable[[], Any] = contextlib.nullcontext) -> None:
    """Patch ``model.forward`` (already given TRL's fused head) with the shared-prompt path."""
    fused_forward = model.forward
    scaled = any(getattr(model.config.get_text_config(), name, None) is not None for name in _LOGIT_SCALING)

    def forward(self: Any, *args: Any, fused_lm_head: bool = False, labels: Any = None, **kwargs: Any) -> Any:
        ids, mask = kwargs.get("input_ids"), kwargs.get("attention_mask")
        applies = (
            fused_lm_head
            and not args
            and not scaled
            and ids is not None
            and mask is not None
            and labels is not None
            and ids.device.type == "cpu"
            and set(kwargs) <= {"input_ids", "attention_mask", "use_cache"}
            # checkpointing drops the KV cache the answers extend (trl.gradient_checkpointing=true)
            and not (self.training and any(getattr(m, "gradient_checkpointing", False) for m in self.get_decoder().modules()))
        )
        pairs = _pairs(ids, mask, labels) if applies else None
        if pairs is None:
            return fused_forward(*args, fused_lm_head=fused_lm_head, labels=labels, **kwargs)
        with autocast():
            return _shared_prompt_logps(self, ids, labels, pairs)

    model.forward = types.MethodType(forward, model)


def _pairs(ids: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor) -> list[tuple[list[int], list[list[int]]]] | None:
    """``[(prompt, [chosen answer, rejected answer])]`` for a ``[chosen; rejected]`` batch, or None
    where its rows are not laid out as prompt-then-answer with both rows of a pair on one prompt."""
    rows = ids.size(0)
    if rows % 2:
        return None
    out = []
    for i in range(rows // 2):
        parts = []
        for row in (i, i + rows // 2):
            real = mask[row].bool()
            answer = (labels[row] != -100) & real
            length = int(real.sum())
            if not bool(real[:length].all()) or not bool(answer.any()) or int(answer.sum()) != int((labels[row] != -100).sum()):
                return None  # not flushed left, no answer token, or a label outside the row
            start = int(answer.nonzero()[0])
            if start == 0 or not bool(answer[start:length].all()):
                return None  # the answer must follow a prompt and run to the row's end
            parts.append((ids[row, :start].tolist(), ids[row, start:length].tolist()))
        (prompt, chosen), (other, rejected) = parts
        if prompt != other:
            return None
        out.append((prompt, [chosen, rejected]))
    return out


def _shared_prompt_logps(model: Any, ids: torch.Tensor, labels: torch.Tensor, pairs: list[tuple[list[int], list[list[int]]]]) -> FusedCausalLMOutput:
    head = model.get_output_embeddings()
    device, rows = ids.device, ids.size(0)
    per_row: dict[int, dict[str, torch.Tensor]] = {}
    for i, (prompt, answers) in enumerate(pairs):
        longest = max(len(a) for a in answers)
        # The prompt's last token predicts the first answer token; answer token t predicts t+1.
        suffix = torch.tensor([[prompt[-1]] + a + [a[-1]] * (longest - len(a)) for a in answers], device=device)
        hidden = shared_prompt_hidden(model, torch.tensor(prompt, device=device), suffix)
        for side, answer in enumerate(answers):
            logits = head(hidden[side, : len(answer)]).float()
            logps = torch.log_softmax(logits, dim=-1)
            target = torch.tensor(answer, device=device)
            fields = {"log_probs": logps.gather(-1, target[:, None]).squeeze(-1)}
            with torch.no_grad():  # metrics only, as in TRL's head
                fields["entropy"] = -(logps.exp() * logps).sum(-1)
                fields["log_sum_sq_probs"] = torch.logsumexp(2 * logps, dim=-1)
                fields["mean_logits"] = logits.mean(-1)
                fields["is_top1"] = logits.argmax(-1) == target
            per_row[i + side * (rows // 2)] = fields
    # Scatter into TRL's layout: (rows, seq - 1), zero where the next token is not an answer token.
    keep = labels[:, 1:] != -100
    out = {}
    for name in per_row[0]:
        values = torch.cat([per_row[r][name] for r in range(rows)])
        out[name] = values.new_zeros(keep.shape).masked_scatter(keep, values)
    loss = -out["log_probs"].sum() / keep.sum().clamp(min=1)
    return FusedCausalLMOutput(loss=loss, label_mask=keep, **out)
