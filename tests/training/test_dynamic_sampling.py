"""Dynamic sampling: a step keeps its size and trains on groups whose rewards disagree."""

import zlib

from datasets import Dataset
from trl import GRPOConfig

from tooltune.data import read_records
from tooltune.models.load import load_model_and_tokenizer
from tooltune.rewards.builtin import completion_text
from tooltune.training.datasets import rlvr_rows
from tooltune.training.dynamic_sampling import choose_groups
from tooltune.training.native_grpo import NativeGRPOTrainer

ROLLOUTS = 4


def _tied_or_varied(prompts, completions, tied, **_):
    """1.0 for every rollout of a `tied` row (no gradient); a value per completion text otherwise."""
    return [1.0 if t else (zlib.crc32(completion_text(c).encode()) % 1000) / 1000 for c, t in zip(completions, tied)]


def _trainer(tiny_model, small_data, tmp_path, dynamic_sampling):
    model, tokenizer = load_model_and_tokenizer(tiny_model)
    args = GRPOConfig(output_dir=str(tmp_path), per_device_train_batch_size=2 * ROLLOUTS, num_generations=ROLLOUTS, max_completion_length=8,
                      report_to=[], use_cpu=True, bf16=False, gradient_checkpointing=False, beta=0.0, temperature=1.5)
    rows = rlvr_rows(read_records(small_data["train"])[:8])
    for i, row in enumerate(rows):
        row["tied"] = i < 2  # rows 0 and 1 tie; any four extras hold at least two varied rows
        row["behavior"] = "execute"  # a tied group's stand-in must share its behavior
    trainer = NativeGRPOTrainer(model=model, args=args, processing_class=tokenizer, reward_funcs=[_tied_or_varied], train_dataset=Dataset.from_list(rows))
    trainer.dynamic_sampling = dynamic_sampling
    model.train()
    return trainer, rows


def test_tied_groups_are_replaced_by_informative_extras(tiny_model, small_data, tmp_path):
    trainer, rows = _trainer(tiny_model, small_data, tmp_path, dynamic_sampling=2.0)
    step = [dict(rows[i]) for i in (0, 1) for _ in range(ROLLOUTS)]  # both of the step's groups tie
    out = trainer._generate_and_score_completions(step)
    assert out["completion_ids"].size(0) == out["advantages"].size(0) == out["prompt_ids"].size(0) == 2 * ROLLOUTS
    assert all(bool((group != 0).any()) for group in out["advantages"].view(-1, ROLLOUTS))
    mask = out["completion_mask"]
    assert int(out["num_items_in_batch"]) == int(mask.sum())
    metrics = trainer._metrics["train"]
    assert metrics["dynamic/informative"] == [1.0]
    assert 2 / 6 <= metrics["dynamic/generated_informative"][0] <= 4 / 6  # 2 tied of the step, 2-4 varied among 4 extras
    assert metrics["dynamic/seconds"][0] > 0


def test_off_and_in_evaluation_nothing_extra_is_generated(tiny_model, small_data, tmp_path):
    trainer, rows = _trainer(tiny_model, small_data, tmp_path, dynamic_sampling=0.0)
    step = [dict(rows[i]) for i in (0, 1) for _ in range(ROLLOUTS)]
    out = trainer._generate_and_score_completions(step)
    assert out["completion_ids"].size(0) == 2 * ROLLOUTS and "dynamic/informative" not in trainer._metrics["train"]
    assert not out["advantages"].any()  # both groups tie, and nothing replaced them


def test_a_tied_group_is_swapped_only_for_an_informative_extra_of_its_behavior():
    assert choose_groups([False, True, True, False, True], 2) == [2, 1]  # unknown behaviors: any informative extra
    assert choose_groups([False, False, True, False], 2) == [2, 1]  # one stand-in; the other tied group stays
    assert choose_groups([True, True], 2) == [0, 1]
    behaviors = ["clarify", "execute", "execute", "execute", "clarify"]
    assert choose_groups([False, True, True, False, True], 2, behaviors) == [4, 1]  # the clarify slot stays clarify
    assert choose_groups([False, True, True, False], 2, behaviors[:4]) == [0, 1]  # no informative clarify extra: it stays tied
