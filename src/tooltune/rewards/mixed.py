"""A run's reward from its spec: one reward, or several mixed with weights.

    reward: strict                        # one reward
    reward: [strict, judge]               # several, equal weights
    reward: {strict: 0.7, judge: 0.3}     # several, weighted

A part is a built-in (``strict``, ``toolcall``), ``file.py:function``, ``module:function``, or
``judge``: the AI judge of the job's ``judge:`` section (:mod:`.judge`). A row's reward is the
weighted mean of the parts that scored it: a part that gives None (the judge on an execute row, a
failed judge call) leaves the mean of the others, so a row is not pushed below its GRPO group for
something that was not measured. Each part's mean is kept apart so the run logs it on its own: the
verifiable part keeps the call exact, the judge shapes the words, and both curves are visible.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Literal

from .loader import Reward, RewardError, expand_columns, load_reward

__all__ = ["MixedReward", "build_reward", "check_reward_spec", "reward_parts", "describe_reward", "uses_judge", "JUDGE"]

JUDGE = "judge"


def reward_parts(value: Any) -> list[tuple[str, float]]:
    """``reward:`` as (name, weight) pairs, weights summing to 1; RewardError says what to write."""
    if isinstance(value, str):
        pairs = [(value, 1.0)]
    elif isinstance(value, (list, tuple)):
        pairs = [(name, 1.0) for name in value]
    elif isinstance(value, dict):
        pairs = list(value.items())
    else:
        raise RewardError(f"reward: a name, a list of names or a mapping name: weight, got {value!r}; e.g. reward: {{strict: 0.7, judge: 0.3}}")
    if not pairs:
        raise RewardError("reward: name at least one reward, e.g. reward: strict")
    names = [name for name, _ in pairs]
    if any(not isinstance(n, str) or not n.strip() for n in names):
        raise RewardError(f"reward: every part is a reward name (strict, toolcall, judge, file.py:function), got {names!r}")
    if len(set(names)) != len(names):
        raise RewardError(f"reward: {names!r} names a reward twice; give it one weight instead")
    for name, weight in pairs:
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0:
            raise RewardError(f"reward: the weight of {name!r} must be a number > 0, got {weight!r}")
    total = float(sum(w for _, w in pairs))
    return [(name.strip(), float(weight) / total) for name, weight in pairs]


def describe_reward(value: Any) -> str:
    """How logs name a reward spec: ``strict``, or ``0.70 strict + 0.30 judge``."""
    parts = reward_parts(value)
    return parts[0][0] if len(parts) == 1 else " + ".join(f"{w:.2f} {n}" for n, w in parts)


def uses_judge(value: Any) -> bool:
    return any(name == JUDGE for name, _ in reward_parts(value))


class MixedReward:
    """Several rewards as one, in TRL's signature; ``part_values`` holds each part's scores of the
    last call and ``flush()`` their means per split since the last log."""

    def __init__(self, parts: list[tuple[str, Any, float]], judge: Any = None):
        self.parts = parts
        self.judge = judge
        self.name = " + ".join(f"{w:.2f} {n}" for n, _, w in parts)
        self.__name__ = "reward"
        self.part_values: dict[str, list[float | None]] = {}

    @property
    def errors(self) -> list[str]:
        out = [e for _, fn, _ in self.parts for e in getattr(fn, "errors", [])]
        return out + (self.judge.stats.errors if self.judge is not None else [])

    @property
    def failed(self) -> int:
        return sum(getattr(fn, "failed", 0) for _, fn, _ in self.parts) + (self.judge.stats.failures if self.judge is not None else 0)

    def __call__(self, prompts: list[Any], completions: list[Any], **columns: Any) -> list[float | None]:
        columns = expand_columns(columns)
        self.part_values = {name: list(fn(prompts, completions, **columns)) for name, fn, _ in self.parts}
        out: list[float | None] = []
        for i in range(len(completions)):
            scored = [(self.part_values[name][i], weight) for name, _, weight in self.parts if self.part_values[name][i] is not None]
            total = sum(w for _, w in scored)
            out.append(sum(v * w for v, w in scored) / total if scored else None)
        return out

    def part_means(self, behaviors: list[Any] | None = None) -> dict[str, float]:
        """``{part: mean}`` and ``{part_behavior: mean}`` over the last call's rows that part scored."""
        groups: dict[str, list[float]] = defaultdict(list)
        for name, values in self.part_values.items():
            for i, value in enumerate(values):
                if value is None:
                    continue
                groups[name].append(value)
                if behaviors and i < len(behaviors) and behaviors[i]:
                    groups[f"{name}_{behaviors[i]}"].append(value)
        return {key: sum(v) / len(v) for key, v in groups.items()}


def build_reward(value: Any, judge: Any = None, on_error: Literal["raise", "skip"] = "raise") -> Reward | MixedReward:
    """The callable a run trains and validates with: a :class:`Reward` for one plain reward, else a
    :class:`MixedReward`. ``judge`` is the spec's ``judge:`` mapping (or a JudgeConfig)."""
    parts = reward_parts(value)
    wants_judge = any(name == JUDGE for name, _ in parts)
    if wants_judge and judge is None:
        raise RewardError("reward: 'judge' needs a judge: section with the endpoint, e.g. judge: {url: http://127.0.0.1:8001/v1, model: judge}")
    if judge is not None and not wants_judge:
        raise RewardError("judge: is set but the reward does not use it; write reward: [strict, judge] (or reward: judge)")
    if len(parts) == 1 and not wants_judge:
        return load_reward(parts[0][0], on_error=on_error)
    grader = None
    loaded: list[tuple[str, Any, float]] = []
    for name, weight in parts:
        if name == JUDGE:
            from .judge import Judge, JudgeConfig

            grader = Judge(judge if isinstance(judge, JudgeConfig) else JudgeConfig.from_spec(judge))
            loaded.append((name, grader, weight))
        else:
            loaded.append((name, load_reward(name, on_error=on_error), weight))
    return MixedReward(loaded, judge=grader)


def check_reward_spec(value: Any, judge: Any = None) -> None:
    """The torch-free, network-free check a spec gets: names, weights, the judge section (not its endpoint)."""
    parts = reward_parts(value)
    wants_judge = any(name == JUDGE for name, _ in parts)
    if wants_judge and judge is None:
        raise RewardError("reward: 'judge' needs a judge: section with the endpoint, e.g. judge: {url: http://127.0.0.1:8001/v1, model: judge}")
    if judge is not None:
        if not wants_judge:
            raise RewardError("judge: is set but the reward does not use it; write reward: [strict, judge] (or reward: judge)")
        from .judge import JudgeConfig

        JudgeConfig.from_spec(judge)
