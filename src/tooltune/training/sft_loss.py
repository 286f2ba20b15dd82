"""SFT with the output layer computed on answer tokens only — the same loss, several times faster on CPU.

A tool-calling row is ~550 prompt tokens and ~40 answer tokens, and the loss only looks at the
answer. TRL's stock loss runs a fused output layer over every position (its non-GPU path is slow),
so most of an SFT step is spent on logits nobody uses. Here the decoder runs as usual and the
49k-wide output layer runs on the positions that have labels. The loss is the same token-mean
negative log-likelihood (checked against TRL's in tests/training/test_sft_loss.py).

With ``frozen_system_prompt`` the system turn (the tool list, ~85% of a row's tokens) runs once
without gradients and the user turn and answer run on its KV cache with them: the same loss, a
third of the work (no backward and no stored activations for the tool list), but not the same
gradient: the answer's loss no longer shapes how the tool list is encoded, only how it is read.

Rows that share a system turn (a clarify row and its execute twin, or several requests to one
agent's tool list) can share its computation exactly: each batch's distinct system turns run once,
with every row's user turn and answer packed after its own in one sequence, and a block mask keeps
each row from seeing the others' (``_packed_shared_prompts``). The loss and every gradient are the
plain ones (tests/training/test_sft_loss.py); only the tokens run twice are gone. It is one forward
call, so it works with gradient checkpointing and bf16 too. ``LengthBatches(keys=...)`` puts rows
with the same system turn in one batch so that there is something to share.

This is the one override of a TRL trainer in tooltune, and it steps aside (falls back to TRL's loss)
for anything it does not cover: multiple processes, padding-free/packed batches, non-NLL losses.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pad_sequence
from trl import SFTTrainer

from ..models.catalog import chat_format_of

__all__ = ["AnswerOnlySFTTrainer", "LengthBatches"]


class LengthBatches(torch.utils.data.Sampler):
    """Batches of rows of similar length, the batches in random order.

    transformers' LengthGroupedSampler sorts mega-batches of 50 batches longest first, so a run
    shorter than 50 steps trains on the longest rows only (the quick preset's 28 steps ran at
    ~28 s/step instead of ~19). Sorting groups of ``group`` batches and then shuffling the batches
    keeps padding low (5% on the generator's data, 54% for random batches) and every stretch of steps representative.
    Randomness comes from torch's global generator, which the Trainer seeds, as in transformers.

    ``keys`` (one per row, e.g. its system turn) keeps rows with the same key together: they are
    shuffled and sorted as one unit and placed whole into a batch where they fit, so the trainer
    can run what they share once. Without keys (or with every key distinct) the order is the one
    plain rows get.
    """

    def __init__(self, lengths: list[int], batch_size: int, group: int = 16, keys: list[Any] | None = None):
        self.lengths, self.batch_size, self.group = lengths, batch_size, group
        units: dict[Any, list[int]] = {}
        for row, key in enumerate(range(len(lengths)) if keys is None else keys):
            units.setdefault(key, []).append(row)
        # A unit larger than a batch goes in batch-sized pieces, each still shared within itself.
        self.units = [rows[i : i + batch_size] for rows in units.values() for i in range(0, len(rows), batch_size)]

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self):
        units = [self.units[u] for u in torch.randperm(len(self.units)).tolist()]
        span = self.batch_size * self.group
        batches: list[list[int]] = []
        carried: list[list[int]] = []
        start = 0
        while start < len(units):
            chunk, count = carried, sum(map(len, carried))
            while start < len(units) and count < span:
                chunk.append(units[start])
                count += len(units[start])
                start += 1
            chunk.sort(key=lambda unit: max(map(self.lengths.__getitem__, unit)), reverse=True)
            full, carried = self._first_fit(chunk)
            batches += full
        # What did not fill a batch in the last group: whole batches, then at most one short one.
        rows = [i for unit in carried for i in unit]
        batches += [rows[i : i + self.batch_size] for i in range(0, len(rows), self.batch_size)]
        # The data loader cuts the flat order into batches again: a short batch (there is at most
        # one, the tail) must stay last or every batch after it would straddle two groups.
        tail = [batches.pop()] if batches and len(batches[-1]) < self.batch_size else []
        ordered = [batches[b] for b in torch.randperm(len(batches)).tolist()] + tail
        return iter([i for batch in ordered for i in batch])

    def _first_fit(self, units: list[list[int]]) -> tuple[list[list[int]], list[list[int]]]:
        """(full batches, rows left over as one unit): each unit, longest first, goes into the first
        batch with room for all of it, so units stay whole and rows of a length stay together."""
        batches: list[list[list[int]]] = []
        sizes: list[int] = []
        for unit in units:
            slot = next((b for b, size in enumerate(sizes) if size + len(unit) <= self.batch_size), None)
            if slot is None:
                batches.append([])
                sizes.append(0)
                slot = len(batches) - 1
            batches[slot].append(unit)
            sizes[slot] += len(unit)
        full = [[i for unit in batch for i in unit] for batch, size in zip(batches, sizes) if size == self.batch_size]
        # Units that left batches short (a 4 and a 3 leave room for 1) fill each other's gaps, split
        # if need be; what stays over (less than a batch) goes on to the next group. Carrying more
        # would let it grow until a group is all carry-over and the loop stops advancing.
        rest = [i for batch, size in zip(batches, sizes) if size < self.batch_size for unit in batch for i in unit]
        cut = len(rest) - len(rest) % self.batch_size
        full += [rest[i : i + self.batch_size] for i in range(0, cut, self.batch_size)]
        return full, [rest[cut:]] if cut < len(rest) else []


class AnswerOnlySFTTrainer(SFTTrainer):
    # Set by train.py from the job spec (a trainer attribute rather than a constructor argument,
    # so the class keeps SFTTrainer's signature).
    frozen_system_prompt: bool = False
    share_prompts: bool = False  # batch rows that share a system turn together (LengthBatches keys)

    def _get_train_sampler(self, train_dataset: Any = None) -> Any:
        dataset = self.train_dataset if train_dataset is None else train_dataset
        if self.args.train_sampling_strategy != "group_by_length" or self.accelerator.num_processes > 1 or "input_ids" not in getattr(dataset, "column_names", ()):
            return super()._get_train_sampler(train_dataset)
        rows = dataset["input_ids"]
        keys = None
        if self.share_prompts and not self.frozen_system_prompt:
            marker = self._system_end()
            # Everything before the last user turn: rows with equal keys share that much exactly.
            keys = [tuple(ids[: _last_index(ids, marker, before=len(ids))]) or ("row", r) for r, ids in enumerate(rows)]
        return LengthBatches([len(ids) for ids in rows], self.args.train_batch_size * self.args.gradient_accumulation_steps, keys=keys)

    def compute_loss(self, model: Any, inputs: dict[str, Any], return_outputs: bool = False, num_items_in_batch: Any = None):
        if (
            return_outputs
            or self.args.loss_type != "nll"
            or self.accelerator.num_processes > 1  # DDP must see its own forward; keep TRL's path there
            or "labels" not in inputs
            or "position_ids" in inputs  # padding-free / packed batches
            or self.label_smoother is not None
            or self.compute_loss_func is not None
        ):
            return super().compute_loss(model, inputs, return_outputs=return_outputs, num_items_in_batch=num_items_in_batch)
        if self.frozen_system_prompt and not self.args.gradient_checkpointing:  # checkpointing drops the cache
            hidden, labels = self._hidden_after_frozen_system(model, inputs)
        elif (packed := self._packed_shared_prompts(inputs)) is not None:
            ids, mask, positions, labels = packed
            with self.accelerator.autocast():
                hidden = model.get_decoder()(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=False).last_hidden_state
        else:
            # accelerate applies bf16 autocast by wrapping model.forward; we call the decoder and the
            # output layer directly, so enter the same autocast ourselves (else bf16=True runs in fp32).
            with self.accelerator.autocast():
                hidden = model.get_decoder()(input_ids=inputs["input_ids"], attention_mask=inputs.get("attention_mask"), use_cache=False).last_hidden_state[:, :-1]
            labels = inputs["labels"][:, 1:]
        keep = labels != -100
        with self.accelerator.autocast():
            logits = model.get_output_embeddings()(hidden[keep])
        count = keep.sum() if num_items_in_batch is None else num_items_in_batch
        loss = F.cross_entropy(logits.float(), labels[keep], reduction="sum") / torch.as_tensor(count, device=logits.device).clamp(min=1)
        if self.args.average_tokens_across_devices and num_items_in_batch is not None:
            loss = loss * self.accelerator.num_processes
        return loss

    def _system_end(self) -> list[int]:
        """Token ids that open the user turn in this tokenizer's chat template (``<|im_start|>user``,
        ``<start_of_turn>user``)."""
        if not hasattr(self, "_user_marker"):
            tokenizer = getattr(self.processing_class, "tokenizer", self.processing_class)
            system, user = "SYSTEM-TEXT-7f3a", "USER-TEXT-7f3a"
            probe = tokenizer.apply_chat_template([{"role": "system", "content": system}, {"role": "user", "content": user}], tokenize=False)
            opening = probe[probe.index(system) + len(system) : probe.index(user)].lstrip()
            # What follows the system text up to the user's: "<|im_end|>\n<|im_start|>user\n"; the
            # user turn starts at its last special token (the format's turn marker where we know it).
            chat = chat_format_of(tokenizer)
            markers = [chat.start_marker] if chat is not None else tokenizer.all_special_tokens
            start = max((opening.rfind(t) for t in markers if t in opening), default=-1)
            self._user_marker = tokenizer.encode(opening[start:].strip(), add_special_tokens=False) if start >= 0 else []
        return self._user_marker

    def _split_rows(self, inputs: dict[str, Any]) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Each row as (system turn, user turn + answer, the latter's labels), padding dropped; the
        system turn is empty where the row has none before its user turn (or the template is unread)."""
        ids, labels = inputs["input_ids"], inputs["labels"]
        mask = inputs.get("attention_mask")
        mask = torch.ones_like(ids) if mask is None else mask
        marker = self._system_end()
        rows = []
        for row_ids, row_labels, row_mask in zip(ids, labels, mask.bool()):
            real, real_labels = row_ids[row_mask], row_labels[row_mask]
            split = _last_index(real.tolist(), marker, before=int((real_labels != -100).nonzero()[0]) if (real_labels != -100).any() else len(real))
            rows.append((real[:split], real[split:], real_labels[split:]))
        return rows

    def _packed_shared_prompts(self, inputs: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor] | None:
        """The batch as one sequence per distinct system turn: the turn, then each of its rows' user
        turn + answer, with a 4D mask under which every token sees exactly what it sees in its own
        row (its system turn and its own earlier tokens) and positions that restart after the turn.
        Returns (input ids, boolean mask, position ids, labels of the next token in the same row),
        or None when no two rows share a system turn or packing would not run fewer positions."""
        rows = self._split_rows(inputs)
        groups: dict[Any, list[int]] = {}
        for r, (system, rest, rest_labels) in enumerate(rows):
            # The turn's last position predicts each row's first rest token: sharable only while
            # that token is prompt (the user turn's marker), which it is unless a template differs.
            sharable = len(system) > 0 and len(rest) > 0 and rest_labels[0] == -100
            groups.setdefault(tuple(system.tolist()) if sharable else ("row", r), []).append(r)
        if len(groups) == len(rows):
            return None
        device = inputs["input_ids"].device
        pad = self.processing_class.pad_token_id if getattr(self.processing_class, "pad_token_id", None) is not None else 0
        sequences, segments, positions, targets = [], [], [], []
        for members in groups.values():
            system = rows[members[0]][0]
            sequence, segment, position, target = [system], [torch.full((len(system),), -1)], [torch.arange(len(system))], [torch.full((len(system),), -100)]
            for index, r in enumerate(members):
                _, rest, rest_labels = rows[r]
                sequence.append(rest)
                segment.append(torch.full((len(rest),), index))
                position.append(len(system) + torch.arange(len(rest)))
                target.append(torch.cat([rest_labels[1:].cpu(), torch.tensor([-100])]))
            sequences.append(torch.cat(sequence))
            segments.append(torch.cat(segment))
            positions.append(torch.cat(position))
            targets.append(torch.cat(target))
        ids = pad_sequence(sequences, batch_first=True, padding_value=pad)
        if ids.numel() >= inputs["input_ids"].numel():
            return None  # one long packed sequence can pad the rest past what sharing saved
        segment = pad_sequence(segments, batch_first=True, padding_value=-2)
        position = pad_sequence(positions, batch_first=True)
        target = pad_sequence(targets, batch_first=True, padding_value=-100)
        length = ids.size(1)
        causal = torch.ones(length, length, dtype=torch.bool).tril()
        query, key = segment[:, :, None], segment[:, None, :]
        # A token sees the system turn (segment -1) and its own row; padding (-2) sees only itself,
        # so no softmax row is empty.
        visible = causal & ((key == -1) & (query != -2) | (key == query))
        return ids.to(device), visible[:, None].to(device), position.to(device), target.to(device)

    def _hidden_after_frozen_system(self, model: Any, inputs: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """(hidden states that predict each next token, its label) for every row's user turn and
        answer, run on a no-grad KV cache of the row's system turn. A row without a system turn
        before its user turn (or a template we cannot read) keeps its whole prompt in the graph."""
        from transformers import DynamicCache

        from .shared_prompt import cache_kwarg

        ids = inputs["input_ids"]
        prefixes, suffixes, suffix_labels = map(list, zip(*self._split_rows(inputs)))
        pad = self.processing_class.pad_token_id if getattr(self.processing_class, "pad_token_id", None) is not None else 0
        prefix_ids, suffix_ids = pad_sequence(prefixes, batch_first=True, padding_value=pad), pad_sequence(suffixes, batch_first=True, padding_value=pad)
        prefix_mask = pad_sequence([torch.ones_like(p) for p in prefixes], batch_first=True)
        suffix_mask = pad_sequence([torch.ones_like(s) for s in suffixes], batch_first=True)
        positions = torch.stack([len(p) + torch.arange(suffix_ids.size(1), device=ids.device) for p in prefixes])
        decoder = model.get_decoder()
        kwarg = cache_kwarg(decoder)
        cache = DynamicCache(config=model.config)
        with self.accelerator.autocast():
            if prefix_ids.size(1):
                with torch.no_grad():
                    decoder(input_ids=prefix_ids, attention_mask=prefix_mask, use_cache=True, **{kwarg: cache})
            hidden = decoder(
                input_ids=suffix_ids,
                attention_mask=torch.cat([prefix_mask, suffix_mask], dim=1),
                position_ids=positions,
                use_cache=True,
                **{kwarg: cache},
            ).last_hidden_state
        return hidden[:, :-1], pad_sequence(suffix_labels, batch_first=True, padding_value=-100)[:, 1:]


def _last_index(seq: list[int], marker: list[int], before: int) -> int:
    """Where the last ``marker`` starting before ``before`` starts in ``seq``; 0 when there is none."""
    if not marker:
        return 0
    for start in range(min(before, len(seq) - len(marker)), -1, -1):
        if seq[start : start + len(marker)] == marker:
            return start
    return 0
