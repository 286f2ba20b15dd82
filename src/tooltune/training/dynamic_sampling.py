"""Dynamic sampling (as in DAPO): every GRPO step trains on groups whose rewards disagree.

A group whose rollouts all earn the same reward has advantage 0 on every row: it costs its
generation and teaches nothing (four groups in ten, at the recipe's warm start). With
``dynamic_sampling: r`` each step also samples ``ceil(r x prompts)`` extra prompts from the training
rows, all rollouts from the current policy, and each of the step's own groups whose rewards tie
is replaced by an extra group of the same behavior (execute, clarify, refuse) whose rewards differ,
where one was drawn; a tied group with no such stand-in stays (and skips the backward on the
native engine). Same behavior, because which groups tie is not random: a clarify row the model
already asks on ties at 1.0, so filling its slot with any informative group would tilt every step
toward execute rows, and the model toward calling (docs/ablations.md, RLVR with dynamic
sampling). The step's size, the loss and its
normalization are unchanged; it costs the extras' generation and scoring, logged as
``dynamic/seconds`` beside ``dynamic/informative`` (share of trained groups that carry gradient)
and ``dynamic/generated_informative`` (share of all generated groups that did).

Drawing extras in the same generation batch (rather than regenerating until a batch is full, as
DAPO does) keeps one batched generation per step: on a CPU a second round would cost a second
prefill of every prompt and a second decoding loop.
"""

from __future__ import annotations

import math
import random
import time
from typing import Any

__all__ = ["DynamicSampling", "choose_groups"]


def choose_groups(informative: list[bool], wanted: int, behaviors: list[str | None] | None = None) -> list[int]:
    """The groups to train on, by index: the first ``wanted`` are the step's own, the rest extras.
    An own group that ties is swapped for the first unused informative extra of its behavior (any
    extra when behaviors are unknown)."""
    behaviors = behaviors or [None] * len(informative)
    spare = [g for g in range(wanted, len(informative)) if informative[g]]
    chosen = []
    for g in range(wanted):
        if not informative[g]:
            stand_in = next((e for e in spare if behaviors[e] == behaviors[g]), None)
            if stand_in is not None:
                spare.remove(stand_in)
                g = stand_in
        chosen.append(g)
    return chosen


class DynamicSampling:
    """A GRPOTrainer mixin; ``dynamic_sampling`` (extra prompts per prompt) is set by the RLVR unit."""

    dynamic_sampling: float = 0.0

    def _generate_and_score_completions(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        if self.dynamic_sampling <= 0 or not self.model.training:
            return super()._generate_and_score_completions(inputs)  # type: ignore[misc]
        import torch

        size = self.num_generations
        groups = len(inputs) // size
        generated = list(inputs) + [row for row in self._draw_prompts(math.ceil(groups * self.dynamic_sampling)) for _ in range(size)]
        started = time.perf_counter()
        out = super()._generate_and_score_completions(generated)  # type: ignore[misc]
        advantages = out["advantages"]
        per_row = advantages if advantages.dim() == 1 else advantages.abs().sum(-1)
        informative = (per_row.view(-1, size) != 0).any(-1).tolist()
        behaviors = [row.get("behavior") for row in generated[::size]]
        chosen = choose_groups(informative, groups, behaviors)
        rows = torch.tensor([g * size + i for g in chosen for i in range(size)], device=advantages.device)
        kept = {key: value.index_select(0, rows.to(value.device)) if isinstance(value, torch.Tensor) and value.dim() > 0 and value.size(0) == len(generated) else value for key, value in out.items()}
        mask = kept["completion_mask"] if "tool_mask" not in kept else kept["completion_mask"] * kept["tool_mask"]
        kept["num_items_in_batch"] = mask.sum().to(out["num_items_in_batch"].dtype)
        metrics = self._metrics["train"]  # type: ignore[attr-defined]
        metrics["dynamic/informative"].append(sum(informative[g] for g in chosen) / groups)
        metrics["dynamic/generated_informative"].append(sum(informative) / len(informative))
        metrics["dynamic/seconds"].append(time.perf_counter() - started)
        return kept

    def _draw_prompts(self, count: int) -> list[dict[str, Any]]:
        """``count`` training rows, drawn without replacement from a seeded shuffle of the whole set
        (reshuffled when it runs out), independent of the step's own sampler."""
        dataset = self.train_dataset  # type: ignore[attr-defined]
        if not hasattr(self, "_extra_order"):
            self._extra_rng = random.Random(self.args.seed)  # type: ignore[attr-defined]
            self._extra_order: list[int] = []
        out = []
        for _ in range(count):
            if not self._extra_order:
                self._extra_order = list(range(len(dataset)))
                self._extra_rng.shuffle(self._extra_order)
            out.append(dict(dataset[self._extra_order.pop()]))
        return out
