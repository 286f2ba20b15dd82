"""Continuous batching: requests join the running batch between tokens and leave as they end.

Every step decodes one token for each running row. A request that arrives is prefilled (row by
row, from its cached system turn: :func:`tooltune.inference._prefill`) and joins at the next
step; a row that ends (end of turn, token limit, stop string, cancel) leaves at once. So a short
answer never waits for a long one, and a new request never waits for a batch to drain: the
latency a static batch adds. Rows sit left-padded in one KV cache; a joining group is padded to
the batch's length (or the batch to its), and columns no row uses any more are dropped.

Each row decodes with its own settings (greedy, or temperature and top-p with its own seeded
generator): requests with different settings share the batch, and a seed draws the same answer
whatever runs beside it, up to the batch's float rounding. Written by hand because transformers'
``generate()`` runs a fixed batch to its end and its own continuous batching (paged attention) is
built for GPUs; this loop is the part of it a CPU server needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from ..constrained import CallMatcher
from ..inference import Completion, GenerationRequest, PrefixCache, _prefill, finish_answer, hits_stop, request_grammars, rows_for, stop_token_ids, stop_window
from ..training.shared_prompt import cache_kwarg

__all__ = ["Batcher", "Row"]


@dataclass
class Row:
    """One answer being decoded (a request with ``samples: n`` sampled brings n rows)."""

    request: GenerationRequest
    owner: Any  # what the caller gets back when the row ends (the engine's job)
    prompt_tokens: int
    pending: int  # the token fed at the next step
    generator: torch.Generator | None  # None: greedy
    generated: list[int] = field(default_factory=list)
    window: int = 0  # tokens decoded when looking for a stop string (holds the longest one)
    grammar: Any = None  # a constrained.CallMatcher when the request's calls are decoded within its tools' schemas


class Batcher:
    """The running rows and their shared cache; ``join`` adds requests, ``step`` decodes a token."""

    def __init__(self, model: Any, tokenizer: Any, prefixes: PrefixCache | None = None):
        self.model, self.tokenizer, self.prefixes = model, tokenizer, prefixes
        self.rows: list[Row] = []
        self.cache: Any = None
        self.mask: torch.Tensor | None = None  # (rows, cached positions): 1 where a row has a token
        self.ends = set(stop_token_ids(tokenizer))
        self.kwarg = cache_kwarg(model)

    def __len__(self) -> int:
        return len(self.rows)

    def join(self, requests: list[tuple[GenerationRequest, Any]]) -> None:
        """Prefill ``(request, owner)`` pairs and add their rows (``samples`` rows for a sampled
        request, one for a greedy one) to the batch."""
        rows, prompts, per_row = [], [], []
        grammars = request_grammars(self.model, self.tokenizer, [r for r, _ in requests])
        for index, (request, owner) in enumerate(requests):
            compiled = grammars[1][index] if grammars is not None else None
            text = self.tokenizer.apply_chat_template(request.conversation, add_generation_prompt=True, tokenize=False) + request.prefix
            ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
            sampled, window = request.sampling.temperature > 0, stop_window(request)
            for n in range(rows_for(request.sampling)):
                generator = torch.Generator(device=self.model.device).manual_seed(request.sampling.seed + n) if sampled else None
                matcher = CallMatcher(compiled, grammars[0].info.vocab_size, request.prefix) if compiled is not None else None
                rows.append(Row(request, owner, len(ids), ids[-1], generator, window=window, grammar=matcher))
                prompts.append(ids)
                per_row.append(request)
        with torch.inference_mode():
            input_ids, mask, cache = _prefill(self.model, self.tokenizer, per_row, prompts, self.prefixes)
        for row, ids in zip(rows, input_ids):
            if row.request.streamer is not None:
                row.request.streamer.put(ids[None, :])  # the prompt: the streamer skips it
        self._merge(rows, mask[:, :-1], cache)

    def step(self) -> list[tuple[Row, Completion]]:
        """Decode one token for every row; returns the rows that ended, with their answers."""
        if not self.rows:
            return []
        device = self.model.device
        mask = torch.cat([self.mask, torch.ones(len(self.rows), 1, dtype=self.mask.dtype, device=device)], dim=1)
        tokens = torch.tensor([[row.pending] for row in self.rows], device=device)
        positions = mask.sum(dim=1, keepdim=True) - 1
        # No padding anywhere (a lone row, or rows of one length): no mask, so attention takes its
        # causal fast path instead of building a 4-D mask at every step.
        padded = mask if not bool(mask.all()) else None
        with torch.inference_mode():
            logits = self.model(input_ids=tokens, attention_mask=padded, position_ids=positions, use_cache=True, logits_to_keep=1, **{self.kwarg: self.cache}).logits[:, -1].float()
        self.mask = mask
        finished, keep = [], []
        for index, row in enumerate(self.rows):
            if row.grammar is not None:
                row.grammar.mask(logits[index])
            token = self._choose(row, logits[index])
            if row.grammar is not None:
                row.grammar.accept(token)
            row.generated.append(token)
            if row.request.streamer is not None:
                row.request.streamer.put(torch.tensor([token]))
            ended = self._ended(row, token)
            if ended is None:
                row.pending = token
                keep.append(index)
            else:
                finished.append((row, finish_answer(self.tokenizer, row.request, row.generated, ended == "stop")))
                if row.request.streamer is not None:
                    row.request.streamer.end()
        if len(keep) < len(self.rows):
            self._keep(keep)
        return finished

    def abort(self) -> list[Row]:
        """Drop every row (after an error); returns them so their callers can be told."""
        rows, self.rows, self.cache, self.mask = self.rows, [], None, None
        for row in rows:
            if row.request.streamer is not None:
                row.request.streamer.end()
        return rows

    # -- one row ------------------------------------------------------------------------------

    @staticmethod
    def _choose(row: Row, logits: torch.Tensor) -> int:
        if row.generator is None:
            return int(logits.argmax())
        # A temperature near 0 would overflow the division (1e-300 is 0 in float32): at most it is
        # greedy, and one row's settings must never fail the rows decoding beside it.
        probs = torch.softmax(logits.float() / max(row.request.sampling.temperature, 1e-4), dim=-1)
        top_p = row.request.sampling.top_p
        if top_p < 1.0:
            # Nucleus: the most likely tokens until their mass reaches top_p (always the first one).
            ordered, order = probs.sort(descending=True)
            outside = ordered.cumsum(-1) - ordered >= top_p
            outside[0] = False
            probs = torch.zeros_like(probs).scatter(0, order, ordered.masked_fill(outside, 0.0))
        if not bool(torch.isfinite(probs).all()) or float(probs.sum()) <= 0:
            return int(logits.argmax())
        return int(torch.multinomial(probs, 1, generator=row.generator))

    def _ended(self, row: Row, token: int) -> str | None:
        """None while the row goes on, else how it ended: "stop" or "length"."""
        request = row.request
        if token in self.ends:
            return "stop"
        if request.stop and hits_stop(request, self.tokenizer.decode(row.generated[-row.window :], skip_special_tokens=True), len(row.generated), row.window):
            return "stop"
        if len(row.generated) >= request.sampling.max_new_tokens or (request.cancel is not None and request.cancel.is_set()):
            return "length"
        return None

    # -- the shared cache ---------------------------------------------------------------------

    def _merge(self, rows: list[Row], mask: torch.Tensor, cache: Any) -> None:
        """Add prefilled rows: both caches left-padded to the longer one, then stacked."""
        if not self.rows:
            self.rows, self.mask, self.cache = rows, mask, cache
            return
        length = max(self.mask.size(1), mask.size(1))
        pad = lambda t, n: torch.nn.functional.pad(t, (0, 0, n, 0)) if n else t  # noqa: E731 - left, along the sequence
        old, new = length - self.mask.size(1), length - mask.size(1)
        for mine, theirs in zip(self.cache.layers, cache.layers):
            mine.keys = torch.cat([pad(mine.keys, old), pad(theirs.keys, new)])
            mine.values = torch.cat([pad(mine.values, old), pad(theirs.values, new)])
        self.mask = torch.cat([torch.nn.functional.pad(self.mask, (old, 0)), torch.nn.functional.pad(mask, (new, 0))])
        self.rows = self.rows + rows

    def _keep(self, keep: list[int]) -> None:
        """Only the rows at ``keep`` go on; columns that no row uses any more are dropped."""
        self.rows = [self.rows[i] for i in keep]
        if not keep:
            self.cache, self.mask = None, None
            return
        index = torch.tensor(keep, device=self.mask.device)
        self.mask = self.mask[index]
        first = int(self.mask.any(dim=0).nonzero()[0])
        self.mask = self.mask[:, first:]
        for layer in self.cache.layers:
            layer.keys, layer.values = layer.keys[index, :, first:], layer.values[index, :, first:]
