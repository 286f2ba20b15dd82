"""What a technique is: the one interface ``train.py`` and ``spec.py`` talk to.

A technique owns which job-spec settings it reads, its checks, its TRL config, its dataset rows and
its trainer. ``train.py`` knows none of them by name. Adding one is a file here and an entry in
``TECHNIQUES`` (and its new settings, if any, as JobSpec fields). Modules here import torch and TRL
inside methods only, so a spec is checked without them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["Technique", "Context"]


@dataclass
class Context:
    """What a trainer is built from, besides the spec and the TRL config."""

    model: Any
    tokenizer: Any
    train_records: list
    eval_records: list | None  # rows for TRL's own eval loss (None: no TRL evaluation)
    tracker: Any  # the run's MlflowTracker (a transformers callback)
    peft_config: Any  # a LoRA config, or None for full fine-tuning
    echo: Callable[[str], None]

    def shared(self, config: Any) -> dict[str, Any]:
        """The keyword arguments every TRL trainer takes."""
        return dict(model=self.model, args=config, processing_class=self.tokenizer, peft_config=self.peft_config, callbacks=[self.tracker])


class Technique:
    name: str = ""
    summary: str = ""  # one line for help texts
    reads: tuple[str, ...] = ()  # technique-specific JobSpec fields it uses; a switch or mode only others read, if set, is an error
    uses_reward: bool = False  # the spec's reward is loaded (and checked) before training
    trl_evaluation: bool = True  # TRL's own eval loss on validation rows means something (not for GRPO)
    logs_loss: bool = True  # the training loss is worth a chart (GRPO's is ~0 by construction)

    def check(self, spec: Any) -> None:
        """Raise SpecError for settings this technique cannot run with (called by JobSpec)."""

    def describe(self, spec: Any) -> str:
        """How the run's first line names the technique."""
        return self.name

    def trl_config(self, spec: Any, common: dict[str, Any], bf16: bool) -> Any:
        raise NotImplementedError

    def trainer(self, spec: Any, config: Any, context: Context) -> Any:
        raise NotImplementedError
