"""Rows -> trainer datasets: behavior balancing for RLVR prompts, DPO pairs with the <think> check."""

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


def test_dpo_pairs_with_the_check_differ_in_the_check_not_in_having_one(small_data):
    import random

    from tooltune.data import read_records
    from tooltune.schema import parse_tool_calls
    from tooltune.training.datasets import dpo_rows, near_miss, target_text
    from tooltune.training.reasoning import reasoning_trace

    records = read_records(small_data["train"])
    rows = dpo_rows(records, seed=0, reasoning=True)
    for record, row in zip(records, rows):
        chosen, rejected = row["chosen"][0]["content"], row["rejected"][0]["content"]
        assert chosen == target_text(record, reasoning=True)
        if reasoning_trace(record):
            assert chosen.startswith("<think>") and rejected.startswith("<think>"), (record.behavior, rejected)
        assert chosen != rejected
    # A clarify row's near miss invents the missing value, in its check as in its call.
    clarify = next(r for r in records if r.behavior == "clarify" and reasoning_trace(r))
    rejected = near_miss(clarify, random.Random(0), reasoning=True)
    assert "missing" in reasoning_trace(clarify) and "missing" not in rejected.split("</think>")[0]
    assert parse_tool_calls(rejected.split("</think>", 1)[1])
    # Without reasoning, nothing changes: no check on either side.
    plain = dpo_rows(records, seed=0)
    assert not any(r["chosen"][0]["content"].startswith("<think>") or r["rejected"][0]["content"].startswith("<think>") for r in plain)


def test_reasoning_is_accepted_for_dpo_and_refused_for_rlvr(small_data):
    assert load_spec(None, {"train_data": str(small_data["train"]), "technique": "dpo", "reasoning": True, "rejections": "near_miss"}).reasoning is True
    with pytest.raises(SpecError, match="reasoning: applies to sft and dpo"):
        load_spec(None, {"train_data": str(small_data["train"]), "technique": "rlvr", "reasoning": True})
