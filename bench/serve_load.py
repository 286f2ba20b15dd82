"""Throughput and latency of `tooltune serve` under concurrent clients: one request at a time
(`--max-batch 1`) against dynamic batching (`--max-batch 16`), side by side in one run.

    .venv/bin/python bench/serve_load.py [--model smollm2-135m] [--clients 1,4,16] [--per-client 4] [--max-tokens 64]

Loads the model once, then for each mode and client count starts the endpoint on loopback and
runs N threads with the official `openai` client, each sending --per-client requests one after
another (held-out rows of the generator: tools in `tools=`, the user's request as the message,
greedy). Prints requests/s, completion tokens/s, p50/p95 latency, failures and the batch sizes the
engine ran, then the batched mode's speed-up at the largest client count and its p95 against a
lone request's latency. Asserts nothing.
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


def _load(engine: Engine, path: str, records: list, clients: int, per_client: int, max_tokens: int) -> dict:
    server, thread, port = _serve(engine, path)
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", timeout=900, max_retries=0)
    lock = threading.Lock()
    latencies: list[float] = []
    tokens, failures = 0, 0

    def worker(k: int) -> None:
        nonlocal tokens, failures
        for i in range(per_client):
            record = records[(k * per_client + i) % len(records)]
            tools = [{"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}} for t in record.tools]
            started = time.perf_counter()
            try:
                reply = client.chat.completions.create(model="bench", messages=[{"role": "user", "content": record.user_prompt}], tools=tools,
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
    args = parser.parse_args()
    os.environ.setdefault("TOOLTUNE_HOME", str(Path.home() / ".tooltune"))
    counts = [int(c) for c in args.clients.split(",")]
    records = read_records(generate(GenerateConfig(n=0, eval_n=max(counts) * args.per_client, seed=1), Path(tempfile.mkdtemp())).paths["eval"])
    path = resolve_ref(args.model).load_path()
    model, tokenizer = load_model_and_tokenizer(path, dtype="auto")
    model.eval()
    print(f"model {args.model}, {os.cpu_count()} cores, {args.per_client} requests per client, max_tokens {args.max_tokens}, greedy")
    print(f"{'mode':<14}{'clients':>8}{'req/s':>8}{'tok/s':>8}{'p50 s':>8}{'p95 s':>8}{'ok':>5}{'failed':>7}{'batch':>7}")
    results = {}
    for mode, max_batch in (("one-at-a-time", 1), ("batched", args.max_batch)):
        engine = Engine(model, tokenizer, max_batch)
        for clients in counts:
            r = results[mode, clients] = _load(engine, path, records, clients, args.per_client, args.max_tokens)
            print(f"{mode:<14}{clients:>8}{r['rps']:>8.2f}{r['tps']:>8.1f}{r['p50']:>8.2f}{r['p95']:>8.2f}{r['ok']:>5}{r['failed']:>7}{r['batches']:>7.1f}", flush=True)
    top, lone = max(counts), results["one-at-a-time", min(counts)]["p50"]
    print(f"{top} clients: batched {results['batched', top]['rps'] / results['one-at-a-time', top]['rps']:.1f}x the requests/s of one at a time; "
          f"batched p95 {results['batched', top]['p95']:.2f} s = {results['batched', top]['p95'] / lone:.1f}x a lone request's {lone:.2f} s")


if __name__ == "__main__":
    main()
