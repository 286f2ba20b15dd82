"""Training only the upper decoder layers: the lower ones, and the path from the input embeddings
through them, run forward only.

On 2 CPU cores a training step is ~1/3 forward and ~2/3 backward (activation and weight
gradients); a layer whose weights are fixed and whose input needs no gradient has no backward at
all. Freezing the lower ``n`` of SmolLM2-135M's 30 layers takes about ``2/3 * n/30`` of a step away
(and, with checkpointing, their recomputed forward too). What it costs in quality is an ablation
(docs/ablations.md), so it is off unless a spec asks for it.

The input embeddings are tied to the output layer in SmolLM2, so their weights keep training, from
the output side only: the lookup's output is detached, which is what lets the backward stop above
the frozen layers (and saves the dense 49k-row gradient a lookup's backward writes). Checkpointing,
reentrant or not, trains the layers above as before (tests/training/test_freezing.py).
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["freeze_lower_layers", "freeze_embeddings", "decoder_layers"]


def decoder_layers(model: Any) -> torch.nn.ModuleList:
    """The decoder's stack of layers (``model.model.layers`` for Llama-style models)."""
    layers = getattr(model.get_decoder(), "layers", None)
    if not isinstance(layers, torch.nn.ModuleList):
        raise ValueError(f"frozen_layers: cannot find the decoder layers of {type(model).__name__}; use frozen_layers: 0 with this model")
    return layers


def freeze_lower_layers(model: Any, n: int) -> None:
    """Fix the weights of the first ``n`` decoder layers and cut the gradient below layer ``n``."""
    if n <= 0:
        return
    layers = decoder_layers(model)
    if n >= len(layers):
        raise ValueError(f"frozen_layers: {n} would freeze every layer of this model ({len(layers)}); use at most {len(layers) - 1}")
    for layer in layers[:n]:
        layer.requires_grad_(False)
    # Nothing below layer n then asks for a gradient, so autograd records no graph there at all.
    model.get_input_embeddings().register_forward_hook(_detached)


def freeze_embeddings(model: Any) -> None:
    """Fix the token embeddings and, where tied to them, the output layer: the gradient still flows
    through both to the layers, but the vocabulary-wide weight gradient (a dense 262k x 640 matrix
    for Gemma 3 270M) and its optimizer state are never made."""
    model.get_input_embeddings().weight.requires_grad_(False)
    output = model.get_output_embeddings()
    if output is not None:
        output.weight.requires_grad_(False)


def _detached(module: Any, args: Any, output: torch.Tensor) -> torch.Tensor:
    return output.detach()
