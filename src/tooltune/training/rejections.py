"""DPO rejections sampled from the model itself and scored by the reward.

On-policy rejections teach against the mistakes this model actually makes (inventing a missing
argument, calling where it should refuse) rather than mistakes we imagine. For each row we sample
``samples`` answers, score them and the ground truth with the run's reward, and keep the
lowest-scoring answer that scores below the ground truth. A row where every sample is as good as
the truth (the model already gets it right) falls back to a synthesized near miss.
"""

from __future__ import annotations

from typing import Any, Callable

from ..data.records import Record
from ..inference import Sampling, generate_answers
from ..rewards.batch import record_columns
from .datasets import target_text, training_messages

__all__ = ["sampled_rejections"]


def sampled_rejections(
    model: Any,
    tokenizer: Any,
    records: list[Record],
    reward: Callable[..., list[float | None]],
    sampling: Sampling,
    progress: Callable[[int, int], None] | None = None,
) -> list[str | None]:
    """One rejected answer per record, or None where no sample scored below the ground truth."""
    prompts = [training_messages(r) for r in records]
    answers = generate_answers(model, tokenizer, prompts, sampling, progress=progress)
    columns = record_columns(records)
    k = sampling.samples
    flat_columns = {name: [v for v in values for _ in range(k)] for name, values in columns.items()}
    flat_prompts = [p for p in prompts for _ in range(k)]
    scores = reward(flat_prompts, [[{"role": "assistant", "content": a}] for group in answers for a in group], **flat_columns)
    truth = reward(prompts, [[{"role": "assistant", "content": target_text(r)}] for r in records], **columns)
    out: list[str | None] = []
    for i, group in enumerate(answers):
        ceiling = truth[i] if truth[i] is not None else 1.0
        scored = [(s, a) for s, a in zip(scores[i * k : (i + 1) * k], group) if s is not None and s < ceiling and a.strip()]
        out.append(min(scored, key=lambda pair: pair[0])[1] if scored else None)
    return out
