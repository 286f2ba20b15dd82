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
    # TRL's configs take any value and fail (or train wrong) later: a plain field gets its own type here.
    defaults = {f.name: f.default for f in dataclasses.fields(config_cls)}
    for name, value in extra.items():
        default = defaults[name]
        kind = next((k for k in (bool, int, float, str) if type(default) is k), None)  # noqa: E721 - bool is no int here
        fits = kind is None or (isinstance(value, (int, float)) and not isinstance(value, bool) if kind in (int, float) else isinstance(value, kind))
        if kind is int and isinstance(value, float) and not value.is_integer():
            fits = False
        if not fits:
            raise SpecError(f"trl.{name}: expected {kind.__name__} like its default {default!r}, got {value!r}")
    return config_cls(**{**args, **extra})


def no_checkpointing(config_cls: type, trl: dict[str, Any]) -> dict[str, bool]:
    """Checkpointing off, under the name this TRL/transformers version reads (gradient_ was renamed
    activation_), unless the spec's ``trl:`` sets it under either name: the new name would win."""
    if {"gradient_checkpointing", "activation_checkpointing"} & set(trl):
        return {}
    names = {f.name for f in dataclasses.fields(config_cls)}
    return {"activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing": False}
