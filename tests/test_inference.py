from tooltune.inference import Sampling, generate_answers
from tooltune.models.load import load_model_and_tokenizer

CONVERSATIONS = [
    [{"role": "user", "content": "hi"}],
    [{"role": "system", "content": "You are a long-winded assistant with many words."}, {"role": "user", "content": "what is the weather like today?"}],
    [{"role": "user", "content": "ok"}],
]


def test_greedy_is_deterministic_and_keeps_input_order(tiny_model):
    model, tokenizer = load_model_and_tokenizer(tiny_model)
    batched = generate_answers(model, tokenizer, CONVERSATIONS, Sampling(max_new_tokens=6, batch_size=2))
    one_by_one = [generate_answers(model, tokenizer, [c], Sampling(max_new_tokens=6))[0] for c in CONVERSATIONS]
    assert [len(a) for a in batched] == [1, 1, 1]
    # left padding and length-sorting must not change what each conversation gets
    assert batched == one_by_one
    assert tokenizer.padding_side == "left" and not model.training


def test_sampling_gives_several_answers_and_reports_progress(tiny_model):
    model, tokenizer = load_model_and_tokenizer(tiny_model)
    seen = []
    answers = generate_answers(model, tokenizer, CONVERSATIONS, Sampling(max_new_tokens=8, temperature=1.0, samples=3, batch_size=2), progress=lambda rows, toks: seen.append((rows, toks)))
    assert [len(a) for a in answers] == [3, 3, 3]
    assert len({a for group in answers for a in group}) > 1  # a random model sampled at T=1 varies
    assert sum(rows for rows, _ in seen) == 3 and all(toks > 0 for _, toks in seen)
    again = generate_answers(model, tokenizer, CONVERSATIONS, Sampling(max_new_tokens=8, temperature=1.0, samples=3, batch_size=2))
    assert again == answers  # the seed makes sampling repeatable


def test_seeded_generation_leaves_the_callers_random_stream_where_it_was(tiny_model):
    import torch

    model, tokenizer = load_model_and_tokenizer(tiny_model)
    torch.manual_seed(123)
    torch.rand(3)
    expected = torch.rand(4)
    torch.manual_seed(123)
    torch.rand(3)
    generate_answers(model, tokenizer, CONVERSATIONS, Sampling(max_new_tokens=4, temperature=1.0))  # a check in the middle of a run
    assert torch.rand(4).equal(expected)


def test_complete_is_seeded_without_moving_the_callers_random_stream(tiny_model):
    import torch

    from tooltune.inference import complete

    model, tokenizer = load_model_and_tokenizer(tiny_model)
    sampling = Sampling(max_new_tokens=6, temperature=1.0, samples=2)
    torch.manual_seed(7)
    expected = torch.rand(4)
    torch.manual_seed(7)
    first = complete(model, tokenizer, CONVERSATIONS[1], sampling)
    assert torch.rand(4).equal(expected)
    assert complete(model, tokenizer, CONVERSATIONS[1], sampling) == first  # the seed still makes it repeatable


def test_batches_prefill_row_by_row_from_a_cached_system_turn_and_answer_as_alone(bundled_tiny):
    """Each prompt prefilled alone (no padding) from the longest cached system turn, then decoded in
    one batch: every answer as the request alone would get it, for each bundled architecture
    (Gemma's sliding-window layers take the padded path)."""
    from tooltune.inference import GenerationRequest, PrefixCache, _rowwise, complete_batch

    name, path = bundled_tiny
    model, tokenizer = load_model_and_tokenizer(path, dtype="float32")
    system = {"role": "system", "content": "You can call get_weather(location) and get_time(zone). " * 6}
    asks = ["weather in Paris?", "what time is it in Tokyo right now, please?", "hi"]
    convs = [[system, {"role": "user", "content": a}] for a in asks]

    def answers(conversations, cache=None):
        requests = [GenerationRequest(c, Sampling(max_new_tokens=8)) for c in conversations]
        return [(n, [c.text for c in got]) for n, got in complete_batch(model, tokenizer, requests, cache)]

    alone = [answers([c])[0] for c in convs]
    cache = PrefixCache(size=2)
    assert answers(convs[:1], cache) == alone[:1]  # the first request fills the cache ...
    assert answers(convs, cache) == alone  # ... the batch starts from it, and answers as each alone
    assert _rowwise(model) == (name == "smollm2-135m")
    if name == "smollm2-135m":
        assert (cache.misses, cache.hits) == (1, 3)
        for other in ("Another tool list.", "A third one."):  # LRU: two entries, the oldest out first
            answers([[{"role": "system", "content": other}, {"role": "user", "content": "x"}]], cache)
        answers(convs[:1], cache)
        assert cache.misses == 4
