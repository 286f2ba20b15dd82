import pytest
import torch
from datasets import Dataset
from trl import SFTConfig, SFTTrainer

from tooltune.data import read_records
from tooltune.models.load import load_model_and_tokenizer
from tooltune.training.datasets import sft_rows
from tooltune.training.sft_loss import AnswerOnlySFTTrainer
from tooltune.training.techniques.config import no_checkpointing as _no_checkpointing


def test_answer_only_loss_and_gradients_match_trl(tiny_model, small_data, tmp_path):
    model, tokenizer = load_model_and_tokenizer(tiny_model)
    config = SFTConfig(output_dir=str(tmp_path), per_device_train_batch_size=4, max_length=320, completion_only_loss=True, report_to=[], use_cpu=True, bf16=False)
    dataset = Dataset.from_list(sft_rows(read_records(small_data["train"])[:4]))
    ours = AnswerOnlySFTTrainer(model=model, args=config, processing_class=tokenizer, train_dataset=dataset)
    stock = SFTTrainer(model=model, args=config, processing_class=tokenizer, train_dataset=dataset)
    batch = next(iter(ours.get_train_dataloader()))
    assert (batch["labels"] != -100).sum() < batch["labels"].numel() / 3  # the answer is a small part of each row

    def loss_and_grad(trainer):
        model.zero_grad()
        loss = trainer.compute_loss(model, dict(batch))
        loss.backward()
        return loss.detach(), model.get_input_embeddings().weight.grad.clone()

    loss_ours, grad_ours = loss_and_grad(ours)
    loss_stock, grad_stock = loss_and_grad(stock)
    assert loss_ours.item() == pytest.approx(loss_stock.item(), rel=1e-5)
    assert torch.allclose(grad_ours, grad_stock, atol=1e-6, rtol=1e-4)


def test_length_batches_cover_every_row_once_with_little_padding_in_random_order():
    import random

    import torch

    from tooltune.training.sft_loss import LengthBatches

    rng = random.Random(0)
    lengths = [rng.randint(190, 1060) for _ in range(1500)]
    torch.manual_seed(0)
    order = list(LengthBatches(lengths, batch_size=8))
    assert sorted(order) == list(range(1500))
    batches = [order[i : i + 8] for i in range(0, 1500, 8)]
    padded = sum(max(lengths[i] for i in b) * len(b) for b in batches)
    assert padded / sum(lengths) < 1.1  # random batches of 8 here: ~1.5
    # the longest batches are not all first: the first 28 steps look like the whole run
    first = [lengths[i] for b in batches[:28] for i in b]
    assert abs(sum(first) / len(first) - sum(lengths) / len(lengths)) < 100


def test_rows_sharing_a_system_turn_run_it_once_with_the_same_loss_and_gradients(tiny_model, small_data, tmp_path):
    model, tokenizer = load_model_and_tokenizer(tiny_model)
    config = SFTConfig(output_dir=str(tmp_path), per_device_train_batch_size=4, max_length=320, completion_only_loss=True, report_to=[], use_cpu=True, bf16=False)
    rows = sft_rows(read_records(small_data["train"])[:4])
    for row in rows[2:]:  # rows 0, 2 and 3 ask under row 0's tool list; row 1 keeps its own
        row["prompt"] = [rows[0]["prompt"][0], *row["prompt"][1:]]
    dataset = Dataset.from_list(rows)
    ours = AnswerOnlySFTTrainer(model=model, args=config, processing_class=tokenizer, train_dataset=dataset)
    stock = SFTTrainer(model=model, args=config, processing_class=tokenizer, train_dataset=dataset)
    batch = next(iter(stock.get_train_dataloader()))
    ids, mask, positions, labels = ours._packed_shared_prompts(dict(batch))
    assert ids.size(0) == 2 and ids.numel() < 0.8 * batch["input_ids"].numel()  # two system turns, run once each
    assert (labels != -100).sum() == (batch["labels"] != -100).sum()  # every answer token still counts

    loss_ours, grads_ours = _loss_and_grads(ours, model, batch)
    loss_stock, grads_stock = _loss_and_grads(stock, model, batch)
    assert loss_ours.item() == pytest.approx(loss_stock.item(), rel=1e-5)
    assert grads_ours.keys() == grads_stock.keys()
    for name, grad in grads_stock.items():  # exact, unlike the frozen turn below: the tool list's encoding learns too
        assert torch.allclose(grads_ours[name], grad, atol=1e-6, rtol=1e-4), name
    # Rows that share nothing take the plain path.
    plain = Dataset.from_list(sft_rows(read_records(small_data["train"])[4:8]))
    assert ours._packed_shared_prompts(dict(next(iter(SFTTrainer(model=model, args=config, processing_class=tokenizer, train_dataset=plain).get_train_dataloader())))) is None


