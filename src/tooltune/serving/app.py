"""``tooltune serve``: an OpenAI-compatible endpoint (FastAPI + uvicorn) for one customized model.

    GET  /health                 liveness and the served model
    GET  /v1/models              the served model, under its name
    POST /v1/chat/completions    tools in, message.tool_calls out; SSE streaming for content

One model, one worker thread, dynamic batching: requests that arrive while a batch decodes go
into the next batch (up to ``max_batch`` rows; decoding a small model is memory-bound, so 16 rows
cost little more per token than one). A request whose client has gone stops at the next token (or
never starts), answers and prompts are capped, and shutdown cancels what runs. Every error is OpenAI's JSON shape with a 4xx status, never a
traceback.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import hmac
import json
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from jinja2.exceptions import TemplateError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..constrained import quote_sources
from ..inference import ANSWER_TOKENS, Completion, GenerationRequest, PrefixCache, Sampling, _rowwise, batch_key, complete_batch, prepare_grammar, rows_for
from .protocol import ChatRequest, answer_message, conversation, created, new_id

__all__ = ["ServeConfig", "Engine", "create_app"]


@dataclass
class ServeConfig:
    """How the endpoint runs."""

    model: str  # what to load: a folder, run, NAME@V (resolved by the caller), .gguf or bundled name
    served_name: str  # the name clients put in `model` (and /v1/models lists)
    api_key: str | None = None  # when set, every /v1 request needs `Authorization: Bearer <key>`
    max_tokens: int = ANSWER_TOKENS  # answer length when a request does not say: the recipe's longest answer fits
    max_tokens_limit: int = 2048  # the most a request may ask for (400 above): one request must not hold the model for minutes
    max_prompt_tokens: int = 8192  # longer conversations get 400 (the bundled models' context is 8k)
    max_request_bytes: int = 1_000_000  # bigger bodies get 413, chunked ones too: a chat request is kilobytes
    dtype: str = "auto"  # auto: bf16 weights where supported
    max_batch: int = 16  # requests decoded together (1: one at a time, the old mode bench/serve_load.py compares)
    prefix_cache: int = 8  # system turns (tool lists) whose keys and values are kept for the next request (0: none)
    read_values: bool = True  # values the model's check quotes ("7:15 pm") are read by code into the call (tooltune/reading.py); false: the model's own
    constrain_calls: bool = True  # tool calls are decoded within the request's tool schemas (tooltune/constrained.py); false: as the model writes them
    ground_quotes: bool = True  # with constrain_calls: the check keeps its trained form, quotes the conversation's own words, and the answer follows it (tooltune/constrained.py); false: a free check


@dataclass
class _Job:
    request: GenerationRequest
    done: threading.Event = field(default_factory=threading.Event)
    result: tuple[int, list[Completion]] = (0, [])
    error: BaseException | None = None
    completions: list[Completion] = field(default_factory=list)  # its rows' answers so far


class Engine:
    """The loaded model and one worker thread that generates for every request, up to ``max_batch``
    rows at once: a request joins the running batch at the next token and leaves it when its answer
    ends (continuous batching, batcher.py; ``max_batch=1`` answers one at a time). Models whose
    cache cannot be stacked row by row run static batches instead (:meth:`_serve_batches`)."""

    def __init__(self, model: Any, tokenizer: Any, max_batch: int = 16, prefix_cache: int = 8):
        if max_batch < 1:
            raise ValueError(f"max_batch must be 1 or more (1 answers one request at a time), not {max_batch}")
        self.model, self.tokenizer, self.max_batch = model, tokenizer, max_batch
        # An agent sends the same tool list with every request: its system turn is prefilled once.
        self.prompt_cache = PrefixCache(prefix_cache) if prefix_cache > 0 else None
        self.lock = threading.Lock()  # held while the model generates
        self.pending: set[threading.Event] = set()  # the cancel flags of requests waiting or running
        self._queue: list[_Job] = []
        self._wake = threading.Condition()
        self._worker: threading.Thread | None = None
        # Rows decoded at each recent step (static batches: each batch's size), for the tests and the
        # bench; bounded, as a server runs for weeks (one entry per token).
        self.batches: collections.deque[int] = collections.deque(maxlen=100_000)
        self.gather = 0.1 if max_batch > 1 else 0.0  # static batches: seconds a batch waits, right after the last one, for its clients' next requests
        self._last_end = 0.0
        # Threads that wait for answers (and pull streamed tokens): asyncio's default pool has
        # cpu_count + 4 of them, which on 2 cores let only ~5 requests queue and capped every batch.
        self.waiters = ThreadPoolExecutor(max_workers=max(64, 4 * max_batch), thread_name_prefix="tooltune-wait")

    @classmethod
    def load(cls, path: str, dtype: str = "auto", max_batch: int = 16, prefix_cache: int = 8) -> "Engine":
        from ..models.load import load_model_and_tokenizer

        model, tokenizer = load_model_and_tokenizer(path, dtype=dtype)
        model.eval()
        return cls(model, tokenizer, max_batch, prefix_cache)

    def run(self, messages: list[dict[str, str]], sampling: Sampling, stop: list[str] | None, streamer: Any = None,
            cancel: threading.Event | None = None, prefix: str = "", tools: list[Any] | None = None, parallel_calls: bool = True,
            quotes: list[str] | None = None) -> tuple[int, list[Completion]]:
        """Generate in the next batch that has room; ``cancel`` set while waiting skips the request
        (``(0, [])``), set while generating ends it at the next token. ``tools``: decode a call
        within their schemas (one call only, when not ``parallel_calls``); ``quotes``: the texts
        the check may quote (:func:`tooltune.constrained.quote_sources`)."""
        cancel = cancel or threading.Event()
        request = GenerationRequest(messages, sampling, stop, streamer, cancel, prefix, tools, parallel_calls, quotes)
        prepare_grammar(self.model, self.tokenizer, request)  # here, not in the decoding loop: the running rows go on meanwhile
        job = _Job(request)
        self.pending.add(cancel)
        try:
            with self._wake:
                if self._worker is None:
                    self._worker = threading.Thread(target=self._serve, name="tooltune-engine", daemon=True)
                    self._worker.start()
                self._queue.append(job)
                self._wake.notify()
            while not job.done.wait(timeout=0.1):
                if cancel.is_set():
                    with self._wake:
                        if job in self._queue:  # not started: leave now
                            self._queue.remove(job)
                            return 0, []
            if job.error is not None:
                raise job.error
            return job.result
        finally:
            self.pending.discard(cancel)

    def _next_batch(self) -> list[_Job]:
        with self._wake:
            while not self._queue:
                self._wake.wait()
            key = batch_key(self._queue[0].request.sampling)
            # Right after a batch, its clients are sending their next requests: give them `gather`
            # seconds to join this batch, else closed-loop clients settle into two alternating
            # half-size batches (measured: mean batch 8.0 of 16 at 16 clients).
            deadline = self._last_end + self.gather
            while sum(batch_key(j.request.sampling) == key for j in self._queue) < self.max_batch and (left := deadline - time.monotonic()) > 0:
                self._wake.wait(left)
            batch = [j for j in self._queue if batch_key(j.request.sampling) == key][: self.max_batch]
            for job in batch:
                self._queue.remove(job)
            return batch

    def _serve(self) -> None:
        if not _rowwise(self.model):
            return self._serve_batches()
        from .batcher import Batcher  # torch: imported where the model already is

        batcher = Batcher(self.model, self.tokenizer, self.prompt_cache)
        while True:
            with self._wake:
                while not self._queue and not len(batcher):
                    self._wake.wait()
            admitted: list[_Job] = []
            try:
                with self.lock:
                    admitted = self._admit(len(batcher))
                    if admitted:
                        batcher.join([(job.request, job) for job in admitted])
                    self.batches.append(len(batcher))
                    finished = batcher.step()
            except Exception as exc:  # noqa: BLE001 - each request in the batch raises it, the worker lives on
                failed = {id(job): job for job in [row.owner for row in batcher.abort()] + admitted}
                for job in failed.values():
                    job.error = exc
                    if job.request.streamer is not None:
                        job.request.streamer.end()
                    job.done.set()
                continue
            for row, completion in finished:
                job = row.owner
                job.completions.append(completion)
                if len(job.completions) == rows_for(job.request.sampling):
                    sampled = job.request.sampling.temperature > 0
                    job.result = (row.prompt_tokens, job.completions * (1 if sampled else job.request.sampling.samples))
                    job.done.set()

    def _admit(self, running: int) -> list[_Job]:
        """Waiting requests that fit beside ``running`` rows (one that needs more than ``max_batch``
        rows runs alone); cancelled ones are answered and dropped."""
        admitted: list[_Job] = []
        with self._wake:
            while self._queue:
                job = self._queue[0]
                rows = rows_for(job.request.sampling)
                if running + rows > self.max_batch and (running or admitted):
                    break
                self._queue.pop(0)
                if job.request.cancel.is_set():
                    job.done.set()  # cancelled while it waited: it answers (0, []) and costs nothing
                    continue
                admitted.append(job)
                running += rows
        return admitted

    def _serve_batches(self) -> None:
        """Static batches through generate(), for models whose cache cannot be stacked row by row
        (sliding-window layers, as in Gemma 3): a batch runs to its end before the next starts."""
        while True:
            batch = []
            for job in self._next_batch():
                if job.request.cancel.is_set():
                    job.done.set()
                else:
                    batch.append(job)
            if not batch:
                continue
            try:
                with self.lock:
                    self.batches.append(len(batch))
                    results = complete_batch(self.model, self.tokenizer, [j.request for j in batch], self.prompt_cache)
                for job, result in zip(batch, results):
                    job.result = result
            except Exception as exc:  # noqa: BLE001 - each waiting request raises it, the worker lives on
                for job in batch:
                    job.error = exc
            self._last_end = time.monotonic()
            for job in batch:
                if job.request.streamer is not None and job.error is not None:
                    job.request.streamer.end()
                job.done.set()

    def prompt_tokens(self, messages: list[dict[str, str]]) -> int:
        text = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def cancel_all(self) -> None:
        for event in list(self.pending):
            event.set()


class _BodyLimit:
    """Counts a request body's bytes as they arrive and stops at ``limit`` with a 413: a chunked body
    has no Content-Length for the guard to check. (FastAPI's own max_body_size answers in its shape,
    not OpenAI's.)"""

    def __init__(self, app: Any, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        seen = 0

        async def counted() -> Any:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise StarletteHTTPException(413, f"request body is over the limit of {self.limit} bytes")
            return message

        await self.app(scope, counted, send)


def _error(status: int, message: str, kind: str = "invalid_request_error", param: str | None = None, code: str | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"message": message, "type": kind, "param": param, "code": code}})


