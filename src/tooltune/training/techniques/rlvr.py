"""RLVR: GRPO with a verifiable reward. Each prompt's rollouts are scored, and the policy moves toward
the better ones; on the native engine (native_grpo.py) or TRL's GRPOTrainer."""

from __future__ import annotations

import os
from collections import defaultdict
from typing import Any

from .base import Context, Technique
from .config import apply_trl, no_checkpointing

__all__ = ["RLVR", "ENGINES", "native_blockers", "rlvr_engine", "BehaviorRewards", "PartMeans"]

ENGINES = ("auto", "native", "trl")


def native_blockers(trl: dict[str, Any], processes: int = 1) -> list[str]:
    """The settings under which the native GRPO engine cannot run (TRL's GRPOTrainer can)."""
    found = [f"{processes} processes"] if processes > 1 else []
    found += [f"trl.{key}" for key in ("use_vllm", "gradient_checkpointing", "activation_checkpointing", "cache_implementation", "use_transformers_continuous_batching", "use_transformers_paged") if trl.get(key)]
    return found


def rlvr_engine(spec: Any) -> str:
    """Which GRPO engine runs ``spec``: 'native' or 'trl' (see the spec's ``engine`` field)."""
    import torch

    from ..errors import SpecError

    if spec.technique not in ("rlvr", "rlaif") or spec.engine == "trl":
        return "trl"
    blockers = native_blockers(spec.trl, int(os.environ.get("WORLD_SIZE", "1")))
    if spec.engine == "native":
        if blockers:
            raise SpecError(f"engine: native does not run with {' or '.join(blockers)}; use engine: trl")
        return "native"
    # auto: native where it is measured (one CPU process); on a GPU TRL's path is the tested one.
    return "trl" if blockers or torch.cuda.is_available() else "native"


class BehaviorRewards:
    """Wraps a TRL reward to remember its values per behavior until the tracker logs them.

    TRL calls the same reward for training rollouts and for validation generations; the model's
    train/eval mode tells them apart, so validation rows land under ``eval/reward_{behavior}``.
    """

    def __init__(self, reward: Any):
        self.reward = reward
        self.__name__ = getattr(reward, "__name__", "reward")
        self.model: Any = None  # set by the caller once the trainer exists
        self.pending: dict[tuple[str, str], list[float]] = defaultdict(list)
        self.failures: dict[str, int] = defaultdict(int)  # rows whose reward failed, per split, since the last log
        self.parts = PartMeans()  # a mixed reward's parts (strict, judge), each its own curve

    def __call__(self, prompts: list[Any], completions: list[Any], **columns: Any) -> list[float | None]:
        before = getattr(self.reward, "failed", 0)
        values = self.reward(prompts, completions, **columns)
        split = "eval" if self.model is not None and not self.model.training else "train"
        self.failures[split] += getattr(self.reward, "failed", 0) - before
        self.parts.add(split, self.reward, columns.get("behavior"))
        for value, behavior in zip(values, columns.get("behavior") or []):
            if value is not None:
                self.pending[split, behavior].append(float(value))
        return values

    def flush(self) -> dict[str, float]:
        out = {f"{split}/reward_{b}": sum(v) / len(v) for (split, b), v in self.pending.items() if v}
        out.update({f"{split}/reward_failures": float(n) for split, n in self.failures.items()})
        out.update(self.parts.pop_means())
        judge = getattr(self.reward, "judge", None)
        if judge is not None:  # what the judge cost so far: requests, cache hits, failures, seconds
            out.update(judge.stats.metrics())
        self.pending.clear()
        self.failures.clear()
        return out


class PartMeans:
    """Each part of a mixed reward (:class:`tooltune.rewards.mixed.MixedReward`) averaged per split
    and behavior until the next log: ``train/reward.judge``, ``train/reward.judge_clarify``, ..."""

    def __init__(self) -> None:
        self.pending: dict[str, list[float]] = defaultdict(list)

    def add(self, split: str, reward: Any, behaviors: Any) -> None:
        for name, values in getattr(reward, "part_values", {}).items():
            for value, behavior in zip(values, behaviors or [None] * len(values)):
                if value is not None:
                    self.pending[f"{split}/reward.{name}"].append(value)
                    if behavior:
                        self.pending[f"{split}/reward.{name}_{behavior}"].append(value)

    def pop_means(self) -> dict[str, float]:
        out = {key: sum(v) / len(v) for key, v in self.pending.items() if v}
        self.pending.clear()
        return out


