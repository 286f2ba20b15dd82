"""The GPU path, offline: every technique trains on CUDA, decoding and caches work there. Runs only
where a GPU is present (skipped on CPU machines and in CI); run it on a lent GPU box with
`USE_HUB_KERNELS=NO .venv/bin/python -m pytest tests/test_cuda.py`."""

import math

import pytest
import torch
from transformers import TrainerCallback

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

from tests.training.test_train import FAST as CPU_FAST

# The CPU tests' small settings, in the dtype a GPU user gets (auto: bf16).
FAST = {**CPU_FAST, "dtype": "auto"}


class _Devices(TrainerCallback):
    """Where the model's weights are at every step, and every logged loss."""

    def __init__(self):
        self.devices, self.losses = set(), []

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if model is not None:
            self.devices.add(next(model.parameters()).device.type)

    def on_log(self, args, state, control, logs=None, **kwargs):
        self.losses += [v for k, v in (logs or {}).items() if k.endswith("loss") and isinstance(v, (int, float))]


@pytest.mark.parametrize("technique,extra", [("sft", {}), ("dpo", {}), ("rlvr", {"engine": "native"}), ("rlvr", {"engine": "trl"})])
def test_every_technique_trains_on_the_gpu_with_finite_losses(tiny_model, small_data, technique, extra):
    from tooltune.runs import read_manifest
    from tooltune.training import load_spec
    from tooltune.training.train import train

    seen = _Devices()
    spec = load_spec(None, {"base": tiny_model, "train_data": str(small_data["train"]), **FAST, "technique": technique, "max_steps": 2,
                            "validation_data": str(small_data["eval"]), "validation_rows": 4, "eval_steps": 2, "name": f"cuda-{technique}-{extra.get('engine', '')}", **extra})
    run = train(spec, echo=lambda s: None, callbacks=[seen])
    manifest = read_manifest(run)
    assert manifest["status"] == "completed", manifest.get("error")
    assert seen.devices == {"cuda"}
    assert seen.losses and all(math.isfinite(v) for v in seen.losses)
    assert any("validation/reward" in h for h in manifest.get("history", []))


def test_growing_cache_decodes_like_dynamic_cache_on_the_gpu(tiny_model):
    from transformers import DynamicCache

    from tooltune.kv_cache import growing_cache
    from tooltune.models.load import load_model_and_tokenizer

    model, _ = load_model_and_tokenizer(tiny_model, dtype="float32")
    model.to("cuda").eval()
    ids = torch.randint(5, 400, (3, 20), generator=torch.Generator().manual_seed(0)).cuda()

    def decode(cache):
        out = []
        with torch.inference_mode():
            logits = model(input_ids=ids, use_cache=True, past_key_values=cache).logits[:, -1]
            for _ in range(160):  # past the buffer's first size, so it grows on the GPU too
                out.append(logits)
                token = logits.argmax(-1, keepdim=True)
                length = cache.get_seq_length()
                logits = model(input_ids=token, position_ids=torch.full((3, 1), length, device="cuda"), use_cache=True, past_key_values=cache).logits[:, -1]
        return out

    plain, grown = decode(DynamicCache(config=model.config)), decode(growing_cache(model.config))
    assert all(torch.allclose(a, b, atol=1e-4) for a, b in zip(plain, grown))


def test_batched_generation_answers_on_the_gpu(tiny_model):
    from tooltune.inference import GenerationRequest, Sampling, complete_batch
    from tooltune.models.load import load_model_and_tokenizer

    model, tokenizer = load_model_and_tokenizer(tiny_model, dtype="auto")
    model.to("cuda").eval()
    requests = [GenerationRequest(conversation=[{"role": "user", "content": text}], sampling=Sampling(max_new_tokens=8)) for text in ("Weather in Paris?", "Book a table for two tonight, please.")]
    answers = complete_batch(model, tokenizer, requests)
    assert len(answers) == 2 and all(prompt_tokens > 0 and completions for prompt_tokens, completions in answers)
