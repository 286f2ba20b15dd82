"""The answer budgets fit the answers the recipe teaches: a right answer cut off is scored as unparseable."""

import pytest
import yaml
from transformers import AutoTokenizer

from tooltune.data.generate import GenerateConfig, generate
from tooltune.data.records import read_records
from tooltune.inference import ANSWER_TOKENS
from tooltune.training.datasets import target_text
from tooltune.training.spec import recipe_path


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    """The recipe's data settings, with every shape (two calls with their checks are the longest answers)."""
    paths = generate(GenerateConfig(n=600, eval_n=60, seed=0, pairs=1.0, rows_per_list=4, shapes=0.5), tmp_path_factory.mktemp("budget")).paths
    return [r for split in ("train", "eval") for r in read_records(paths[split])]


def test_every_taught_answer_fits_the_serving_budget_and_nearly_all_fit_rlvr(bundled_tiny, records):
    tokenizer = AutoTokenizer.from_pretrained(bundled_tiny[1])
    lengths = [len(tokenizer(target_text(r, reasoning=True), add_special_tokens=False)["input_ids"]) for r in records]
    assert max(lengths) <= ANSWER_TOKENS, f"longest taught answer: {max(lengths)} tokens"
    # RLVR's rollouts: the recipe's one-call rows (its data has no other shape) fit, all but a few.
    rlvr_budget = yaml.safe_load(recipe_path("rlvr").read_text())["max_completion_length"]
    single = [n for r, n in zip(records, lengths) if r.shape == "single"]
    assert sum(n > rlvr_budget for n in single) <= 0.01 * len(single), sorted(single)[-20:]
