"""Batched answer generation: the one path that evaluation, DPO rejection sampling and serving use.

Conversations are rendered with the model's own chat template (tools already live in the system
prompt, see :func:`tooltune.training.datasets.training_messages`), sorted by length so a batch
pads little, generated with left padding, and returned in the caller's order.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterator

__all__ = ["Sampling", "Completion", "GenerationRequest", "PrefixCache", "batch_key", "generate_answers", "complete", "complete_batch", "prepare_grammar", "request_grammars", "stop_token_ids", "progress_bar", "ANSWER_TOKENS"]

# Serving's default answer length: the longest answers the generator teaches (two calls with their
# <think> checks, each with dates and codes to convert) reach ~360 tokens, and a shorter budget cuts a
# right answer off. Evaluation and the validation reward budget each file by its own answers
# (training.datasets.answer_budget).
ANSWER_TOKENS = 384


@dataclass
class Sampling:
    """How to decode. ``temperature == 0`` means greedy (the evaluation default)."""

    max_new_tokens: int = 96  # a tool call with its arguments fits in ~60 tokens
    temperature: float = 0.0  # 0: greedy; > 0: sample
    top_p: float = 1.0  # nucleus sampling cut-off (only when sampling)
    samples: int = 1  # answers per conversation (> 1 needs temperature > 0 to differ)
    batch_size: int = 16  # conversations per generate() call; more is faster until memory runs out
    seed: int = 0  # sampling seed, so a rerun draws the same answers


def stop_token_ids(tokenizer: Any) -> list[int]:
    """End of text, and the end-of-turn token of the tokenizer's chat format (models/catalog.py)."""
    from .models.catalog import chat_format_of

    ids = {tokenizer.eos_token_id}
    chat = chat_format_of(tokenizer)
    if chat is not None:
        ids.add(tokenizer.convert_tokens_to_ids(chat.end_of_turn))
    return sorted(i for i in ids if i is not None)


@dataclass
class Completion:
    """One answer with what serving reports about it."""

    text: str
    tokens: int  # generated tokens, the end-of-turn token included
    finish_reason: str  # "stop" (end of turn or a stop string) or "length" (hit the token limit)


def _sampling_kwargs(sampling: Sampling, tokenizer: Any) -> dict[str, Any]:
    stops = stop_token_ids(tokenizer)
    kwargs: dict[str, Any] = {"do_sample": sampling.temperature > 0, "max_new_tokens": sampling.max_new_tokens, "num_return_sequences": sampling.samples,
                              "eos_token_id": stops, "pad_token_id": tokenizer.pad_token_id if tokenizer.pad_token_id is not None else stops[0]}
    if sampling.temperature > 0:
        kwargs.update(temperature=max(sampling.temperature, 1e-4), top_p=sampling.top_p, top_k=0)  # near 0 would overflow: greedy at most
    else:
        # The bundled generation config carries sampling defaults; greedy must not warn about them.
        kwargs.update(temperature=None, top_p=None, top_k=None)
    return kwargs


@dataclass
class GenerationRequest:
    """One conversation to answer inside a batch (:func:`complete_batch`)."""

    conversation: list[dict[str, str]]
    sampling: Sampling
    stop: list[str] | None = None  # strings that end the answer (cut off, not returned)
    streamer: Any = None  # a transformers streamer for this answer's tokens (needs samples == 1)
    cancel: Any = None  # a threading.Event: once set, this answer ends at the next token
    prefix: str = ""  # put in the model's mouth: the answer starts with it (how a server enforces tool_choice)
    tools: list[Any] | None = None  # the offered tools: a tool call is decoded within their schemas (tooltune/constrained.py); None: freely
    parallel_calls: bool = True  # with tools: false allows one call (OpenAI's parallel_tool_calls)
    quotes: list[str] | None = None  # with tools: the texts the <think> check may quote (constrained.quote_sources); None: any words
    grammar: Any = None  # with tools: the compiled answer grammar, when made ahead (prepare_grammar); None: compiled when the batch starts


