"""TRL config helpers the techniques share."""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["apply_trl", "no_checkpointing"]


def apply_trl(config_cls: type, args: dict[str, Any], extra: dict[str, Any]) -> Any:
    """``config_cls(**args)`` with the spec's ``trl:`` fields on top; an unknown field is a SpecError."""
    from ..errors import SpecError, name_hints

    names = {f.name for f in dataclasses.fields(config_cls)}
    unknown = [k for k in extra if k not in names]
    if unknown:
        raise SpecError(f"trl: {config_cls.__name__} has no field {name_hints(unknown, names)}")
    return config_cls(**{**args, **extra})


def no_checkpointing(config_cls: type, trl: dict[str, Any]) -> dict[str, bool]:
    """Checkpointing off, under the name this TRL/transformers version reads (gradient_ was renamed
    activation_), unless the spec's ``trl:`` sets it under either name: the new name would win."""
    if {"gradient_checkpointing", "activation_checkpointing"} & set(trl):
        return {}
    names = {f.name for f in dataclasses.fields(config_cls)}
    return {"activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing": False}
