"""RLAIF: GRPO where an AI judge scores what a rule cannot (is the question the right one, is the
refusal helpful, is the final answer faithful), usually mixed with a verifiable reward.

    technique: rlaif
    reward: {strict: 0.5, judge: 0.5}
    judge: {url: http://127.0.0.1:8001/v1, model: judge}

Why a technique of its own and not ``rlvr`` with one more reward: the judge is a network service
the run depends on (checked before the model loads, its cost logged), and runs, the registry and
the studio should say which kind of feedback trained a model. The optimizer is RLVR's, unchanged.
"""

from __future__ import annotations

from typing import Any

from .rlvr import RLVR

__all__ = ["RLAIF"]


class RLAIF(RLVR):
    name = "rlaif"
    summary = "GRPO with an AI judge's score (any OpenAI-compatible endpoint), mixed with verifiable rewards"
    reads = (*RLVR.reads, "judge")

    def check(self, spec: Any) -> None:
        from ...rewards.mixed import uses_judge
        from ..errors import SpecError

        super().check(spec)
        if spec.judge is None or not uses_judge(spec.reward):
            raise SpecError("rlaif: needs a judge: section and 'judge' in the reward, e.g. reward: {strict: 0.5, judge: 0.5} and judge: {url: http://127.0.0.1:8001/v1, model: judge}")

    def reward(self, spec: Any) -> Any:
        reward = super().reward(spec)
        reward.judge.check()  # a wrong URL or model fails before the first step, with what to fix
        return reward
