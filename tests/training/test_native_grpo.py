"""The native GRPO engine against TRL's stock GRPOTrainer: same completions, same loss, same gradients."""

import pytest
import torch
from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer

from tooltune.data import read_records
from tooltune.models.load import load_model_and_tokenizer
from tooltune.rewards import load_reward
from tooltune.training.datasets import rlvr_rows
from tooltune.training.native_grpo import SKIP_SCALE, NativeGRPOTrainer

ROLLOUTS = 4


def _trainers(tiny_model, small_data, tmp_path, **config):
    model, tokenizer = load_model_and_tokenizer(tiny_model)
    args = GRPOConfig(output_dir=str(tmp_path), per_device_train_batch_size=2 * ROLLOUTS, num_generations=ROLLOUTS, max_completion_length=8,
                      report_to=[], use_cpu=True, bf16=False, gradient_checkpointing=False, beta=0.0, **config)
    dataset = Dataset.from_list(rlvr_rows(read_records(small_data["train"])[:4]))
    kwargs = dict(model=model, args=args, processing_class=tokenizer, reward_funcs=[load_reward("strict")], train_dataset=dataset)
    native, stock = NativeGRPOTrainer(**kwargs), GRPOTrainer(**kwargs)
    for trainer in (native, stock):
        trainer.current_gradient_accumulation_steps = 2
    return model, tokenizer, native, stock


def _batch(tokenizer, old_logps_noise: float):
    """Two prompts of different lengths x ROLLOUTS answers of different lengths; group 2's rewards tie."""
    torch.manual_seed(0)
    prompts = tokenizer(["a prompt that is longer than the answer " * 3, "short prompt"], return_tensors="pt", padding=True, padding_side="left")
    rows = 2 * ROLLOUTS
    completion_ids = torch.randint(0, tokenizer.vocab_size, (rows, 6))
    lengths = torch.tensor([6, 3, 5, 1, 6, 2, 4, 6])
    completion_mask = (torch.arange(6)[None, :] < lengths[:, None]).long()
    completion_ids[completion_mask == 0] = tokenizer.pad_token_id
    advantages = torch.cat([torch.tensor([1.2, -0.4, 0.0, -0.8]), torch.zeros(ROLLOUTS)])
    inputs = {
        "prompt_ids": prompts["input_ids"].repeat_interleave(ROLLOUTS, 0),
        "prompt_mask": prompts["attention_mask"].repeat_interleave(ROLLOUTS, 0),
        "completion_ids": completion_ids,
        "completion_mask": completion_mask,
        "advantages": advantages,
        "num_items_in_batch": completion_mask.sum() * 2,  # the generation batch spans two micro-batches
    }
    if old_logps_noise:
        inputs["old_per_token_logps"] = -3.0 + old_logps_noise * torch.randn(rows, 6)
    return inputs


def _loss_and_grads(trainer, model, inputs):
    model.zero_grad()
    model.train()
    loss = trainer.compute_loss(model, dict(inputs))
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("loss_type", sorted(SKIP_SCALE))
def test_loss_and_gradients_match_trl_for_each_loss_type(tiny_model, small_data, tmp_path, loss_type):
    config = {"loss_type": loss_type, "importance_sampling_level": "sequence" if loss_type == "luspo" else "token"}
    model, tokenizer, native, stock = _trainers(tiny_model, small_data, tmp_path, **config)
    # Old log-probs far from the current ones make the ratio leave the clip range, so clipping is exercised too.
    inputs = _batch(tokenizer, old_logps_noise=1.0)
    (ln, gn), (ls, gs) = _loss_and_grads(native, model, inputs), _loss_and_grads(stock, model, inputs)
    assert torch.allclose(ln, ls, rtol=1e-5, atol=1e-7), (ln, ls)
    assert gn.keys() == gs.keys() and gs
    scale = max(g.abs().max() for g in gs.values())
    assert scale > 0
    for name in gs:
        assert (gn[name] - gs[name]).abs().max() <= 1e-4 * scale, name
    assert native._metrics["train"]["skipped_rows"] == [5 / 8]  # the tied group and one row at its group's mean