def create_app(config: ServeConfig, engine: Engine) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.cancel_all()  # shutting down: what still generates stops at its next token

    app = FastAPI(title="tooltune", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.add_middleware(_BodyLimit, limit=config.max_request_bytes)

    @app.middleware("http")
    async def guard(request: Request, call_next):  # noqa: ANN001 - starlette's signature
        if request.url.path.startswith("/v1"):
            scheme, _, key = request.headers.get("authorization", "").partition(" ")
            # The scheme is case-blind (RFC 9110); the key is compared in constant time.
            if config.api_key and not (scheme.lower() == "bearer" and hmac.compare_digest(key.strip().encode(), config.api_key.encode())):
                return _error(401, "missing or wrong API key: send `Authorization: Bearer <key>`", "authentication_error", code="invalid_api_key")
            length = request.headers.get("content-length")
            if length and length.isdigit() and int(length) > config.max_request_bytes:
                return _error(413, f"request body of {length} bytes is over the limit of {config.max_request_bytes}", code="request_too_large")
        try:
            return await call_next(request)
        except Exception as exc:  # noqa: BLE001 - the contract: a JSON error, never a traceback
            return _error(500, f"internal error: {type(exc).__name__}: {exc}", "server_error")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        if first.get("type") == "json_invalid":
            at = next((p for p in first.get("loc", ()) if isinstance(p, int)), None)
            reason = (first.get("ctx") or {}).get("error", "invalid JSON")
            return _error(400, f"the request body is not valid JSON ({reason}{f' at character {at}' if at is not None else ''})")
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return _error(400, f"{where or 'body'}: {first.get('msg', 'invalid request')}", param=where or None)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = "request_too_large" if exc.status_code == 413 else None
        return _error(exc.status_code, str(exc.detail), "invalid_request_error" if exc.status_code < 500 else "server_error", code=code)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "model": config.served_name}

    @app.get("/v1/models")
    async def list_models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": config.served_name, "object": "model", "created": 0, "owned_by": "tooltune"}]}

    @app.post("/v1/chat/completions")
    async def chat(request: ChatRequest, raw: Request):  # noqa: ANN201 - JSON or an SSE stream
        if request.model != config.served_name:
            return _error(404, f"model {request.model!r} is not served here; this endpoint serves {config.served_name!r}", param="model", code="model_not_found")
        limit = request.token_limit(config.max_tokens)
        if limit > config.max_tokens_limit:
            field = "max_completion_tokens" if request.max_completion_tokens else "max_tokens"
            return _error(400, f"{field}: {limit} is over this server's limit of {config.max_tokens_limit} tokens", param=field)
        messages = conversation(request)
        try:
            prompt = await asyncio.to_thread(engine.prompt_tokens, messages)
        except TemplateError as exc:  # the model's chat template refuses this conversation ("roles must alternate")
            return _error(400, f"messages: the model's chat template refuses this conversation: {exc}", param="messages")
        if prompt > config.max_prompt_tokens:
            return _error(400, f"messages: the conversation is {prompt} tokens, over this server's limit of {config.max_prompt_tokens}", param="messages", code="context_length_exceeded")
        sampling = Sampling(max_new_tokens=limit, temperature=request.temperature, top_p=request.top_p, samples=request.n,
                            seed=request.seed if request.seed is not None else secrets.randbits(48))  # no seed: a fresh draw each request, as OpenAI's
        if request.stream:
            if request.n != 1:
                return _error(400, "streaming supports n=1", param="n")
            return StreamingResponse(_stream(engine, config, request, messages, sampling), media_type="text/event-stream")
        cancel = threading.Event()
        tools, quotes = _grammar(config, request, messages)
        task = asyncio.ensure_future(_waiting(engine, engine.run, messages, sampling, request.stop, None, cancel, request.forced_prefix(),
                                                  tools, request.parallel_tool_calls, quotes))
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=0.25)
                if not task.done() and await raw.is_disconnected():
                    cancel.set()  # the client has gone: free the model at the next token
        except asyncio.CancelledError:
            cancel.set()  # the server is shutting down: stop generating too
            raise
        prompt_tokens, completions = await task
        if not completions:
            return _error(503, "the request was cancelled before it ran (the server is shutting down)", "server_error")
        choices = []
        for index, completion in enumerate(completions):
            message, finish = answer_message(completion.text, request.offered(), request.parallel_tool_calls, config.read_values, quote_sources(messages))
            choices.append({"index": index, "message": message, "finish_reason": finish if finish == "tool_calls" else completion.finish_reason})
        used = sum(c.tokens for c in completions)
        return {"id": new_id(), "object": "chat.completion", "created": created(), "model": config.served_name, "choices": choices,
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": used, "total_tokens": prompt_tokens + used}}

    return app


def _grammar(config: ServeConfig, request: ChatRequest, messages: list[dict[str, str]]) -> tuple[list[Any] | None, list[str] | None]:
    """(the tools whose schemas the answer's call is decoded within, the texts its check may quote),
    each None when the server leaves that free; quotes are held only with constrained calls."""
    offered = request.offered()
    tools = [t.tool() for t in offered] if config.constrain_calls and offered else None
    return tools, quote_sources(messages) if config.ground_quotes and tools else None


async def _stream(engine: Engine, config: ServeConfig, request: ChatRequest, messages: list[dict[str, str]], sampling: Sampling) -> AsyncIterator[str]:
    """SSE chunks. Content streams token by token; an answer that turns out to be a tool call is
    held back and sent whole as ``delta.tool_calls``, since a half call is of no use to a client."""
    from transformers import TextIteratorStreamer

    streamer = TextIteratorStreamer(engine.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=600)
    ident, stamp = new_id(), created()

    def chunk(delta: dict[str, Any], finish: str | None = None, usage: dict[str, int] | None = None) -> str:
        body: dict[str, Any] = {"id": ident, "object": "chat.completion.chunk", "created": stamp, "model": config.served_name,
                                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        if usage:
            body["usage"] = usage
        return f"data: {json.dumps(body)}\n\n"

    cancel = threading.Event()
    tools, quotes = _grammar(config, request, messages)

    def produce() -> tuple[int, list[Completion]]:
        try:
            return engine.run(messages, sampling, request.stop, streamer, cancel, request.forced_prefix(), tools, request.parallel_tool_calls, quotes)
        finally:
            # Unblock the reader below whatever happened (an error surfaces when the task is
            # awaited; a request cancelled before it ran generated nothing to end the stream).
            streamer.end()

    task = asyncio.ensure_future(_waiting(engine, produce))
    try:
        async for piece in _stream_chunks(task, streamer, request, chunk, engine, config.read_values, quote_sources(messages)):
            yield piece
    finally:
        cancel.set()  # a client that disconnects ends the stream here: stop generating too


def _waiting(engine: Engine, fn: Any, *args: Any) -> Any:
    """Run ``fn`` on one of the engine's waiting threads (not asyncio's small default pool)."""
    return asyncio.get_running_loop().run_in_executor(engine.waiters, functools.partial(fn, *args))


async def _stream_chunks(task: Any, streamer: Any, request: ChatRequest, chunk: Any, engine: Engine, read: bool, texts: list[str]) -> AsyncIterator[str]:
    yield chunk({"role": "assistant", "content": ""})
    held, sent = "", 0
    streaming: bool | None = False if request.forced_prefix() else None  # a forced call is never content
    iterator = iter(streamer)
    while True:
        piece = await _waiting(engine, next, iterator, None)
        if piece is None:
            break
        held += piece
        if streaming is None and held.strip():
            # Decide once the answer has begun: call markup or JSON may be a tool call, and "<" may
            # open a <think> segment; those are held back and sent whole at the end.
            streaming = held.lstrip()[:1] not in (("<", "[", "{", "`") if request.tools else ("<",))
        if streaming:
            text = _before_stop(held, request.stop)
            if len(text) > sent:
                yield chunk({"content": text[sent:]})
                sent = len(text)
    try:
        prompt_tokens, completions = await task
    except Exception as exc:  # noqa: BLE001 - the headers are sent: the error goes in the stream, as OpenAI's does, never a cut connection
        yield f"data: {json.dumps({'error': {'message': f'internal error: {type(exc).__name__}: {exc}', 'type': 'server_error', 'param': None, 'code': None}})}\n\n"
        yield "data: [DONE]\n\n"
        return
    if not completions:  # cancelled before it ran (shutdown)
        yield chunk({}, "stop")
        yield "data: [DONE]\n\n"
        return
    completion = completions[0]
    message, finish = answer_message(completion.text, request.offered(), request.parallel_tool_calls, read, texts)
    if finish == "tool_calls":
        calls = [{"index": i, **call} for i, call in enumerate(message["tool_calls"])]
        yield chunk({"tool_calls": calls})
    elif streaming:
        if sent < len(completion.text):
            yield chunk({"content": completion.text[sent:]})
    else:  # held back (it began like markup: a <think> segment, say) and turned out not to be a call
        yield chunk({k: v for k, v in message.items() if k in ("content", "reasoning_content")})
    usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion.tokens, "total_tokens": prompt_tokens + completion.tokens}
    yield chunk({}, finish if finish == "tool_calls" else completion.finish_reason, usage)
    yield "data: [DONE]\n\n"


def _before_stop(text: str, stop: list[str] | None) -> str:
    """Text safe to send: up to a stop string, and not the tail that might begin one."""
    for s in stop or []:
        at = text.find(s)
        if at >= 0:
            return text[:at]
    hold = max((len(s) - 1 for s in stop or []), default=0)
    return text[: len(text) - hold] if hold else text
