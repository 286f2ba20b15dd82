"""``tooltune export``: a model's weights in standard formats for self-managed serving.

    tooltune export NAME@2 --format hf   --out out/   # merged transformers folder (safetensors + tokenizer + chat template)
    tooltune export NAME@2 --format gguf --out out/   # model-f16.gguf + an Ollama Modelfile

GGUF is written with the ``gguf`` package (llama.cpp's own writer): tensor names come from its
name map for the llama architecture (of the bundled bases, those whose description in
models/catalog.py names a GGUF tokenizer), the tokenizer from its vocab helpers, and we
only add what llama.cpp's converter does on top: rotary Q/K weights permuted into llama.cpp's
layout. transformers reads such a file back (it undoes the permutation), which is how the export
is checked.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from .models.catalog import BUNDLED, ChatFormat, bundled_base_of

__all__ = ["export_hf", "export_gguf", "modelfile"]

def export_hf(model_dir: str | Path, out: str | Path) -> Path:
    """Copy a merged transformers folder (what runs already store under ``model/``)."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty; pick a new --out")
    shutil.copytree(model_dir, out, dirs_exist_ok=True)
    return out


def _permute(weights: Any, heads: int) -> Any:
    """HF's rotary layout (halves) -> llama.cpp's (interleaved pairs), per head."""
    return weights.reshape(heads, 2, weights.shape[0] // heads // 2, *weights.shape[1:]).swapaxes(1, 2).reshape(weights.shape)


def export_gguf(model_dir: str | Path, out: str | Path, dtype: str = "f16", name: str | None = None) -> Path:
    """Write ``out/model-<dtype>.gguf`` (f16 or f32) and an Ollama ``Modelfile`` beside it."""
    import gguf
    import numpy as np
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    if dtype not in ("f16", "f32"):
        raise ValueError(f"dtype: f16 or f32, got {dtype!r}")
    model_dir, out = Path(model_dir), Path(out)
    taken = [p.name for p in (out / f"model-{dtype}.gguf", out / "Modelfile") if p.exists()]
    if taken:  # as export_hf refuses a full folder: never overwrite an earlier export silently
        raise FileExistsError(f"{out} already holds {' and '.join(taken)}; pick a new --out or delete them")
    config = AutoConfig.from_pretrained(model_dir)
    bundled = bundled_base_of(config.model_type, config.vocab_size)
    if bundled is None or bundled.gguf_tokenizer is None or config.model_type != "llama":
        able = ", ".join(m.name for m in BUNDLED.values() if m.gguf_tokenizer)
        raise ValueError(f"GGUF export covers models trained from {able}; {model_dir} is a {config.model_type!r} model. Export --format hf and convert it with llama.cpp's convert_hf_to_gguf.py")
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"model-{dtype}.gguf"

    arch = gguf.MODEL_ARCH.LLAMA
    writer = gguf.GGUFWriter(str(path), gguf.MODEL_ARCH_NAMES[arch])
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    writer.add_name(name or model_dir.parent.name or "tooltune-model")
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(config.num_key_value_heads)
    writer.add_rope_freq_base(float(getattr(config, "rope_theta", None) or (config.rope_parameters or {}).get("rope_theta", 10000.0)))
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    writer.add_rope_dimension_count(head_dim)
    writer.add_vocab_size(config.vocab_size)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if dtype == "f16" else gguf.LlamaFileType.ALL_F32)
    _add_tokenizer(writer, tokenizer, model_dir, config.vocab_size, bundled.gguf_tokenizer)

    names = gguf.get_tensor_name_map(arch, config.num_hidden_layers)
    state = model.state_dict()
    if getattr(config, "tie_word_embeddings", False):
        state.pop("lm_head.weight", None)  # llama.cpp reuses token_embd when output.weight is absent
    for key, tensor in state.items():
        base = key.removesuffix(".weight")
        mapped = names.get_name(base)
        if mapped is None:
            raise ValueError(f"no GGUF name for tensor {key}")
        data = tensor.numpy()
        if key.endswith("q_proj.weight"):
            data = _permute(data, config.num_attention_heads)
        elif key.endswith("k_proj.weight"):
            data = _permute(data, config.num_key_value_heads)
        # 1-D tensors (norms) stay f32, as llama.cpp's converter keeps them
        data = data.astype(np.float16 if dtype == "f16" and data.ndim > 1 else np.float32)
        writer.add_tensor(mapped + ".weight", data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    (out / "Modelfile").write_text(modelfile(path.name, bundled.chat))
    return path


def _add_tokenizer(writer: Any, tokenizer: Any, model_dir: Path, vocab_size: int, kind: tuple[str, str]) -> None:
    import gguf

    vocab = tokenizer.get_vocab()
    by_id = {i: t for t, i in vocab.items()}
    control = set(tokenizer.all_special_ids) | {i for i, t in tokenizer.added_tokens_decoder.items() if t.special}
    tokens, types = [], []
    for i in range(vocab_size):
        tokens.append(by_id.get(i, f"[PAD{i}]"))
        types.append(gguf.TokenType.CONTROL if i in control else gguf.TokenType.NORMAL if i in by_id else gguf.TokenType.UNUSED)
    writer.add_tokenizer_model(kind[0])
    writer.add_tokenizer_pre(kind[1])
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_add_bos_token(False)
    # merges, bos/eos/pad ids and the chat template, read from the tokenizer files by gguf's helper
    special = gguf.SpecialVocab(model_dir, load_merges=True, n_vocab=vocab_size)
    if not special.chat_template and getattr(tokenizer, "chat_template", None):
        special.chat_template = tokenizer.chat_template  # transformers 5 keeps it in chat_template.jinja
    special.add_to_gguf(writer)


def modelfile(gguf_name: str, chat: ChatFormat) -> str:
    """An Ollama Modelfile: the model's chat turns (models/catalog.py), stop at the end of a turn.

    Tools go in the system message as tooltune renders them (``tooltune.schema.render_system_prompt``);
    the answer's ``<TOOLCALL>[...]</TOOLCALL>`` is parsed by the client (or by ``tooltune serve``).
    """
    return (
        f"FROM ./{gguf_name}\n"
        f'TEMPLATE """{chat.ollama_template}"""\n'
        f'PARAMETER stop "{chat.end_of_turn}"\n'
        "PARAMETER temperature 0\n"
    )
