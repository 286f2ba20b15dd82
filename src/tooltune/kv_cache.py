"""A key/value cache that grows in place, for decoding on a CPU.

transformers' ``DynamicLayer`` appends each new token with ``torch.cat``, which copies the whole
cache at every step of every layer: on a CPU a large share of a batch's decoding step
(docs/performance.md; ``bench/decode_step.py`` compares the two). Here a layer keeps its keys and
values in a buffer with room to spare and writes each step's token into it; the attention reads a
view of the filled part. A buffer grows by half again when full, so a cache costs at most ~1.5x
its size in memory.

Code that assigns ``layer.keys`` / ``layer.values`` itself (the serving batcher stacking and
dropping rows, ``crop``, beam reordering) keeps working: the next update sees tensors that are not
the views it handed out and copies them into a new buffer, a copy those operations made anyway.
"""

from __future__ import annotations

from typing import Any

from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer

__all__ = ["GrowingLayer", "growing_cache"]


class GrowingLayer(DynamicLayer):
    """A ``DynamicLayer`` whose ``keys``/``values`` are views of buffers with spare room."""

    _room: tuple[Any, Any] | None = None  # the key and value buffers
    _views: tuple[Any, Any] | None = None  # the views of them this layer last handed out

    def update(self, key_states: Any, value_states: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        keys, values = self.keys, self.values
        filled = keys.shape[-2] if keys.dim() == 4 else 0
        end = filled + key_states.shape[-2]
        room = self._room
        ours = self._views is not None and keys is self._views[0] and values is self._views[1]
        if not ours or end > room[0].shape[-2]:
            capacity = end + max(128, end // 2)
            room = self._room = tuple(new.new_empty(*new.shape[:-2], capacity, new.shape[-1]) for new in (key_states, value_states))
            if filled:
                room[0][..., :filled, :].copy_(keys)
                room[1][..., :filled, :].copy_(values)
        room[0][..., filled:end, :].copy_(key_states)
        room[1][..., filled:end, :].copy_(value_states)
        self.keys, self.values = self._views = (room[0][..., :end, :], room[1][..., :end, :])
        return self.keys, self.values


def growing_cache(config: Any) -> DynamicCache:
    """A ``DynamicCache`` for ``config`` whose full-attention layers grow in place (sliding-window
    layers, as in Gemma 3, stay transformers' own)."""
    cache = DynamicCache(config=config)
    cache.layers = [GrowingLayer() if type(layer) is DynamicLayer else layer for layer in cache.layers]
    return cache
