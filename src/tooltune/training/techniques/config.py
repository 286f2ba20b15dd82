"""TRL config helpers the techniques share."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

__all__ = ["apply_trl", "no_checkpointing"]


def apply_trl(config_cls: type, args: dict[str, Any], extra: dict[str, Any]) -> Any:
    """``config_cls(**args)`` with the spec's ``trl:`` fields on top; an unknown field is a SpecError."""
    from ..errors import SpecError, as_type, name_hints

    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    unknown = [k for k in extra if k not in fields]
    if unknown:
        raise SpecError(f"trl: {config_cls.__name__} has no field {name_hints(unknown, set(fields))}")
    # TRL's configs take any value and fail (or train wrong) later: a field of one plain type (its
    # annotation: save_steps is a float, a ratio, though its default is 500) gets that type here,
    # read as the spec's own fields are (YAML reads 1e-5 as a string).
    extra = dict(extra)
    for name, value in extra.items():
        annotation = str(fields[name].type)
        words = set(re.findall(r"[A-Za-z_]\w*", annotation)) - {"class", "typing", "Optional", "Union", "None"}
        # Numbers and switches only: a str field may take more than its annotation says (scale_rewards: false).
        kinds = words if words <= {"bool", "int", "float"} else set()
        kind = "float" if kinds == {"int", "float"} else next(iter(kinds)) if len(kinds) == 1 else None
        if kind is None or (value is None and ("Optional" in annotation or "None" in annotation)):
            continue
        extra[name] = as_type(kind, value, SpecError(f"trl.{name}: expected {kind} (its default is {fields[name].default!r}), got {value!r}"))
    return config_cls(**{**args, **extra})


def no_checkpointing(config_cls: type, trl: dict[str, Any]) -> dict[str, bool]:
    """Checkpointing off, under the name this TRL/transformers version reads (gradient_ was renamed
    activation_), unless the spec's ``trl:`` sets it under either name: the new name would win."""
    if {"gradient_checkpointing", "activation_checkpointing"} & set(trl):
        return {}
    names = {f.name for f in dataclasses.fields(config_cls)}
    return {"activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing": False}