def batch_key(sampling: Sampling) -> tuple[Any, ...]:
    """Requests with equal keys can share one generate() call: the same decoding rule and samples."""
    if sampling.temperature <= 0:
        return ("greedy",)
    return ("sample", sampling.temperature, sampling.top_p, sampling.samples)


def rows_for(sampling: Sampling) -> int:
    """Rows a request decodes as: ``samples`` when sampled, one when greedy (its answers are equal)."""
    return sampling.samples if sampling.temperature > 0 else 1


def stop_window(request: GenerationRequest) -> int:
    """Tokens to decode when looking for a stop string: enough to hold the longest one (a token is
    at least one character), so each step decodes a short tail, not the whole answer."""
    return max(map(len, request.stop)) + 8 if request.stop else 0


def hits_stop(request: GenerationRequest, tail: str, generated: int, window: int) -> bool:
    """Whether ``tail`` (the last ``window`` generated tokens, decoded) holds one of the request's
    stop strings; early on, the forced prefix counts as part of the answer."""
    return any(s in (request.prefix if generated <= window else "") + tail for s in request.stop or [])


def finish_answer(tokenizer: Any, request: GenerationRequest, kept: list[int], ended: bool) -> Completion:
    """The completion of ``kept`` tokens (the end-of-turn token included when ``ended``): the prefix
    put in the model's mouth, then the text, cut at the first stop string."""
    answer = request.prefix + tokenizer.decode(kept, skip_special_tokens=True)
    cut = min((answer.find(s) for s in request.stop or [] if s in answer), default=-1)
    return Completion(answer[:cut] if cut >= 0 else answer, len(kept), "stop" if ended or cut >= 0 else "length")


