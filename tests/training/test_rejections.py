from tooltune.inference import Sampling
from tooltune.models.load import load_model_and_tokenizer
from tooltune.training.datasets import dpo_rows, target_text
from tooltune.training.rejections import sampled_rejections


def _reward(truth_score, sample_scores):
    """A stub reward: the ground truth answer scores truth_score, samples score in turn from sample_scores."""
    def reward(prompts, completions, **columns):
        out = []
        for i, c in enumerate(completions):
            text = c[0]["content"]
            out.append(truth_score if text in truths else sample_scores[i % len(sample_scores)])
        return out
    truths = set()
    return reward, truths


def test_keeps_the_worst_sample_below_the_truth(tiny_model, weather_rows):
    model, tokenizer = load_model_and_tokenizer(tiny_model)
    reward, truths = _reward(1.0, [0.5, 0.0, None])
    truths.update(target_text(r) for r in weather_rows)
    sampling = Sampling(max_new_tokens=8, temperature=1.0, samples=3)
    rejected = sampled_rejections(model, tokenizer, weather_rows, reward, sampling)
    assert all(isinstance(r, str) and r not in truths for r in rejected)
    # the one scored 0.0 (the second sample of each row) is kept; None (a reward error) is skipped
    from tooltune.inference import generate_answers
    from tooltune.training.datasets import training_messages

    samples = generate_answers(model, tokenizer, [training_messages(r) for r in weather_rows], sampling)
    assert rejected == [group[1].strip() for group in samples]


def test_rows_the_model_already_gets_right_fall_back_to_a_near_miss(tiny_model, weather_rows):
    model, tokenizer = load_model_and_tokenizer(tiny_model)
    reward, truths = _reward(1.0, [1.0])
    rejected = sampled_rejections(model, tokenizer, weather_rows, reward, Sampling(max_new_tokens=4, temperature=1.0, samples=2))
    assert rejected == [None, None, None]
    rows = dpo_rows(weather_rows, rejected=rejected)
    assert all(row["rejected"][0]["content"] != row["chosen"][0]["content"] for row in rows)
