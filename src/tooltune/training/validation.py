"""Validation reward: the same held-out rows answered greedily every ``eval_steps``, scored by the run's reward.

A GRPO step's train reward averages the few prompts that step drew, so its curve follows the
prompts' difficulty as much as the model: two engines given the same prompts in the same order
print the same curve (README, the native engine). Fixed rows, greedy answers and the run's own
reward give the curve that shows what a run has learnt, and the same one for SFT, DPO and RLVR,
so a warm start and the RLVR run after it read as one line.
"""

from __future__ import annotations

import random
import time
from typing import Any, Callable

from transformers import TrainerCallback

from ..data.records import Record
from ..inference import Sampling, generate_answers
from ..rewards.batch import score_rows
from .datasets import training_messages

__all__ = ["ValidationReward", "pick_rows"]


def pick_rows(records: list[Record], n: int | None, seed: int) -> list[Record]:
    """``n`` rows of ``records`` (all when ``n`` is None or larger): a seeded sample in file order,
    so every check of a run, and every run with the same seed, answers the same rows."""
    if n is None or n >= len(records):
        return records
    chosen = set(random.Random(seed).sample(range(len(records)), n))
    return [r for i, r in enumerate(records) if i in chosen]


class ValidationReward(TrainerCallback):
    """Scores ``records`` at the start of a run (step 0), every ``every`` steps and at the last step.

    Each check appends ``{"step", "validation/reward", "validation/reward_<behavior>"}`` to the
    trainer's log history (so run.json carries the curve and a resumed run keeps it) and hands the
    same metrics to ``log(metrics, step)`` (MLflow).
    """

    def __init__(self, records: list[Record], reward: Any, every: int, max_new_tokens: int, bf16: bool, tokenizer: Any,
                 log: Callable[[dict[str, float], int], None], echo: Callable[[str], None] = print):
        self.records = records
        self.reward = reward
        self.every = every
        self.bf16 = bf16
        self.tokenizer = tokenizer
        self.log = log
        self.echo = echo
        # Greedy and seeded: the rows' answers change only when the weights do.
        self.sampling = Sampling(max_new_tokens=max_new_tokens, temperature=0.0, batch_size=16, seed=0)

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        if state.global_step == 0:  # a resumed run's earlier checks are already in its history
            self._check(state, model)

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step % self.every == 0 or state.global_step == state.max_steps:
            self._check(state, model)

    def _check(self, state: Any, model: Any) -> None:
        if not state.is_world_process_zero:
            return
        import torch

        started = time.perf_counter()
        with torch.autocast(model.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            answers = [group[0] for group in generate_answers(model, self.tokenizer, [training_messages(r) for r in self.records], self.sampling)]
        summary = score_rows(self.reward, self.records, answers)
        means = summary.means()
        metrics = {("validation/reward" if key == "all" else f"validation/reward_{key}"): value for key, (_, value) in means.items() if value is not None}
        # A mixed reward's parts on their own (validation/reward.judge_clarify, ...): the judge's
        # score and the rule's, before and after, on the same rows.
        metrics.update({f"validation/reward.{key}": value for key, value in summary.part_means().items()})
        # Kept so a run's training time can be told apart from the time its checks took.
        metrics["validation/seconds"] = round(time.perf_counter() - started, 1)
        state.log_history.append({"step": state.global_step, **metrics})
        self.log(metrics, state.global_step)
        behaviors = ", ".join(f"{k} {v:.3f}" for k, (_, v) in means.items() if k != "all" and v is not None)
        overall = metrics.get("validation/reward")
        self.echo(f"step {state.global_step}: validation reward {'n/a' if overall is None else f'{overall:.3f}'} ({behaviors}; "
                  f"{len(self.records)} rows, greedy, {metrics['validation/seconds']:.0f}s)")
