import pytest
import torch
from datasets import Dataset
from trl import DPOConfig, DPOTrainer

from tooltune.data import read_records
from tooltune.models.load import load_model_and_tokenizer
from tooltune.training.datasets import dpo_rows
from tooltune.training import dpo_logps
from tooltune.training.dpo_logps import SharedPromptDPOTrainer, _pairs


def _trainer(cls, tiny_model, rows, tmp_path, loss_type, checkpointing=False):
    model, tokenizer = load_model_and_tokenizer(tiny_model)
    config = DPOConfig(output_dir=str(tmp_path / cls.__name__), per_device_train_batch_size=4, loss_type=[loss_type], report_to=[],
                       use_cpu=True, bf16=False, gradient_checkpointing=checkpointing, max_length=1024)
    return cls(model=model, args=config, processing_class=tokenizer, train_dataset=Dataset.from_list(rows))


@pytest.mark.parametrize("loss_type", ["sigmoid", "ipo"])
def test_shared_prompt_loss_metrics_and_gradients_match_trl(tiny_model, small_data, tmp_path, loss_type, monkeypatch):
    calls = []
    shared = dpo_logps._shared_prompt_logps
    monkeypatch.setattr(dpo_logps, "_shared_prompt_logps", lambda *a: calls.append(1) or shared(*a))
    rows = dpo_rows(read_records(small_data["train"])[:4], seed=0, reasoning=True)
    ours, stock = (_trainer(cls, tiny_model, rows, tmp_path, loss_type) for cls in (SharedPromptDPOTrainer, DPOTrainer))
    # The reference should differ from the policy, or every log-ratio is 0: nudge both policies alike.
    for trainer in (ours, stock):
        with torch.no_grad():
            for p in trainer.model.parameters():
                p.mul_(1.01)
    batch = next(iter(stock.get_train_dataloader()))
    assert _pairs(batch["input_ids"], batch["attention_mask"], batch["input_ids"].masked_fill(batch["completion_mask"] == 0, -100)) is not None

    def run(trainer):
        trainer.model.train()
        trainer.model.zero_grad()
        loss = trainer.compute_loss(trainer.model, dict(batch))
        loss.backward()
        metrics = {k: v[-1] for k, v in trainer._metrics["train"].items()}
        return loss.detach(), metrics, {name: p.grad.clone() for name, p in trainer.model.named_parameters()}

    (lo, mo, go), (ls, ms, gs) = run(ours), run(stock)
    assert len(calls) == 2  # the policy and the reference took the shared-prompt path
    assert torch.allclose(lo, ls, atol=1e-5)
    assert mo.keys() == ms.keys()
    for key in ms:
        assert mo[key] == pytest.approx(ms[key], rel=1e-4, abs=1e-5), key
    assert ms["rewards/margins"] != 0  # the nudge made the comparison carry a gradient
    assert go.keys() == gs.keys()
    for name, stock_grad in gs.items():  # every layer: gradients through the shared prompt included
        assert stock_grad.abs().max() > 0, name
        assert (go[name] - stock_grad).abs().max() <= 1e-4 * stock_grad.abs().max(), name


def test_batches_that_are_not_prompt_then_answer_pairs_take_trls_path():
    ids = torch.tensor([[1, 2, 3, 4], [1, 2, 5, 0], [1, 9, 6, 7], [1, 2, 8, 0]])
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0], [1, 1, 1, 1], [1, 1, 1, 0]])
    labels = torch.tensor([[-100, -100, 3, 4], [-100, -100, 5, -100], [-100, -100, 6, 7], [-100, -100, 8, -100]])
    assert _pairs(ids, mask, labels) is None  # row 2's prompt (1, 9) is not row 0's (1, 2)
    ids[2, 1] = 2
    assert [p for p, _ in _pairs(ids, mask, labels)] == [[1, 2], [1, 2]]
    assert _pairs(ids[:3], mask[:3], labels[:3]) is None  # odd rows: not [chosen; rejected]
    left_padded = torch.tensor([[0, 1, 1, 1], [1, 1, 1, 0], [1, 1, 1, 1], [1, 1, 1, 0]])
    assert _pairs(ids, left_padded, labels) is None


def test_checkpointing_on_takes_trls_path_for_the_trained_model(tiny_model, small_data, tmp_path, monkeypatch):
    calls = []
    shared = dpo_logps._shared_prompt_logps
    monkeypatch.setattr(dpo_logps, "_shared_prompt_logps", lambda model, *a: calls.append(model.training) or shared(model, *a))
    trainer = _trainer(SharedPromptDPOTrainer, tiny_model, dpo_rows(read_records(small_data["train"])[:4]), tmp_path, "sigmoid", checkpointing=True)
    trainer.model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})  # what train() does
    trainer.model.train()
    batch = next(iter(trainer.get_train_dataloader()))
    trainer.compute_loss(trainer.model, dict(batch)).backward()  # checkpointing would have dropped the shared cache
    assert True not in calls  # the policy (training, checkpointed) took TRL's path; the reference may share its prompt
