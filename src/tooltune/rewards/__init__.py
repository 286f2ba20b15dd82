"""Rewards: the reference tiered reward, the stricter default, and user rewards by name or path.

Every reward and every evaluation metric goes through :mod:`tooltune.rewards.scoring`.
"""

from .builtin import BUILTIN_REWARDS, completion_text, compute_score, compute_score_reference, grounded_reward, score_record, strict_reward, toolcall_reward
from .grounding import Grounding, grounding, score_grounded
from .loader import Reward, RewardError, load_reward, reward_names
from .scoring import Score, score_reference, score_strict

__all__ = [
    "BUILTIN_REWARDS",
    "Reward",
    "RewardError",
    "Score",
    "completion_text",
    "compute_score",
    "compute_score_reference",
    "grounded_reward",
    "grounding",
    "Grounding",
    "load_reward",
    "reward_names",
    "score_record",
    "score_grounded",
    "score_reference",
    "score_strict",
    "strict_reward",
    "toolcall_reward",
]
