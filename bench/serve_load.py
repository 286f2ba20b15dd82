"""Throughput and latency of `tooltune serve` under concurrent clients: one request at a time
(`--max-batch 1`) against continuous batching (`--max-batch 16`), side by side in one run.

    .venv/bin/python bench/serve_load.py [--model smollm2-135m] [--clients 1,4,16] [--per-client 4] [--max-tokens 64] [--tools mixed,agent]

Loads the model once, then for each tool scenario, mode and client count starts the endpoint on
loopback and runs N threads with the official `openai` client, each sending --per-client requests
one after another (held-out rows of the generator: the user's request as the message, greedy).
Scenarios: `mixed`, each request offers its own row's tools (1-4 of them: every prompt differs);
`agent`, every request offers one agent's six tools (as an agent does: the same system turn each
time). Modes: one at a time (`--max-batch 1 --prefix-cache 0`, the old server) and batched (the
defaults: 16 rows, the last 8 system turns kept prefilled). Prints requests/s, completion tokens/s,
p50/p95 latency, failures and the mean rows per decoding step (`rows`), then per scenario the batched mode's
speed-up at the largest client count and its p95 against a lone request's. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

import openai
import uvicorn

from tooltune.data import read_records
from tooltune.data.generate import GenerateConfig, generate
from tooltune.models.load import load_model_and_tokenizer
from tooltune.runs import resolve_ref
from tooltune.serving.app import Engine, ServeConfig, create_app


def _scenario(kind: str, records: list, n: int) -> list[tuple[list, str]]:
    """(tools, request) pairs: each row's own tools, or one agent's six tools for every request."""
    as_openai = lambda tools: [{"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}} for t in tools]  # noqa: E731
    if kind == "mixed":
        return [(as_openai(r.tools), r.user_prompt) for r in records[:n]]
    agent = list({t.name: t for r in records for t in r.tools}.values())[:6]
    names = {t.name for t in agent}
    rows = [r for r in records if {t.name for t in r.tools} <= names]
    return [(as_openai(agent), r.user_prompt) for r in (rows * n)[:n]]


def _serve(engine: Engine, path: str) -> tuple[uvicorn.Server, threading.Thread, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = ServeConfig(model=path, served_name="bench", max_batch=engine.max_batch)
    server = uvicorn.Server(uvicorn.Config(create_app(config, engine), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, thread, port


def _load(engine: Engine, path: str, requests: list, clients: int, per_client: int, max_tokens: int) -> dict:
    server, thread, port = _serve(engine, path)
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", timeout=900, max_retries=0)
    lock = threading.Lock()
    latencies: list[float] = []
    tokens, failures = 0, 0

    def worker(k: int) -> None:
        nonlocal tokens, failures
        for i in range(per_client):
            tools, text = requests[(k * per_client + i) % len(requests)]
            started = time.perf_counter()
            try:
                reply = client.chat.completions.create(model="bench", messages=[{"role": "user", "content": text}], tools=tools,
                                                       max_tokens=max_tokens, temperature=0)
            except openai.OpenAIError as exc:
                with lock:
                    failures += 1
                print(f"failed: {exc}")
                continue
            with lock:
                latencies.append(time.perf_counter() - started)
                tokens += reply.usage.completion_tokens

    engine.batches.clear()
    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    server.should_exit = True
    thread.join()  # its shutdown cancels what the engine still holds: let it finish before the next run
    q = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else latencies * 19
    return {"rps": len(latencies) / wall, "tps": tokens / wall, "p50": statistics.median(latencies), "p95": q[18], "ok": len(latencies),
            "failed": failures, "batches": statistics.mean(engine.batches) if engine.batches else 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--clients", default="1,4,16", help="comma-separated client counts")
    parser.add_argument("--per-client", type=int, default=4, help="requests each client sends, one after another")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--max-batch", type=int, default=16, help="the batched mode's batch size")
    parser.add_argument("--prefix-cache", type=int, default=8, help="the batched mode's prefilled system turns (0: none)")
    parser.add_argument("--tools", default="mixed,agent", help="scenarios: mixed (each row's own tools), agent (one tool list for every request)")
    args = parser.parse_args()
    os.environ.setdefault("TOOLTUNE_HOME", str(Path.home() / ".tooltune"))
    counts = [int(c) for c in args.clients.split(",")]
    n = max(counts) * args.per_client
    records = read_records(generate(GenerateConfig(n=0, eval_n=max(300, n), seed=1), Path(tempfile.mkdtemp())).paths["eval"])
    path = resolve_ref(args.model).load_path()
    model, tokenizer = load_model_and_tokenizer(path, dtype="auto")
    model.eval()
    print(f"model {args.model}, {os.cpu_count()} cores, {args.per_client} requests per client, max_tokens {args.max_tokens}, greedy")
    print(f"{'tools':<7}{'mode':<14}{'clients':>8}{'req/s':>8}{'tok/s':>8}{'p50 s':>8}{'p95 s':>8}{'ok':>5}{'failed':>7}{'rows':>7}")
    results = {}
    summary = []
    for kind in args.tools.split(","):
        requests = _scenario(kind, records, n)
        for mode, max_batch, cached in (("one-at-a-time", 1, 0), ("batched", args.max_batch, args.prefix_cache)):
            engine = Engine(model, tokenizer, max_batch, prefix_cache=cached)
            for clients in counts:
                r = results[kind, mode, clients] = _load(engine, path, requests, clients, args.per_client, args.max_tokens)
                print(f"{kind:<7}{mode:<14}{clients:>8}{r['rps']:>8.2f}{r['tps']:>8.1f}{r['p50']:>8.2f}{r['p95']:>8.2f}{r['ok']:>5}{r['failed']:>7}{r['batches']:>7.1f}", flush=True)
        top, lone = max(counts), results[kind, "one-at-a-time", min(counts)]
        batched, old = results[kind, "batched", top], results[kind, "one-at-a-time", top]
        summary.append(f"{kind}: {top} clients: batched {batched['rps'] / old['rps']:.1f}x the requests/s of one at a time; batched p95 {batched['p95']:.2f} s = "
                       f"{batched['p95'] / lone['p50']:.1f}x a lone request's p50 ({lone['p50']:.2f} s), {batched['p95'] / lone['p95']:.1f}x its p95 ({lone['p95']:.2f} s)")
    print("\n".join(summary))


if __name__ == "__main__":
    main()