class _RowStops:
    """Per-row stopping for a batch: each row ends at its own token limit, stop strings or cancel
    flag, while the others go on (transformers pads a finished row until the batch ends)."""

    def __init__(self, requests: list[GenerationRequest], copies: int, prompt_tokens: int, tokenizer: Any):
        self.requests, self.copies, self.start, self.tokenizer = requests, copies, prompt_tokens, tokenizer
        self.windows = [stop_window(r) for r in requests]
        # The answer length at which each row was first found finished: its streamer takes no token
        # beyond it (transformers pads a finished row, and may stream a step before or after asking).
        self.done_at: list[int | None] = [None] * (len(requests) * copies)

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        generated = input_ids.shape[1] - self.start
        done = []
        for row in range(input_ids.shape[0]):
            request = self.requests[row // self.copies]
            ended = generated >= request.sampling.max_new_tokens or (request.cancel is not None and request.cancel.is_set())
            if not ended and request.stop:
                window = self.windows[row // self.copies]
                tail = self.tokenizer.decode(input_ids[row, max(self.start, input_ids.shape[1] - window) :], skip_special_tokens=True)
                ended = hits_stop(request, tail, generated, window)
            done.append(ended)
            if ended and self.done_at[row] is None:
                self.done_at[row] = generated
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


class _FanOut:
    """One streamer for a batched generate() that hands each row's tokens to that request's own
    streamer, and ends a row's stream as soon as the row is finished."""

    def __init__(self, requests: list[GenerationRequest], ends: set[int], stops: _RowStops):
        self.requests, self.ends, self.stops = requests, ends, stops
        self.finished = [r.streamer is None for r in requests]
        self.sent = [0] * len(requests)
        self.prompt_sent = False

    def put(self, value: Any) -> None:
        if not self.prompt_sent:  # the first put is the (padded) prompt batch: each streamer skips it
            self.prompt_sent = True
            for row, request in enumerate(self.requests):
                if request.streamer is not None:
                    request.streamer.put(value[row : row + 1])
            return
        for row, request in enumerate(self.requests):
            if self.finished[row]:
                continue
            limit = self.stops.done_at[row]
            if limit is not None and self.sent[row] >= limit:  # ended at its limit or a stop string: what follows is padding
                self._end(row)
                continue
            token = int(value[row])
            request.streamer.put(value[row : row + 1])
            self.sent[row] += 1
            if token in self.ends or (request.cancel is not None and request.cancel.is_set()):
                self._end(row)

    def _end(self, row: int) -> None:
        self.finished[row] = True
        self.requests[row].streamer.end()

    def end(self) -> None:
        for row in range(len(self.requests)):
            if not self.finished[row]:
                self._end(row)


@contextmanager
def _seeded(model: Any, seed: int) -> Iterator[None]:
    """Seeded for one call only: the caller's random stream (a training run's rollouts and
    shuffles, when a validation check runs mid-run) continues afterwards where it was."""
    import torch

    with torch.random.fork_rng(devices=[model.device] if model.device.type == "cuda" else []):
        torch.manual_seed(seed)
        yield


class PrefixCache:
    """Keys and values of recent system turns, so a request that starts with one is prefilled from
    where it ends. An agent sends its tool list with every request: the system turn is most of each
    prompt, and prefilling prompts, not decoding answers, is what a batch of 16 spends most of its
    time on (docs/serving.md). A few entries, the least recently used out first."""

    def __init__(self, size: int = 8):
        self.size = size  # system turns kept (SmolLM2-135M: ~23 KB per token, ~12 MB for 500 tokens)
        self._entries: OrderedDict[tuple[int, ...], list[tuple[Any, Any]]] = OrderedDict()
        self.hits = 0  # prompts that started from a cached system turn
        self.misses = 0  # prompts prefilled from their first token

    def lookup(self, ids: list[int]) -> tuple[int, list[tuple[Any, Any]] | None]:
        """The longest cached system turn that ``ids`` starts with (and leaves a token after)."""
        best = max((key for key in self._entries if len(key) < len(ids) and tuple(ids[: len(key)]) == key), key=len, default=None)
        if best is None:
            self.misses += 1
            return 0, None
        self.hits += 1
        self._entries.move_to_end(best)
        return len(best), self._entries[best]

    def store(self, key: tuple[int, ...], layers: list[tuple[Any, Any]]) -> None:
        if self.size < 1:
            return
        self._entries[key] = layers
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


def _rowwise(model: Any) -> bool:
    """Rows can be prefilled one by one and their caches stacked: every layer keeps the whole
    sequence (a sliding-window layer, as in Gemma 3, drops the start and would misalign)."""
    from transformers import DynamicCache

    return all(type(layer).__name__ == "DynamicLayer" for layer in DynamicCache(config=model.config).layers)


def _system_turn_tokens(tokenizer: Any, conversation: list[dict[str, Any]], ids: list[int]) -> int:
    """How many of ``ids`` render the conversation's system turn (0 when there is none or it does
    not tokenize as a prefix): the part worth caching for the next request."""
    if not conversation or conversation[0].get("role") != "system":
        return 0
    text = tokenizer.apply_chat_template(conversation[:1], tokenize=False)
    turn = tokenizer(text, add_special_tokens=False)["input_ids"]
    return len(turn) if len(turn) < len(ids) and ids[: len(turn)] == turn else 0


def _prefill(model: Any, tokenizer: Any, requests: list[GenerationRequest], rows: list[list[int]], prefixes: PrefixCache | None) -> tuple[Any, Any, Any]:
    """Every prompt but its last token, prefilled row by row (no padding: a batch's prompts differ
    by hundreds of tokens) from the longest cached system turn, then stacked left-padded into one
    cache. Returns (input ids, attention mask, cache) for generate(), which feeds the last tokens."""
    import torch
    from transformers import DynamicCache

    from .kv_cache import growing_cache
    from .training.shared_prompt import cache_kwarg

    kwarg = cache_kwarg(model)
    device = model.device
    width = max(len(ids) for ids in rows)
    per_row = []
    for request, ids in zip(requests, rows):
        start, cached = prefixes.lookup(ids) if prefixes is not None else (0, None)
        cache = DynamicCache(config=model.config)
        for index, (keys, values) in enumerate(cached or []):
            cache.update(keys, values, index)  # the next update concatenates: the entry is not changed
        if len(ids) - 1 > start:
            model(input_ids=torch.tensor([ids[start:-1]], device=device), use_cache=True, logits_to_keep=1, **{kwarg: cache})
        turn = _system_turn_tokens(tokenizer, request.conversation, ids) if prefixes is not None else 0
        if turn > start and turn <= len(ids) - 1:
            prefixes.store(tuple(ids[:turn]), [(layer.keys[:, :, :turn].clone(), layer.values[:, :, :turn].clone()) for layer in cache.layers])
        per_row.append([(layer.keys, layer.values) for layer in cache.layers])
    stacked = growing_cache(model.config)  # decoding writes each token in place (kv_cache.py)
    for index in range(len(per_row[0])):
        pad = lambda t: torch.nn.functional.pad(t, (0, 0, width - 1 - t.shape[2], 0))  # noqa: E731 - left, along the sequence
        stacked.update(torch.cat([pad(layers[index][0]) for layers in per_row]), torch.cat([pad(layers[index][1]) for layers in per_row]), index)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    input_ids = torch.tensor([[pad_id] * (width - len(ids)) + ids for ids in rows], device=device)
    mask = torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for ids in rows], device=device)
    return input_ids, mask, stacked