def test_shared_prefix_log_probs_match_a_full_forward(tiny_model, small_data, tmp_path):
    model, tokenizer, native, stock = _trainers(tiny_model, small_data, tmp_path)
    inputs = _batch(tokenizer, old_logps_noise=0.0)
    ids = torch.cat([inputs["prompt_ids"], inputs["completion_ids"]], 1)
    mask = torch.cat([inputs["prompt_mask"], inputs["completion_mask"]], 1)
    with torch.no_grad():
        ln, en, _ = native._get_per_token_logps_and_entropies(model, ids, mask, 6, compute_entropy=True)
        ls, es, _ = stock._get_per_token_logps_and_entropies(model, ids, mask, 6, compute_entropy=True)
    real = inputs["completion_mask"].bool()
    assert torch.allclose(ln[real], ls[real], atol=2e-5)
    assert torch.allclose(en[real], es[real], atol=2e-5)


def test_a_micro_batch_of_tied_rows_skips_the_forward(tiny_model, small_data, tmp_path, monkeypatch):
    model, tokenizer, native, _ = _trainers(tiny_model, small_data, tmp_path)
    inputs = _batch(tokenizer, old_logps_noise=0.0)
    inputs["advantages"] = torch.zeros(2 * ROLLOUTS)
    monkeypatch.setattr(native, "_get_per_token_logps_and_entropies", lambda *a, **k: pytest.fail("forward ran on rows without gradient"))
    model.train()
    loss = native.compute_loss(model, inputs)
    loss.backward()
    assert loss.item() == 0.0
    assert all(p.grad is None for p in model.parameters())


def test_with_a_kl_term_no_row_is_skipped(tiny_model, small_data, tmp_path):
    _, _, native, _ = _trainers(tiny_model, small_data, tmp_path)
    assert native._skip_zero_advantage
    model, tokenizer = load_model_and_tokenizer(tiny_model)
    args = GRPOConfig(output_dir=str(tmp_path), per_device_train_batch_size=ROLLOUTS, num_generations=ROLLOUTS, report_to=[], use_cpu=True, gradient_checkpointing=False, beta=0.04)
    dataset = Dataset.from_list(rlvr_rows(read_records(small_data["train"])[:4]))
    with_kl = NativeGRPOTrainer(model=model, args=args, processing_class=tokenizer, reward_funcs=[load_reward("strict")], train_dataset=dataset)
    assert not with_kl._skip_zero_advantage  # the KL term has a gradient on every row


def test_generation_matches_trl_greedy(tiny_model, small_data, tmp_path, monkeypatch):
    _, tokenizer, native, stock = _trainers(tiny_model, small_data, tmp_path)
    import tooltune.training.prefix_attention as prefix_attention

    calls = []
    attend = prefix_attention.attend
    monkeypatch.setattr(prefix_attention, "attend", lambda q, *a: calls.append(q.shape) or attend(q, *a))
    long, short = tokenizer("a prompt that is longer than the answer " * 3)["input_ids"], tokenizer("short prompt")["input_ids"]
    prompts = [long] * 3 + [short] * 3 + [long]  # groups need not be contiguous
    for trainer in (native, stock):
        trainer.generation_config.do_sample = False
    ours, _ = native._generate_single_turn(prompts, None, {}, 3)
    theirs, _ = stock._generate_single_turn(prompts, None, {}, 3)
    assert ours == theirs
    assert all(len(c) >= 1 for c in ours)
    # Every decoding step ran over the shared prompt, one new token per row (2 layers per step).
    assert calls and all(shape[0] == len(prompts) and shape[2] == 1 for shape in calls)
    assert len(calls) == 2 * max(map(len, ours))
    # The entropy recorded while sampling is the one TRL computes in its training forward.
    width = max(map(len, prompts))
    ids = torch.tensor([[tokenizer.pad_token_id] * (width - len(p)) + p + c + [tokenizer.pad_token_id] * (8 - len(c)) for p, c in zip(prompts, ours)])
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) + [1] * len(c) + [0] * (8 - len(c)) for p, c in zip(prompts, ours)])
    with torch.no_grad():
        _, entropy, _ = stock._get_per_token_logps_and_entropies(stock.model, ids, mask, 8, compute_entropy=True)
    assert native._generation_entropy == pytest.approx(float(entropy[mask[:, -8:].bool()].mean()), rel=1e-4)


