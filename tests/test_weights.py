import pytest
import torch
from click.testing import CliRunner
from transformers import AutoModelForCausalLM, AutoTokenizer

from tooltune.cli.main import cli
from tooltune.weights import export_gguf


def _logits(model, tokenizer, text):
    with torch.no_grad():
        return model(torch.tensor([tokenizer(text).input_ids])).logits


@pytest.mark.parametrize("dtype, tolerance", [("f32", 1e-6), ("f16", 5e-3)])
def test_gguf_reads_back_as_the_same_model(tmp_path, tiny_model, dtype, tolerance):
    path = export_gguf(tiny_model, tmp_path / "out", dtype=dtype)
    original = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    # transformers' own GGUF reader: tensors, Q/K layout, tokenizer and chat template all round-trip
    loaded = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, dtype=torch.float32)
    loaded_tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    text = tokenizer.apply_chat_template([{"role": "user", "content": "What's the stock price of AMZN?"}], add_generation_prompt=True, tokenize=False)
    assert loaded_tokenizer(text).input_ids == tokenizer(text).input_ids
    assert loaded_tokenizer.chat_template == tokenizer.chat_template
    a, b = _logits(original, tokenizer, text), _logits(loaded, tokenizer, text)
    assert (a - b).abs().max().item() <= tolerance * max(1.0, a.abs().max().item())
    assert 'PARAMETER stop "<|im_end|>"' in (tmp_path / "out" / "Modelfile").read_text()


def test_export_command(tmp_path, tiny_model):
    result = CliRunner().invoke(cli, ["export", tiny_model, "--format", "hf", "--out", str(tmp_path / "hf")])
    assert result.exit_code == 0, result.output
    assert AutoModelForCausalLM.from_pretrained(tmp_path / "hf").config.num_hidden_layers == 2
    again = CliRunner().invoke(cli, ["export", tiny_model, "--format", "hf", "--out", str(tmp_path / "hf")])
    assert again.exit_code == 1 and "not empty" in again.output
    gguf = [CliRunner().invoke(cli, ["export", tiny_model, "--format", "gguf", "--out", str(tmp_path / "gguf")]) for _ in range(2)]
    assert gguf[0].exit_code == 0 and gguf[1].exit_code == 1 and "already holds model-f16.gguf and Modelfile" in gguf[1].output  # no silent overwrite
    (tmp_path / "file").write_text("x")
    under_a_file = CliRunner().invoke(cli, ["export", tiny_model, "--format", "hf", "--out", str(tmp_path / "file" / "sub")])
    assert under_a_file.exit_code == 1 and "cannot write to" in under_a_file.output and "Traceback" not in under_a_file.output


@pytest.mark.slow
def test_llama_cpp_runs_the_exported_file(tmp_path, tiny_model):
    llama_cpp = pytest.importorskip("llama_cpp", reason="llama-cpp-python not installed (pip install llama-cpp-python builds it in ~4 min)")
    path = export_gguf(tiny_model, tmp_path / "out", dtype="f16")
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=256, verbose=False)
    out = llm.create_chat_completion(messages=[{"role": "user", "content": "hi"}], max_tokens=4, temperature=0)
    assert out["choices"][0]["message"]["role"] == "assistant"