def complete_batch(model: Any, tokenizer: Any, requests: list[GenerationRequest], prefixes: PrefixCache | None = None) -> list[tuple[int, list[Completion]]]:
    """Answer several conversations in one generate() call: (prompt tokens, ``samples``
    completions) for each, in order. The requests must share :func:`batch_key`; each keeps its own
    token limit, stop strings, cancel flag, prefix and streamer. Decoding a small model is
    memory-bound, so a batch of 16 rows costs little more per token than one row. A sampled
    batch draws with the first request's seed: a seed reproduces an answer only when it runs alone.

    Prompts are prefilled one by one without padding, each from the longest system turn held in
    ``prefixes`` (a server keeps one), and decoded together; where that cannot be (several samples
    per request, a sliding-window model) the batch is prefilled together, left-padded.
    """
    import torch
    from transformers import StoppingCriteriaList

    from .kv_cache import growing_cache
    from .training.shared_prompt import cache_kwarg

    if len({batch_key(r.sampling) for r in requests}) != 1:
        raise ValueError("complete_batch needs requests with one decoding rule (see batch_key)")
    first = requests[0].sampling
    texts = [tokenizer.apply_chat_template(r.conversation, add_generation_prompt=True, tokenize=False) + r.prefix for r in requests]
    kwargs = _sampling_kwargs(replace(first, max_new_tokens=max(r.sampling.max_new_tokens for r in requests)), tokenizer)
    rows_per_request = kwargs["num_return_sequences"] = rows_for(first)  # greedy answers are all the same: decode once, copy below
    if rows_per_request == 1 and _rowwise(model):
        rows = [tokenizer(text, add_special_tokens=False)["input_ids"] for text in texts]
        with torch.inference_mode():
            input_ids, mask, cache = _prefill(model, tokenizer, requests, rows, prefixes)
        enc = {"input_ids": input_ids, "attention_mask": mask, cache_kwarg(model): cache}
        prompt_lengths = [len(ids) for ids in rows]
    else:
        previous_side, tokenizer.padding_side = tokenizer.padding_side, "left"
        try:
            enc = dict(tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device))
        finally:
            tokenizer.padding_side = previous_side
        enc[cache_kwarg(model)] = growing_cache(model.config)
        prompt_lengths = enc["attention_mask"].sum(dim=1).tolist()
    width = enc["input_ids"].shape[1]
    stops = _RowStops(requests, rows_per_request, width, tokenizer)
    kwargs["stopping_criteria"] = StoppingCriteriaList([stops])
    ends = set(kwargs["eos_token_id"])
    streamer = _FanOut(requests, ends, stops) if any(r.streamer is not None for r in requests) else None
    if streamer is not None and rows_per_request != 1:
        raise ValueError("streaming needs samples == 1")
    grammars = request_grammars(model, tokenizer, requests)
    constraint = _constraint(grammars, list(range(len(requests))), rows_per_request, width, [r.prefix for r in requests])
    with _seeded(model, first.seed), torch.inference_mode():
        generated = model.generate(**enc, **kwargs, **constraint, streamer=streamer)
    out = []
    for index, request in enumerate(requests):
        completions = []
        for row in generated[index * rows_per_request : (index + 1) * rows_per_request, width:].tolist():
            row = row[: request.sampling.max_new_tokens]
            ended = next((i for i, t in enumerate(row) if t in ends), None)
            completions.append(finish_answer(tokenizer, request, row[: ended + 1] if ended is not None else row, ended is not None))
        out.append((int(prompt_lengths[index]), completions * (request.sampling.samples if first.temperature <= 0 else 1)))
    return out


