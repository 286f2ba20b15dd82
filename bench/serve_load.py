"""Throughput and latency of `tooltune serve` under concurrent clients.

    .venv/bin/python bench/serve_load.py [--model smollm2-135m] [--clients 4] [--requests 24] [--max-tokens 64]

Starts the endpoint on loopback in this process, then N threads with the official `openai`
client each send requests (held-out rows of the generator: tools in `tools=`, the user's request
as the message) until --requests are done. Prints requests/s, completion tokens/s, p50/p95
latency, and the count of failed requests (which should be 0). Asserts nothing.
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
from tooltune.serving.app import Engine, ServeConfig, create_app
from tooltune.runs import resolve_ref


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=24)
    parser.add_argument("--max-tokens", type=int, default=64)
    args = parser.parse_args()
    os.environ.setdefault("TOOLTUNE_HOME", str(Path.home() / ".tooltune"))
    records = read_records(generate(GenerateConfig(n=0, eval_n=args.requests, seed=1), Path(tempfile.mkdtemp()))["eval"])
    path = resolve_ref(args.model).load_path()
    engine = Engine.load(path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(ServeConfig(model=path, served_name="bench"), engine), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)

    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", timeout=600, max_retries=0)
    queue = list(records)
    lock = threading.Lock()
    latencies: list[float] = []
    tokens, failures, calls = 0, 0, 0

    def worker() -> None:
        nonlocal tokens, failures, calls
        while True:
            with lock:
                if not queue:
                    return
                record = queue.pop()
            tools = [{"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}} for t in record.tools]
            started = time.perf_counter()
            try:
                reply = client.chat.completions.create(model="bench", messages=[{"role": "user", "content": record.user_prompt}], tools=tools,
                                                       max_tokens=args.max_tokens, temperature=0)
            except openai.OpenAIError as exc:
                with lock:
                    failures += 1
                print(f"failed: {exc}")
                continue
            with lock:
                latencies.append(time.perf_counter() - started)
                tokens += reply.usage.completion_tokens
                calls += reply.choices[0].finish_reason == "tool_calls"

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    server.should_exit = True
    q = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else latencies * 19
    print(f"model {args.model}, {args.clients} concurrent clients, {len(latencies)} ok / {failures} failed requests, {os.cpu_count()} cores")
    print(f"throughput {len(latencies) / wall:.2f} requests/s, {tokens / wall:.1f} completion tokens/s; "
          f"latency p50 {statistics.median(latencies):.2f} s, p95 {q[18]:.2f} s; answers with tool calls: {calls}")


if __name__ == "__main__":
    main()
