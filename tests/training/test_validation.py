"""The validation reward: fixed rows answered greedily at step 0, every eval_steps and at the end."""

import pytest
from transformers import AutoModelForCausalLM, AutoTokenizer

from tooltune.data import read_records
from tooltune.inference import generate_answers
from tooltune.training import SpecError, load_spec
from tooltune.training.datasets import answer_budget, training_messages
from tooltune.runs import read_manifest
from tooltune.training.train import train
from tooltune.training.validation import pick_rows


def test_pick_rows_is_a_seeded_sample_in_file_order(small_data):
    rows = read_records(small_data["train"])
    picked = pick_rows(rows, 5, seed=3)
    assert len(picked) == 5 and picked == pick_rows(rows, 5, seed=3) and picked != pick_rows(rows, 5, seed=4)
    assert [r.line for r in picked] == sorted(r.line for r in picked)
    assert pick_rows(rows, None, 0) == rows and pick_rows(rows, 10_000, 0) == rows


def test_sft_run_logs_the_validation_curve_of_the_model_it_trains(tiny_model, small_data, tmp_path, monkeypatch):
    import tooltune.training.validation as validation

    # A random tiny model answers nothing greedily, so the answers are stand-ins whose score is
    # known (a reward that reads their length); what is checked is which model answered which rows.
    seen = []

    def answer(model, tokenizer, conversations, sampling):
        real = generate_answers(model, tokenizer, conversations, sampling)  # the real call, for its cost and errors
        seen.append((conversations, model.model.embed_tokens.weight.detach().clone(), sampling))
        return [["a" * 10 * len(seen)] for _ in real]

    monkeypatch.setattr(validation, "generate_answers", answer)
    (tmp_path / "length.py").write_text("def length(prompts, completions, **columns):\n    return [len(c) / 100 for c in completions]\n")
    said = []
    spec = load_spec(None, {"base": tiny_model, "technique": "sft", "train_data": str(small_data["train"]), "validation_data": str(small_data["eval"]),
                            "reward": f"{tmp_path / 'length.py'}:length", "validation_rows": 3, "eval_steps": 2, "max_steps": 3, "batch_size": 4,
                            "micro_batch_size": 4, "max_length": 320, "max_completion_length": 8, "learning_rate": 1e-3, "dtype": "float32",
                            "save_steps": 10, "name": "val"})
    run = train(spec, echo=said.append)
    history = read_manifest(run)["history"]
    checks = [h for h in history if "validation/reward" in h]
    # step 0 (the base), every eval_steps, and the last step; each check's score is its answers'
    assert [(h["step"], h["validation/reward"]) for h in checks] == [(0, pytest.approx(0.1)), (2, pytest.approx(0.2)), (3, pytest.approx(0.3))]
    assert sum(line.startswith("step 2: validation reward 0.200") and "3 rows, greedy" in line for line in said) == 1
    # the same seeded rows every time, greedy, answered by the base first and the final model last
    rows = pick_rows(read_records(small_data["eval"]), 3, spec.seed)
    assert all(conversations == [training_messages(r) for r in rows] for conversations, _, _ in seen)
    # with the evaluation's answer budget (the rows' longest taught answer + 64), not the run's shorter max_completion_length (8)
    budget = answer_budget(rows, AutoTokenizer.from_pretrained(tiny_model))
    assert budget > 64 and all(s.temperature == 0 and s.max_new_tokens == budget for _, _, s in seen)
    base, final = (AutoModelForCausalLM.from_pretrained(p).model.embed_tokens.weight for p in (tiny_model, run / "model"))
    assert seen[0][1].equal(base) and seen[-1][1].equal(final) and not base.equal(final)
    # SFT keeps TRL's eval loss beside it
    assert any("eval_loss" in h for h in history)


def test_validation_rows_must_be_positive(tiny_model, small_data):
    with pytest.raises(SpecError, match="validation_rows"):
        load_spec(None, {"base": tiny_model, "train_data": str(small_data["train"]), "validation_rows": 0})