def complete(model: Any, tokenizer: Any, conversation: list[dict[str, str]], sampling: Sampling, stop: list[str] | None = None, streamer: Any = None,
             cancel: Any = None, prefix: str = "") -> tuple[int, list[Completion]]:
    """``sampling.samples`` completions of one conversation, cut at the first ``stop`` string
    (:func:`complete_batch` with one request).
    ``cancel`` (a ``threading.Event``) ends generation at the next token once set: a server sets it
    when the client has gone, so an abandoned request does not hold the model.

    Returns the prompt's token count and the completions. ``streamer`` (a transformers streamer)
    receives tokens as they are generated; it needs ``sampling.samples == 1``. ``prefix`` is put
    in the model's mouth: the answer starts with it and the model writes the rest (how a server
    enforces ``tool_choice``); each completion's text includes it.
    """
    return complete_batch(model, tokenizer, [GenerationRequest(conversation, sampling, stop, streamer, cancel, prefix)])[0]


def generate_answers(
    model: Any,
    tokenizer: Any,
    conversations: list[list[dict[str, str]]],
    sampling: Sampling | None = None,
    progress: Callable[[int, int], None] | None = None,
    tools: list[list[Any]] | None = None,
    ground_quotes: bool = False,
) -> list[list[str]]:
    """``sampling.samples`` answers for each conversation, in input order.

    ``progress(conversations_done, new_tokens)`` is called after each batch, so a caller can show
    a bar with tokens/s. ``tools`` (each conversation's offered tools) decodes every tool call
    within its tools' schemas (:mod:`tooltune.constrained`); None decodes freely. With tools,
    ``ground_quotes`` also holds the ``<think>`` check's quotes to the conversation's own words.
    """
    import torch

    from .constrained import quote_sources

    sampling = sampling or Sampling()
    grammars = _grammars(model, tokenizer, tools, len(conversations), quotes=[quote_sources(c) for c in conversations] if ground_quotes and tools else None)
    texts = [tokenizer.apply_chat_template(c, add_generation_prompt=True, tokenize=False) for c in conversations]
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out: list[list[str]] = [[] for _ in texts]
    kwargs = _sampling_kwargs(sampling, tokenizer)
    pad = kwargs["pad_token_id"]
    previous_side, tokenizer.padding_side = tokenizer.padding_side, "left"
    was_training = model.training
    model.eval()
    try:
        with _seeded(model, sampling.seed):
            for start in range(0, len(order), sampling.batch_size):
                batch = order[start : start + sampling.batch_size]
                enc = tokenizer([texts[i] for i in batch], return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
                constraint = _constraint(grammars, batch, sampling.samples, enc["input_ids"].shape[1])
                with torch.inference_mode():
                    generated = model.generate(**enc, **kwargs, **constraint)
                new = generated[:, enc["input_ids"].shape[1] :]
                answers = tokenizer.batch_decode(new, skip_special_tokens=True)
                for k, index in enumerate(batch):
                    out[index] = [a.strip() for a in answers[k * sampling.samples : (k + 1) * sampling.samples]]
                if progress:
                    progress(len(batch), int((new != pad).sum()))
    finally:
        tokenizer.padding_side = previous_side
        model.train(was_training)
    return out


def _grammars(model: Any, tokenizer: Any, tools: list[Any] | None, count: int, parallel: list[bool] | None = None,
              quotes: list[list[str] | None] | None = None) -> tuple[Any, list[Any]] | None:
    """(the grammar set, each conversation's compiled answer grammar) when ``tools`` asks for
    constrained calls; ``quotes``: each conversation's quotable texts (None: quotes are free)."""
    if tools is None:
        return None
    if len(tools) != count:
        raise ValueError(f"tools: {len(tools)} tool lists for {count} conversations; give one list per conversation")
    from .constrained import grammars_for

    grammars = grammars_for(model, tokenizer, stop_token_ids(tokenizer))
    return grammars, [grammars.compile(t, p, q) for t, p, q in zip(tools, parallel or [True] * count, quotes or [None] * count)]


def prepare_grammar(model: Any, tokenizer: Any, request: GenerationRequest) -> None:
    """Compile ``request``'s answer grammar now, when it offers tools (~70 ms with quotes). A server
    calls this in the request's own thread: XGrammar compiles without the GIL, so the decoding loop
    goes on meanwhile instead of stalling every running row while a joining request compiles."""
    if request.tools and request.grammar is None:
        from .constrained import grammars_for

        request.grammar = grammars_for(model, tokenizer, stop_token_ids(tokenizer)).compile(request.tools, request.parallel_calls, request.quotes)


def request_grammars(model: Any, tokenizer: Any, requests: list[GenerationRequest]) -> tuple[Any, list[Any]] | None:
    """(the grammar set, each request's compiled answer grammar or None) for a batch, compiling
    those not prepared ahead; None when no request offers tools."""
    if not any(r.tools for r in requests):
        return None
    from .constrained import grammars_for

    for request in requests:
        prepare_grammar(model, tokenizer, request)
    return grammars_for(model, tokenizer, stop_token_ids(tokenizer)), [r.grammar for r in requests]


def _constraint(grammars: tuple[Any, list[Any]] | None, batch: list[int], copies: int, width: int, prefixes: list[str] | None = None) -> dict[str, Any]:
    """generate()'s ``logits_processor`` that keeps each row of ``batch`` (``copies`` rows per
    conversation) in its grammar; nothing when no row has one."""
    if grammars is None or all(grammars[1][i] is None for i in batch):
        return {}
    from transformers import LogitsProcessorList

    from .constrained import CallConstraint

    rows = [grammars[1][i] for i in batch for _ in range(copies)]
    starts = [p for p in prefixes for _ in range(copies)] if prefixes else None
    return {"logits_processor": LogitsProcessorList([CallConstraint(rows, width, grammars[0].info.vocab_size, starts)])}


@contextmanager
def progress_bar(total: int, description: str) -> Iterator[Callable[[int, int], None]]:
    """A terminal bar over conversations that also shows generated tokens per second."""
    from tqdm.auto import tqdm

    started, tokens = time.perf_counter(), 0
    with tqdm(total=total, desc=description, unit="row") as bar:

        def advance(rows: int, new_tokens: int) -> None:
            nonlocal tokens
            tokens += new_tokens
            bar.set_postfix_str(f"{tokens / max(time.perf_counter() - started, 1e-9):.0f} tok/s")
            bar.update(rows)

        yield advance
