"""The error a job spec raises, and the hint it gives for a misspelled name. No imports of our own,
so the spec and the technique units can both raise it."""

from __future__ import annotations

import difflib
from typing import Any

__all__ = ["SpecError", "name_hints"]


class SpecError(ValueError):
    """A job spec that cannot run; the message says which field and how to fix it."""


def name_hints(unknown: list[str], known: Any) -> str:
    """``'rolouts' (did you mean 'rollouts'?)`` for each unknown name: the error says how to fix it."""
    return ", ".join(f"{k!r} (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(k, known, 1)) else repr(k) for k in unknown)
