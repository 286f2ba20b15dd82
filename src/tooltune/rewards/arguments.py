"""Schema-aware comparison of one argument value with the expected one.

Returns 1.0 for a match after normalization (5 == 5.0, "Paris " == "paris"), 0.5 for a near miss
whose content is right but whose JSON type is not ("10, 20, 30" for [10, 20, 30], "5" for 5, a list
in another order), and 0.0 otherwise. The near-miss credit is what lets GRPO tell "almost" from
"wrong" without teaching the model that a string is as good as a list.
"""

from __future__ import annotations

import math
import re
from typing import Any

EXACT, NEAR, MISS = 1.0, 0.5, 0.0

_SPLIT_RE = re.compile(r"\s*[,;]\s*|\s+and\s+|\s+")


def compare_value(expected: Any, got: Any) -> float:
    """Credit for ``got`` where ``expected`` was due: 1.0 exact, 0.5 near miss, 0.0 wrong."""
    if _equal(expected, got):
        return EXACT
    if _near(expected, got):
        return NEAR
    if isinstance(expected, dict) and isinstance(got, dict):
        keys = set(expected) | set(got)
        # Nested objects earn the mean of their fields: one wrong field is not a wrong object.
        return sum(compare_value(expected.get(k), got.get(k)) if k in expected and k in got else MISS for k in keys) / len(keys)
    return MISS


def normalize_text(value: str) -> str:
    return " ".join(value.casefold().split())


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):  # bool is an int in Python; True must not equal 1
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) and _is_number(b):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, str) and isinstance(b, str):
        return normalize_text(a) == normalize_text(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return a is None and b is None


def _near(expected: Any, got: Any) -> bool:
    """Right content in the wrong JSON type or order."""
    if isinstance(expected, list):
        if isinstance(got, str):
            return _equal(expected, _coerce_list(got, expected))
        if isinstance(got, list) and len(got) == len(expected):
            return sorted(map(_sort_key, expected)) == sorted(map(_sort_key, got))
        return len(expected) == 1 and _equal(expected[0], got)
    if isinstance(got, str):
        return _equal(expected, _coerce_scalar(got))
    if isinstance(expected, str) and (_is_number(got) or isinstance(got, bool)):
        return _equal(_coerce_scalar(expected), got)
    return False


def _coerce_scalar(text: str) -> Any:
    stripped = text.strip()
    lowered = stripped.casefold()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        number = float(stripped.replace(",", ""))
    except ValueError:
        return stripped
    return int(number) if number.is_integer() and "." not in stripped else number


def _coerce_list(text: str, like: list[Any]) -> list[Any]:
    body = text.strip().strip("[]()")
    parts = [p for p in _SPLIT_RE.split(body) if p] if not all(isinstance(x, str) for x in like) else [p.strip() for p in re.split(r"\s*[,;]\s*", body) if p.strip()]
    return [_coerce_scalar(p.strip("'\"")) for p in parts]


def _sort_key(value: Any) -> str:
    if _is_number(value):
        return f"n:{float(value)!r}"
    if isinstance(value, str):
        return "s:" + normalize_text(value)
    return "o:" + repr(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
