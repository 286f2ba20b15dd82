"""Rows -> trainer datasets: behavior balancing for RLVR prompts."""

from collections import Counter

import pytest

from tooltune.training import SpecError, load_spec
from tooltune.training.datasets import balance_behaviors


def test_balance_repeats_the_rarer_behaviors_up_to_the_most_common(weather_rows):
    execute, clarify, refuse = weather_rows
    rows = [execute] * 6 + [clarify] * 2 + [refuse]
    balanced = balance_behaviors(rows, seed=0)
    assert Counter(r.behavior for r in balanced) == {"execute": 6, "clarify": 6, "refuse": 6}
    assert balanced != sorted(balanced, key=lambda r: r.behavior)  # shuffled, not in blocks
    assert [r.behavior for r in balance_behaviors(rows, seed=0)] == [r.behavior for r in balanced]  # seeded


def test_balance_is_an_rlvr_setting(small_data):
    with pytest.raises(SpecError, match="balance_behaviors: applies to rlvr"):
        load_spec(None, {"train_data": str(small_data["train"]), "technique": "sft", "balance_behaviors": True})
    assert load_spec(None, {"train_data": str(small_data["train"]), "balance_behaviors": "true"}).balance_behaviors is True
