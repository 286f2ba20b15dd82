"""DPO: prefer the ground truth over a rejected answer: the model's own worst-scored sample
(``rejections: sampled``) or a synthesized near miss; each pair's prompt runs once (dpo_logps.py)."""

from __future__ import annotations

import random
from typing import Any

from .base import Context, Technique
from .config import apply_trl, no_checkpointing

__all__ = ["DPO"]


class DPO(Technique):
    name = "dpo"
    summary = "preference pairs: the ground truth over the model's own worst answer or a near miss"
    reads = ("max_length", "max_completion_length", "temperature", "rejections", "rejection_samples", "reasoning")
    uses_reward = True  # it scores the sampled rejections

    def check(self, spec: Any) -> None:
        from ..errors import SpecError

        if spec.rejections not in ("sampled", "near_miss"):
            raise SpecError(f"rejections: must be 'sampled' or 'near_miss', got {spec.rejections!r}")
        if not isinstance(spec.rejection_samples, int) or spec.rejection_samples < 1:
            raise SpecError(f"rejection_samples: must be a positive integer, got {spec.rejection_samples!r}")
        if spec.trl.get("beta", 0.1) == 0:
            # trl.beta is GRPO's KL weight (0 is the usual choice) but DPO's temperature: at 0 DPO's loss is a constant
            raise SpecError("trl.beta: 0 makes DPO's loss constant (no gradient); DPO's beta is its temperature, 0.1 is TRL's default. Remove trl.beta or set it > 0 (an rlvr spec's beta: 0 does not carry over)")

    def trl_config(self, spec: Any, common: dict[str, Any], bf16: bool) -> Any:
        from trl import DPOConfig

        # Each pair's prompt runs once with a KV cache both answers extend (dpo_logps.py), which
        # checkpointing would discard; the shared prompt leaves fewer activations to keep anyway.
        return apply_trl(DPOConfig, {**common, "max_length": spec.max_length, **no_checkpointing(DPOConfig, spec.trl)}, spec.trl)

    def trainer(self, spec: Any, config: Any, context: Context) -> Any:
        from datasets import Dataset

        from ..datasets import dpo_rows
        from ..dpo_logps import SharedPromptDPOTrainer

        records, rejected = context.train_records, None
        if spec.rejections == "sampled":
            records = _rows_to_sample(records, spec)
            rejected = _sampled_rejections(spec, context, records)
        evaluation = Dataset.from_list(dpo_rows(context.eval_records, spec.seed, None, spec.reasoning)) if context.eval_records else None
        return SharedPromptDPOTrainer(**context.shared(config), train_dataset=Dataset.from_list(dpo_rows(records, spec.seed, rejected, spec.reasoning)), eval_dataset=evaluation)


def _rows_to_sample(records: list, spec: Any) -> list:
    """The rows a run with ``max_steps`` trains on: a seeded random subset, so rejections are
    sampled (a generation per row, ~1 s each on CPU) only for rows the run will use."""
    needed = spec.max_steps * spec.batch_size
    if spec.max_steps <= 0 or needed >= len(records):
        return records
    return random.Random(spec.seed).sample(records, needed)


def _sampled_rejections(spec: Any, context: Context, records: list) -> list[str | None]:
    """Sample the model's own answers and keep its worst-scored one per row as the rejection."""
    import torch

    from ...inference import Sampling, progress_bar
    from ...models.load import bf16_supported
    from ...rewards.mixed import build_reward
    from ..rejections import sampled_rejections

    model = context.model
    if torch.cuda.is_available() and model.device.type == "cpu":
        # Sample where the run trains: the Trainer moves the model only once it exists, after this.
        model.to("cuda")
    sampling = Sampling(max_new_tokens=spec.max_completion_length, temperature=spec.temperature, samples=spec.rejection_samples, batch_size=8, seed=spec.seed)
    with progress_bar(len(records), "sampling rejections") as advance:
        with torch.autocast(model.device.type, dtype=torch.bfloat16, enabled=bf16_supported()):
            rejected = sampled_rejections(model, context.tokenizer, records, build_reward(spec.reward, on_error="skip"), sampling, progress=advance)
    sampled = sum(r is not None for r in rejected)
    context.echo(f"dpo rejections: {sampled}/{len(records)} sampled from the model, {len(records) - sampled} near misses where every sample was right")
    return rejected
