"""Customization: one job spec, three techniques (rlvr, sft, dpo) over Hugging Face TRL.

``spec`` and ``runs`` are torch-free; ``train`` imports torch, transformers and TRL when called.
"""

from .spec import TECHNIQUES, JobSpec, SpecError, load_spec

__all__ = ["TECHNIQUES", "JobSpec", "SpecError", "load_spec"]
