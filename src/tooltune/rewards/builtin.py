"""Built-in rewards in the two signatures users already have: TRL's and verl's.

TRL:  ``reward(prompts, completions, **columns) -> list[float]`` where ``columns`` are the dataset
      columns (``reward_model``, ``tools``, ``behavior``, ``extra_info``, ...), one value per row.
verl: ``compute_score(data_source, solution_str, ground_truth, extra_info=None) -> float``.

Both read the same row fields and call the same scorer as evaluation (:mod:`.scoring`).
"""

from __future__ import annotations

from typing import Any

from ..data.records import Record, row_tools
from ..reading import quote_sources
from ..schema import Behavior
from .grounding import score_grounded
from .scoring import Score, score_reference, score_strict

__all__ = [
    "toolcall_reward",
    "strict_reward",
    "grounded_reward",
    "compute_score",
    "compute_score_reference",
    "score_record",
    "completion_text",
    "BUILTIN_REWARDS",
]


def completion_text(completion: Any) -> str:
    """The text of a completion in TRL's standard (str) or conversational ([{"content"}]) format."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        return str(completion.get("content") or "")
    if isinstance(completion, list) and completion:
        return "".join(completion_text(m) for m in completion if isinstance(m, dict) and m.get("role", "assistant") == "assistant")
    return ""


def score_record(record: Record, response: str, reward: str = "strict") -> Score:
    """Score one response to one dataset row with a built-in scorer (``strict`` or ``toolcall``)."""
    if reward in ("toolcall", "toolcall_reward"):
        return score_reference(response, record.ground_truth, record.behavior)
    if reward in ("grounded", "grounded_reward"):
        return score_grounded(response, record.ground_truth, record.tools, quote_sources(record.prompt), record.behavior, _missing(record.raw.get("extra_info")))
    return score_strict(response, record.ground_truth, record.tools, record.behavior, _missing(record.raw.get("extra_info")))


def toolcall_reward(prompts: list[Any], completions: list[Any], **columns: Any) -> list[float]:
    """The reference tiered reward (1.0 / 0.5 / 0.0; clarify/refuse rows: 0.0 if a tool is called, else 1.0)."""
    rows = _rows(prompts, completions, columns)
    return [score_reference(text, gt, behavior).value for text, gt, _, behavior, _ in rows]


def strict_reward(prompts: list[Any], completions: list[Any], **columns: Any) -> list[float]:
    """The default reward: schema-aware argument credit, and no credit for a wrong decision.

    Scale 0..1; see :mod:`tooltune.rewards.scoring` for how each behavior earns it.
    """
    rows = _rows(prompts, completions, columns)
    return [score_strict(text, gt, tools, behavior, missing).value for text, gt, tools, behavior, missing in rows]


def grounded_reward(prompts: list[Any], completions: list[Any], **columns: Any) -> list[float]:
    """The strict reward, except that a call carrying a value the conversation never states (after
    normalization: "4 pm" states "16:00"), or one its schema refuses, earns 0.

    See :mod:`tooltune.rewards.grounding`.
    """
    prompts = prompts if prompts is not None else [None] * len(completions)
    return [score_grounded(text, gt, tools, _texts(prompt), behavior, missing).value
            for prompt, (text, gt, tools, behavior, missing) in zip(prompts, _rows(prompts, completions, columns))]


def _texts(prompt: Any) -> list[str]:
    """The words a value may come from: a conversation's user and tool messages, or a plain prompt."""
    return quote_sources(prompt) if isinstance(prompt, list) else [prompt] if isinstance(prompt, str) else []


def compute_score(data_source: Any, solution_str: str, ground_truth: str, extra_info: dict[str, Any] | None = None) -> float:
    """verl entry point for the strict reward; ``extra_info`` may carry ``tools``, ``behavior``, ``missing``."""
    extra = extra_info if isinstance(extra_info, dict) else {}
    return score_strict(solution_str, ground_truth, row_tools(extra.get("tools"), None), _behavior(extra.get("behavior")), _missing(extra)).value


def compute_score_reference(data_source: Any, solution_str: str, ground_truth: str, extra_info: dict[str, Any] | None = None) -> float:
    """verl entry point for the reference tiered reward."""
    extra = extra_info if isinstance(extra_info, dict) else {}
    return score_reference(solution_str, ground_truth, _behavior(extra.get("behavior"))).value


BUILTIN_REWARDS = {"strict": strict_reward, "toolcall": toolcall_reward, "grounded": grounded_reward}


def _rows(prompts: list[Any], completions: list[Any], columns: dict[str, Any]):
    n = len(completions)
    reward_models = columns.get("reward_model") or [None] * n
    ground_truths = columns.get("ground_truth") or [None] * n
    tools_col = columns.get("tools") or [None] * n
    behaviors = columns.get("behavior") or [None] * n
    extras = columns.get("extra_info") or [None] * n
    prompts = prompts if prompts is not None else [None] * n
    for i in range(n):
        rm = reward_models[i]
        gt = rm.get("ground_truth") if isinstance(rm, dict) else ground_truths[i]
        if not isinstance(gt, str):
            raise ValueError(f"row {i}: no ground truth; the dataset needs a 'reward_model.ground_truth' (or 'ground_truth') column")
        yield completion_text(completions[i]), gt, row_tools(tools_col[i], prompts[i]), _behavior(behaviors[i]), _missing(extras[i])


def _behavior(label: Any) -> Behavior | None:
    return label if label in ("execute", "clarify", "refuse") else None


def _missing(extra: Any) -> list[str] | None:
    if not isinstance(extra, dict) or "missing" not in extra:
        return None
    missing = extra["missing"]
    return [missing] if isinstance(missing, str) else [m for m in missing if isinstance(m, str)]
