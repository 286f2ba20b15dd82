"""Batched answer generation: the one path that evaluation, DPO rejection sampling and serving use.

Conversations are rendered with the model's own chat template (tools already live in the system
prompt, see :func:`tooltune.training.datasets.training_messages`), sorted by length so a batch
pads little, generated with left padding, and returned in the caller's order.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

__all__ = ["Sampling", "Completion", "generate_answers", "complete", "stop_token_ids", "progress_bar", "ANSWER_TOKENS"]

# The token budget for scoring an answer (evaluation and the validation reward): a <think> check
# plus a call with its arguments reaches ~175 tokens at the tail; a shorter budget cuts those
# answers off and scores them as unparseable.
ANSWER_TOKENS = 160


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
        kwargs.update(temperature=sampling.temperature, top_p=sampling.top_p, top_k=0)
    else:
        # The bundled generation config carries sampling defaults; greedy must not warn about them.
        kwargs.update(temperature=None, top_p=None, top_k=None)
    return kwargs


def _cancelled(event: Any) -> Any:
    """transformers stopping criteria that end every row once ``event`` is set."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class Cancelled(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            return torch.full((input_ids.shape[0],), event.is_set(), dtype=torch.bool, device=input_ids.device)

    return StoppingCriteriaList([Cancelled()])


@contextmanager
def _seeded(model: Any, seed: int) -> Iterator[None]:
    """Seeded for one call only: the caller's random stream (a training run's rollouts and
    shuffles, when a validation check runs mid-run) continues afterwards where it was."""
    import torch

    with torch.random.fork_rng(devices=[model.device] if model.device.type == "cuda" else []):
        torch.manual_seed(seed)
        yield


def complete(model: Any, tokenizer: Any, conversation: list[dict[str, str]], sampling: Sampling, stop: list[str] | None = None, streamer: Any = None,
             cancel: Any = None, prefix: str = "") -> tuple[int, list[Completion]]:
    """``sampling.samples`` completions of one conversation, cut at the first ``stop`` string.
    ``cancel`` (a ``threading.Event``) ends generation at the next token once set: a server sets it
    when the client has gone, so an abandoned request does not hold the model.

    Returns the prompt's token count and the completions. ``streamer`` (a transformers streamer)
    receives tokens as they are generated; it needs ``sampling.samples == 1``. ``prefix`` is put
    in the model's mouth: the answer starts with it and the model writes the rest (how a server
    enforces ``tool_choice``); each completion's text includes it.
    """
    import torch

    text = tokenizer.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False) + prefix
    enc = tokenizer(text, return_tensors="pt", add_special_tokens=False).to(model.device)
    kwargs = _sampling_kwargs(sampling, tokenizer)
    copies = 1
    if sampling.temperature <= 0 and sampling.samples > 1:
        kwargs["num_return_sequences"], copies = 1, sampling.samples  # greedy answers are all the same: decode once
    if stop:
        kwargs.update(stop_strings=stop, tokenizer=tokenizer)
    if cancel is not None:
        kwargs["stopping_criteria"] = _cancelled(cancel)
    with _seeded(model, sampling.seed), torch.inference_mode():
        generated = model.generate(**enc, **kwargs, streamer=streamer)
    prompt_tokens = enc["input_ids"].shape[1]
    ends = set(kwargs["eos_token_id"])
    out = []
    for row in generated[:, prompt_tokens:].tolist():
        ended = next((i for i, t in enumerate(row) if t in ends), None)
        kept = row[: ended + 1] if ended is not None else row
        answer = prefix + tokenizer.decode(kept, skip_special_tokens=True)
        cut = min((answer.find(s) for s in stop or [] if s in answer), default=-1)
        finish = "stop" if ended is not None or cut >= 0 else "length"
        out.append(Completion(answer[:cut] if cut >= 0 else answer, len(kept), finish))
    return prompt_tokens, out * copies


def generate_answers(
    model: Any,
    tokenizer: Any,
    conversations: list[list[dict[str, str]]],
    sampling: Sampling | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[list[str]]:
    """``sampling.samples`` answers for each conversation, in input order.

    ``progress(conversations_done, new_tokens)`` is called after each batch, so a caller can show
    a bar with tokens/s.
    """
    import torch

    sampling = sampling or Sampling()
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
                with torch.inference_mode():
                    generated = model.generate(**enc, **kwargs)
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