def test_gradient_checkpointing_is_refused(tiny_model, small_data, tmp_path):
    model, tokenizer = load_model_and_tokenizer(tiny_model)
    args = GRPOConfig(output_dir=str(tmp_path), per_device_train_batch_size=ROLLOUTS, num_generations=ROLLOUTS, report_to=[], use_cpu=True, gradient_checkpointing=True)
    dataset = Dataset.from_list(rlvr_rows(read_records(small_data["train"])[:4]))
    with pytest.raises(ValueError, match="gradient_checkpointing=false"):
        NativeGRPOTrainer(model=model, args=args, processing_class=tokenizer, reward_funcs=[load_reward("strict")], train_dataset=dataset)


def test_inverse_cdf_sampling_draws_from_the_distribution_and_never_a_zero():
    from tooltune.training.native_grpo import _inverse_cdf_multinomial

    torch.manual_seed(0)
    probs = torch.tensor([[0.0, 0.5, 0.0, 0.3, 0.2], [0.0, 0.0, 0.0, 0.0, 1.0]])
    draws = torch.cat([_inverse_cdf_multinomial(probs, 1) for _ in range(20_000)], 1)
    assert draws.shape == (2, 20_000)
    counts = torch.stack([torch.bincount(row, minlength=5) for row in draws]).float() / 20_000
    assert counts[0, [0, 2]].sum() == 0 and (draws[1] == 4).all()
    assert torch.allclose(counts[0], probs[0], atol=0.015)
    # Anything but one draw per row of a matrix goes to torch's own sampler.
    assert _inverse_cdf_multinomial(probs[0], 3).shape == (3,)


@pytest.mark.parametrize("lora", [False, True])
def test_bf16_sampling_decodes_every_row_with_trainable_or_frozen_weights(tiny_model, small_data, tmp_path, lora):
    # bf16 decoding keeps the prompt's cache in bf16 when autocast can cache the weights' casts
    # (trainable weights) and in fp32 when it cannot (LoRA's frozen base): both must decode.
    from peft import LoraConfig

    model, tokenizer = load_model_and_tokenizer(tiny_model)
    args = GRPOConfig(output_dir=str(tmp_path), per_device_train_batch_size=2 * ROLLOUTS, num_generations=ROLLOUTS, max_completion_length=8,
                      report_to=[], use_cpu=True, bf16=True, gradient_checkpointing=False, beta=0.0)
    dataset = Dataset.from_list(rlvr_rows(read_records(small_data["train"])[:4]))
    native = NativeGRPOTrainer(model=model, args=args, processing_class=tokenizer, reward_funcs=[load_reward("strict")], train_dataset=dataset,
                               peft_config=LoraConfig(r=4, target_modules="all-linear", task_type="CAUSAL_LM") if lora else None)
    long, short = tokenizer("a prompt that is longer than the answer " * 3)["input_ids"], tokenizer("short prompt")["input_ids"]
    torch.manual_seed(0)
    completions, _ = native._generate_single_turn([long] * ROLLOUTS + [short] * ROLLOUTS, None, {}, ROLLOUTS)
    assert len(completions) == 2 * ROLLOUTS and all(1 <= len(c) <= 8 for c in completions)
    assert all(p.dtype == torch.float32 for p in native.model.parameters())
    assert native._generation_entropy is not None and native._generation_entropy >= 0
