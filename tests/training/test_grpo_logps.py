import pytest
import torch
from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer

from tooltune.data import read_records
from tooltune.models.load import load_model_and_tokenizer
from tooltune.rewards import load_reward
from tooltune.training.datasets import rlvr_rows
from tooltune.training.grpo_logps import KeptLogitsGRPOTrainer


@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_kept_logits_logps_entropy_and_gradients_match_trl(tiny_model, small_data, tmp_path, temperature):
    model, tokenizer = load_model_and_tokenizer(tiny_model)
    config = GRPOConfig(output_dir=str(tmp_path), per_device_train_batch_size=4, num_generations=4, max_completion_length=8,
                        temperature=temperature, report_to=[], use_cpu=True, bf16=False)
    dataset = Dataset.from_list(rlvr_rows(read_records(small_data["train"])[:4]))
    kwargs = dict(model=model, args=config, processing_class=tokenizer, reward_funcs=[load_reward("strict")], train_dataset=dataset)
    ours, stock = KeptLogitsGRPOTrainer(**kwargs), GRPOTrainer(**kwargs)
    torch.manual_seed(0)
    prompt = tokenizer(["a prompt that is longer than the answer " * 4, "short prompt"], return_tensors="pt", padding=True)
    answer = torch.randint(0, tokenizer.vocab_size, (2, 6))
    ids = torch.cat([prompt["input_ids"], answer], 1)
    mask = torch.cat([prompt["attention_mask"], torch.ones_like(answer)], 1)

    def run(trainer):
        model.zero_grad()
        logps, entropy, _ = trainer._get_per_token_logps_and_entropies(model, ids, mask, 6, batch_size=1, compute_entropy=True)
        logps.sum().backward()
        return logps.detach(), entropy.detach(), model.get_input_embeddings().weight.grad.clone()

    (lo, eo, go), (ls, es, gs) = run(ours), run(stock)
    assert lo.shape == ls.shape == (2, 6)
    assert torch.allclose(lo, ls, atol=2e-5)
    assert torch.allclose(eo, es, atol=2e-5)
    assert (go - gs).abs().max() <= 1e-4 * gs.abs().max()  # float summation order differs, nothing more