class RLVR(Technique):
    name = "rlvr"
    summary = "GRPO: sampled answers scored by a verifiable reward"
    reads = ("rollouts", "max_completion_length", "temperature", "balance_behaviors", "engine", "dynamic_sampling")
    uses_reward = True
    trl_evaluation = False  # TRL would sample every validation prompt `rollouts` times; the greedy validation reward covers it
    logs_loss = False  # GRPO's loss is ~0 by construction; the reward is the curve to watch

    def check(self, spec: Any) -> None:
        from ...rewards.mixed import uses_judge
        from ..errors import SpecError

        if self.name == "rlvr" and uses_judge(spec.reward):
            raise SpecError("reward: 'judge' is an AI judge's score, not a verifiable one: use technique: rlaif (the same GRPO, with the judge)")
        if spec.rollouts < 2:
            raise SpecError("rollouts: GRPO compares completions within a group; use at least 2 (8 is the reference)")
        if spec.micro_batch_size % spec.rollouts and spec.rollouts % spec.micro_batch_size:
            raise SpecError(f"micro_batch_size ({spec.micro_batch_size}) and rollouts ({spec.rollouts}) must divide one another")
        if spec.batch_size % spec.rollouts:
            fix = spec.batch_size - spec.batch_size % spec.rollouts or spec.rollouts
            raise SpecError(f"batch_size ({spec.batch_size}) must be a multiple of rollouts ({spec.rollouts}): every prompt brings {spec.rollouts} completions. Try batch_size={fix}.")
        if not isinstance(spec.dynamic_sampling, (int, float)) or isinstance(spec.dynamic_sampling, bool) or not 0 <= spec.dynamic_sampling <= 8:
            raise SpecError(f"dynamic_sampling: extra prompts per prompt, a number from 0 (off) to 8; got {spec.dynamic_sampling!r}")
        if spec.engine not in ENGINES:
            raise SpecError(f"engine: must be one of {', '.join(ENGINES)}, got {spec.engine!r}")
        if spec.engine == "native" and (blockers := native_blockers(spec.trl)):
            raise SpecError(f"engine: native does not run with {' or '.join(blockers)}; use engine: trl, or drop those trl settings")

    def describe(self, spec: Any) -> str:
        from ...rewards.mixed import describe_reward

        return f"{self.name} ({rlvr_engine(spec)} engine, reward {describe_reward(spec.reward)})"

    def reward(self, spec: Any) -> Any:
        """The training reward (a mixed one when the spec names several)."""
        from ...rewards.mixed import build_reward

        return build_reward(spec.reward, spec.judge, on_error="skip")

    def trl_config(self, spec: Any, common: dict[str, Any], bf16: bool) -> Any:
        from trl import GRPOConfig

        # batch_size counts completions per optimizer step; TRL samples one generation batch per step
        # (steps_per_generation = gradient_accumulation_steps), i.e. batch_size / rollouts prompts.
        args = {**common, "num_generations": spec.rollouts, "max_completion_length": spec.max_completion_length, "temperature": spec.temperature, "log_completions": False}
        if rlvr_engine(spec) == "native":
            # The native engine keeps each prompt's KV cache, which checkpointing discards; sharing the
            # prompt leaves ~4x fewer activations, so the memory checkpointing saved is mostly gone too.
            args.update(no_checkpointing(GRPOConfig, spec.trl))
        return apply_trl(GRPOConfig, args, spec.trl)

    def trainer(self, spec: Any, config: Any, context: Context) -> Any:
        from datasets import Dataset

        from ..datasets import balance_behaviors, rlvr_rows
        from ..grpo_logps import KeptLogitsGRPOTrainer
        from ..native_grpo import NativeGRPOTrainer
        from ..tracking import CutRollouts

        reward = BehaviorRewards(self.reward(spec))
        context.tracker.rewards = reward
        trainer_cls = NativeGRPOTrainer if rlvr_engine(spec) == "native" else KeptLogitsGRPOTrainer
        prompts = balance_behaviors(context.train_records, spec.seed) if spec.balance_behaviors else context.train_records
        evaluation = Dataset.from_list(rlvr_rows(context.eval_records)) if context.eval_records else None
        trainer = trainer_cls(**context.shared(config), reward_funcs=[reward], train_dataset=Dataset.from_list(rlvr_rows(prompts)), eval_dataset=evaluation)
        reward.model = trainer.model
        trainer.dynamic_sampling = float(spec.dynamic_sampling)
        trainer.add_callback(CutRollouts(spec.max_completion_length, context.echo))
        return trainer
