import pytest
import torch
from datasets import Dataset
from trl import SFTConfig

from tooltune.data import read_records
from tooltune.models.load import load_model_and_tokenizer
from tooltune.training.datasets import sft_rows
from tooltune.training.freezing import decoder_layers, freeze_lower_layers
from tooltune.training.sft_loss import AnswerOnlySFTTrainer


def _loss_and_grads(tiny_model, small_data, tmp_path, frozen, checkpointing=None):
    model, tokenizer = load_model_and_tokenizer(tiny_model)
    freeze_lower_layers(model, frozen)
    model.train()
    if checkpointing is not None:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": checkpointing})
    config = SFTConfig(output_dir=str(tmp_path), per_device_train_batch_size=4, max_length=320, completion_only_loss=True, report_to=[], use_cpu=True, bf16=False)
    trainer = AnswerOnlySFTTrainer(model=model, args=config, processing_class=tokenizer, train_dataset=Dataset.from_list(sft_rows(read_records(small_data["train"])[:4])))
    torch.manual_seed(0)
    batch = next(iter(trainer.get_train_dataloader()))
    loss = trainer.compute_loss(model, dict(batch))
    loss.backward()
    return model, loss.item(), {name: p.grad for name, p in model.named_parameters()}


@pytest.mark.parametrize("checkpointing", [None, True, False], ids=["plain", "reentrant-checkpointing", "checkpointing"])
def test_upper_layers_get_their_full_gradient_and_the_lower_ones_none(tiny_model, small_data, tmp_path, checkpointing):
    _, loss_all, grads_all = _loss_and_grads(tiny_model, small_data, tmp_path, 0)
    model, loss, grads = _loss_and_grads(tiny_model, small_data, tmp_path, 1, checkpointing)
    assert len(decoder_layers(model)) == 2 and loss == pytest.approx(loss_all, rel=1e-6)  # the forward is unchanged
    lower = [n for n in grads if ".layers.0." in n]
    upper = [n for n in grads if ".layers.1." in n or n.endswith("model.norm.weight")]
    assert lower and upper
    assert all(grads[n] is None for n in lower)
    for name in upper:  # the layers above get exactly the gradient they get when nothing is frozen
        assert torch.allclose(grads[name], grads_all[name], atol=1e-6, rtol=1e-4), name
    # The tied embeddings still learn, from the output layer only.
    embed = model.get_input_embeddings().weight
    assert embed.requires_grad and grads["model.embed_tokens.weight"] is not None
    assert not torch.allclose(grads["model.embed_tokens.weight"], grads_all["model.embed_tokens.weight"])


def test_freezing_every_layer_is_refused(tiny_model):
    model, _ = load_model_and_tokenizer(tiny_model)
    with pytest.raises(ValueError, match="would freeze every layer of this model \\(2\\); use at most 1"):
        freeze_lower_layers(model, 2)