def test_length_batches_keep_rows_with_one_key_in_one_batch():
    import random

    from tooltune.training.sft_loss import LengthBatches

    rng = random.Random(1)
    lengths, keys = [], []
    for unit in range(700):  # pairs, a few triples and many singletons, as `data generate --pairs` writes
        size = rng.choice([1, 1, 2, 2, 3])
        base = rng.randint(190, 1060)
        lengths += [base + rng.randint(0, 12) for _ in range(size)]
        keys += [unit] * size
    torch.manual_seed(0)
    order = list(LengthBatches(lengths, batch_size=8, keys=keys))
    assert sorted(order) == list(range(len(lengths)))
    batches = [order[i : i + 8] for i in range(0, len(order), 8)]
    batch_of = {row: b for b, batch in enumerate(batches) for row in batch}
    units: dict[int, set[int]] = {}
    for row, key in enumerate(keys):
        units.setdefault(key, set()).add(batch_of[row])
    assert sum(len(b) == 1 for b in units.values()) / len(units) > 0.97  # split only where a group's last batch ran short
    assert all(len(b) == 8 for b in batches[:-1])
    padded = sum(max(lengths[i] for i in b) * len(b) for b in batches)
    assert padded / sum(lengths) < 1.1
    # Units of 3 and 4 leave most batches a row or two short; they fill each other's gaps (an
    # earlier version carried the short batches forward until a group was all carry-over and hung).
    keys = [unit for unit in range(400) for _ in range(rng.choice([3, 4, 4, 4]))]
    lengths = [rng.randint(190, 1060) for _ in keys]
    order = list(LengthBatches(lengths, batch_size=8, keys=keys))
    assert sorted(order) == list(range(len(keys)))
    assert all(len(set(order[i : i + 8])) == 8 for i in range(0, len(order) - 8, 8))


def test_frozen_system_prompt_keeps_the_loss_and_drops_only_the_tool_lists_gradient(tiny_model, small_data, tmp_path):
    model, tokenizer = load_model_and_tokenizer(tiny_model)
    config = SFTConfig(output_dir=str(tmp_path), per_device_train_batch_size=4, max_length=320, completion_only_loss=True, report_to=[], use_cpu=True, bf16=False, **_no_checkpointing(SFTConfig, {}))
    dataset = Dataset.from_list(sft_rows(read_records(small_data["train"])[:4]))
    full = AnswerOnlySFTTrainer(model=model, args=config, processing_class=tokenizer, train_dataset=dataset)
    frozen = AnswerOnlySFTTrainer(model=model, args=config, processing_class=tokenizer, train_dataset=dataset)
    frozen.frozen_system_prompt = True
    batch = next(iter(full.get_train_dataloader()))
    # The split lands on each row's user turn: well inside the prompt, before the answer.
    marker = frozen._system_end()
    assert marker and tokenizer.decode(marker).strip() == "<|im_start|>user"
    hidden, labels = frozen._hidden_after_frozen_system(model, dict(batch))
    assert hidden.shape[1] < batch["input_ids"].shape[1] / 2  # the system turn is most of each row
    assert (labels != -100).sum() == (batch["labels"] != -100).sum()  # every answer token still counts

    loss_full, grads_full = _loss_and_grads(full, model, batch)
    loss_frozen, grads_frozen = _loss_and_grads(frozen, model, batch)
    assert loss_frozen.item() == pytest.approx(loss_full.item(), rel=1e-5)  # the same forward, exactly
    key = next(n for n in grads_full if "k_proj" in n)
    # Keys are learnt from the user turn and answer only now: a real gradient, but not the full one.
    assert grads_frozen[key].abs().sum() > 0
    assert not torch.allclose(grads_frozen[key], grads_full[key], atol=1e-6, rtol=1e-3)


def _loss_and_grads(trainer, model, batch):
    """The trainer's loss on ``batch`` and every parameter's gradient from it."""
    model.zero_grad()
    loss = trainer.compute_loss(model, dict(batch))
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
