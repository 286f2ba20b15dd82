"""The error a job spec raises, the hint it gives for a misspelled name, and how a written value is
read as a field's type. No imports of our own, so the spec and the technique units can both use them."""

from __future__ import annotations

import difflib
import math
from typing import Any

__all__ = ["SpecError", "as_type", "name_hints"]


class SpecError(ValueError):
    """A job spec that cannot run; the message says which field and how to fix it."""


def name_hints(unknown: list[str], known: Any) -> str:
    """``'rolouts' (did you mean 'rollouts'?)`` for each unknown name: the error says how to fix it."""
    return ", ".join(f"{k!r} (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(k, known, 1)) else repr(k) for k in unknown)


def as_type(base: str, value: Any, wrong: Exception) -> Any:
    """``value`` as a ``base`` (float, int, bool or str) the way a person writes it, or ``wrong``:
    a spec's own fields and the ``trl:`` fields are read alike."""
    try:
        if base == "float":
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise wrong
            number = float(value)
            if math.isnan(number) or math.isinf(number):
                raise wrong
            return number
        if base == "int":
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise wrong
            number = float(value) if isinstance(value, str) else value
            if isinstance(number, float) and not number.is_integer():
                raise wrong
            return int(number)
        if base == "bool":
            if isinstance(value, str):
                return {"true": True, "false": False, "yes": True, "no": False}[value.lower()]
            if not isinstance(value, bool):
                raise wrong
        if base == "str" and not isinstance(value, str):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return str(value)
            raise wrong
    except (ValueError, KeyError, OverflowError) as exc:
        raise wrong from exc
    return value
