"""The endpoint on loopback, driven by the official `openai` client."""

import json
import socket
import threading
import time

import requests
import openai
import pytest
import uvicorn

from tooltune.inference import Completion
from tooltune.serving.app import Engine, ServeConfig, create_app

STOCK_TOOL = {"type": "function", "function": {"name": "get_stock_price", "description": "Latest price of a stock.",
              "parameters": {"type": "object", "properties": {"ticker": {"type": "string"}}, "required": ["ticker"]}}}
CALL = '<TOOLCALL>[{"name": "get_stock_price", "arguments": {"ticker": "AMZN"}}]</TOOLCALL>'


class ScriptedEngine(Engine):
    """Answers with a fixed text and records what the model would have been shown."""

    def __init__(self, tokenizer, answer):
        super().__init__(model=None, tokenizer=tokenizer)
        self.answer, self.seen = answer, []

    def run(self, messages, sampling, stop, streamer=None, cancel=None, prefix="", tools=None, parallel_calls=True, quotes=None):
        with self.lock:
            self.seen.append(messages)
            self.prefixes = getattr(self, "prefixes", []) + [prefix]
            self.tools = getattr(self, "tools", []) + [tools]
            self.quotes = getattr(self, "quotes", []) + [quotes]
            if streamer is not None:
                streamer.put(__import__("torch").tensor([self.tokenizer.encode(self.answer, add_special_tokens=False)]))
                streamer.end()
            return 12, [Completion(self.answer, 7, "stop") for _ in range(sampling.samples)]


def _serve(app):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


@pytest.fixture
def endpoint(tiny_model):
    from tooltune.models.load import load_model_and_tokenizer

    servers = []

    def start(answer=None, api_key=None, read_values=True, constrain_calls=True, ground_quotes=True):
        engine = Engine.load(tiny_model, dtype="float32") if answer is None else ScriptedEngine(load_model_and_tokenizer(tiny_model)[1], answer)
        server, url = _serve(create_app(ServeConfig(model=tiny_model, served_name="bot@2", api_key=api_key, read_values=read_values,
                                                    constrain_calls=constrain_calls, ground_quotes=ground_quotes), engine))
        servers.append(server)
        return engine, url

    yield start
    for server in servers:
        server.should_exit = True


def test_a_tool_call_round_trip(endpoint):
    engine, url = endpoint(answer=CALL)
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused")
    reply = client.chat.completions.create(model="bot@2", messages=[{"role": "user", "content": "What's the stock price of AMZN?"}], tools=[STOCK_TOOL])
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    call = choice.message.tool_calls[0]
    assert call.id.startswith("call_") and call.function.name == "get_stock_price" and json.loads(call.function.arguments) == {"ticker": "AMZN"}
    assert reply.usage.prompt_tokens == 12 and reply.usage.completion_tokens == 7 and reply.usage.total_tokens == 19
    # the tools reached the model the way training showed them: in the system prompt
    system = engine.seen[0][0]
    assert system["role"] == "system" and '"name":"get_stock_price"' in system["content"].replace(" ", "")

    # the call and its result go back in the next turn: the call in <TOOLCALL> form
    history = [{"role": "user", "content": "What's the stock price of AMZN?"}, choice.message.model_dump(exclude_none=True),
               {"role": "tool", "tool_call_id": call.id, "content": "184.2"}]
    client.chat.completions.create(model="bot@2", messages=history, tools=[STOCK_TOOL])
    assert engine.seen[1][2] == {"role": "assistant", "content": CALL} and engine.seen[1][3]["role"] == "tool"


def test_streams_content_and_a_tool_call(endpoint):
    _, url = endpoint(answer="Which ticker do you mean?")
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused")
    chunks = list(client.chat.completions.create(model="bot@2", messages=[{"role": "user", "content": "price?"}], tools=[STOCK_TOOL], stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Which ticker do you mean?" and chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].usage.completion_tokens == 7

    _, url = endpoint(answer=CALL)
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused")
    chunks = list(client.chat.completions.create(model="bot@2", messages=[{"role": "user", "content": "AMZN?"}], tools=[STOCK_TOOL], stream=True))
    calls = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    assert len(calls) == 1 and calls[0].function.name == "get_stock_price"
    assert not "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)  # the call was not streamed as text
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_a_real_model_answers_streams_and_honours_limits(endpoint):
    _, url = endpoint()
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused")
    reply = client.chat.completions.create(model="bot@2", messages=[{"role": "user", "content": "hi"}], max_tokens=5, temperature=0, n=2)
    assert len(reply.choices) == 2 and reply.usage.completion_tokens <= 10
    assert reply.choices[0].message.content == reply.choices[1].message.content  # greedy
    streamed = list(client.chat.completions.create(model="bot@2", messages=[{"role": "user", "content": "hi"}], max_tokens=5, temperature=0, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == reply.choices[0].message.content
    models = client.models.list()
    assert [m.id for m in models.data] == ["bot@2"]


def test_errors_are_openai_shaped(endpoint):
    _, url = endpoint(answer="ok", api_key="secret")
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="secret")
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{url}/v1", api_key="wrong").chat.completions.create(model="bot@2", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.NotFoundError, match="not served here"):
        client.chat.completions.create(model="other", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.BadRequestError, match="messages"):
        client.chat.completions.create(model="bot@2", messages=[{"role": "wizard", "content": "hi"}])
    with pytest.raises(openai.BadRequestError, match="name"):
        client.chat.completions.create(model="bot@2", messages=[{"role": "user", "content": "hi"}], tools=[{"type": "function", "function": {"description": "no name"}}])
    headers = {"Authorization": "Bearer secret"}
    big = requests.post(f"{url}/v1/chat/completions", data=b"x" * 2_000_000, headers={**headers, "content-type": "application/json"})
    assert big.status_code == 413 and big.json()["error"]["code"] == "request_too_large"
    chunked = requests.post(f"{url}/v1/chat/completions", data=iter([b"x" * 500_000] * 4), headers={**headers, "content-type": "application/json"})
    assert chunked.status_code == 413 and "error" in chunked.json()  # no Content-Length: counted as it arrives
    broken = requests.post(f"{url}/v1/chat/completions", data=b"{not json", headers={**headers, "content-type": "application/json"})
    assert broken.status_code == 400 and "not valid JSON" in broken.json()["error"]["message"] and broken.json()["error"]["param"] is None
    hi = {"model": "bot@2", "messages": [{"role": "user", "content": "hi"}]}
    for seed in ("abc", 1e23, -1):
        bad = requests.post(f"{url}/v1/chat/completions", json={**hi, "seed": seed}, headers=headers)
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "seed", seed
    assert requests.post(f"{url}/v1/chat/completions", json={**hi, "seed": 7}, headers=headers).status_code == 200
    assert requests.post(f"{url}/v1/chat/completions", json={**hi, "logprobs": False, "response_format": {"type": "text"}}, headers={"Authorization": "bearer secret"}).status_code == 200
    huge = requests.post(f"{url}/v1/chat/completions", json={**hi, "max_tokens": 10**9}, headers=headers)
    assert huge.status_code == 400 and huge.json()["error"]["param"] == "max_tokens" and "limit of 2048" in huge.json()["error"]["message"]
    long = requests.post(f"{url}/v1/chat/completions", json={**hi, "messages": [{"role": "user", "content": "word " * 9000}]}, headers=headers)
    assert long.status_code == 400 and long.json()["error"]["code"] == "context_length_exceeded"
    assert requests.get(f"{url}/health").json()["status"] == "ok"  # health needs no key
    # found by a hostile probe: each of these was a 200 (or a 500) before
    stock = {"type": "function", "function": {**STOCK_TOOL["function"]}}
    cases = {
        "messages.0": {**hi, "messages": [{"role": "user", "content": "a\ud800b"}]},  # a lone surrogate cannot be tokenized
        "tools.0.function.parameters": {**hi, "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "banana"}}}]},
        "tools": {**hi, "tools": [STOCK_TOOL, stock]},  # one name twice
        "messages": {**hi, "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://x/cat.png"}}]}]},
        "logprobs": {**hi, "logprobs": True},
        "response_format": {**hi, "response_format": {"type": "json_object"}},
    }
    for where, body in cases.items():
        bad = requests.post(f"{url}/v1/chat/completions", data=json.dumps(body), headers={**headers, "content-type": "application/json"})
        assert bad.status_code == 400 and where in (bad.json()["error"]["param"] or "") + bad.json()["error"]["message"], (where, bad.text)
    for schema in ({"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "properties": {"p": {"type": "array", "items": [{"type": "number"}]}}},
                   {"type": "object", "properties": {"p": {"type": "string", "pattern": "^\\p{L}+$"}}}):  # a draft-07 tuple; an ECMA-262 pattern Python's re lacks
        ok = requests.post(f"{url}/v1/chat/completions", json={**hi, "tools": [{"type": "function", "function": {"name": "f", "parameters": schema}}]}, headers=headers)
        assert ok.status_code == 200, (schema, ok.text)
    for schema in ({"properties": "x"}, {"required": "a"}, {"type": "object", "properties": {"a": {"enum": "x"}}}):
        bad = requests.post(f"{url}/v1/chat/completions", json={**hi, "tools": [{"type": "function", "function": {"name": "f", "parameters": schema}}]}, headers=headers)
        assert bad.status_code == 400, schema


def test_concurrent_requests_queue_on_one_model(endpoint):
    engine, url = endpoint(answer="ok")
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused")
    results = []
    threads = [threading.Thread(target=lambda: results.append(client.chat.completions.create(model="bot@2", messages=[{"role": "user", "content": "hi"}]))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 6 and all(r.choices[0].message.content == "ok" for r in results) and len(engine.seen) == 6


def test_a_think_segment_goes_to_reasoning_content(endpoint):
    _, url = endpoint(answer="<think>Tool: get_stock_price. Required: ticker = missing.</think>Which ticker do you mean?")
    for stream in (False, True):
        reply = requests.post(f"{url}/v1/chat/completions", json={"model": "bot@2", "messages": [{"role": "user", "content": "price?"}], "tools": [STOCK_TOOL], "stream": stream})
        if stream:
            deltas = [json.loads(line[6:])["choices"][0]["delta"] for line in reply.text.splitlines() if line.startswith("data: {")]
            content = "".join(d.get("content") or "" for d in deltas)
            reasoning = "".join(d.get("reasoning_content") or "" for d in deltas)
        else:
            message = reply.json()["choices"][0]["message"]
            content, reasoning = message["content"], message["reasoning_content"]
        assert content == "Which ticker do you mean?" and reasoning == "Tool: get_stock_price. Required: ticker = missing."



def test_values_the_check_quotes_are_read_into_the_served_call(endpoint):
    park = {"type": "function", "function": {"name": "find_parking_spot", "parameters": {"type": "object", "properties": {
        "location": {"type": "string"}, "arrival_time": {"type": "string", "description": "HH:MM, 24-hour"}}, "required": ["location"]}}}
    answer = ('<think>Tool: find_parking_spot. Required: location = "Fenway". Optional: arrival_time = "7:15 pm" -> "17:15".</think>'
              '<TOOLCALL>[{"name": "find_parking_spot", "arguments": {"location": "Fenway", "arrival_time": "17:15"}}]</TOOLCALL>')
    body = {"model": "bot@2", "messages": [{"role": "user", "content": "parking at Fenway, 7:15 pm"}], "tools": [park]}
    for read, expected in ((True, "19:15"), (False, "17:15")):
        _, url = endpoint(answer=answer, read_values=read)
        for stream in (False, True):
            reply = requests.post(f"{url}/v1/chat/completions", json={**body, "stream": stream})
            if stream:
                deltas = [json.loads(line[6:])["choices"][0]["delta"] for line in reply.text.splitlines() if line.startswith("data: {")]
                call = next(d["tool_calls"][0] for d in deltas if d.get("tool_calls"))
            else:
                call = reply.json()["choices"][0]["message"]["tool_calls"][0]
            assert json.loads(call["function"]["arguments"])["arrival_time"] == expected, (read, stream)


def test_a_cancelled_request_frees_the_model_within_a_second(tiny_model):
    """What a disconnected client (or shutdown) does: the running generation stops at its next token,
    and a request still waiting for room in the batch never starts."""
    from tooltune.inference import Sampling

    engine = Engine.load(tiny_model, dtype="float32", max_batch=1)  # one row: the second request waits
    messages = [{"role": "user", "content": "hi"}]
    long = Sampling(max_new_tokens=2000, temperature=1.0)  # a random tiny model rarely stops by itself
    running, waiting = threading.Event(), threading.Event()
    results = {}
    first = threading.Thread(target=lambda: results.setdefault("first", engine.run(messages, long, None, cancel=running)))
    first.start()
    time.sleep(0.5)
    second = threading.Thread(target=lambda: results.setdefault("second", engine.run(messages, long, None, cancel=waiting)))
    second.start()
    time.sleep(0.2)
    waiting.set()
    second.join(timeout=1)
    assert not second.is_alive() and results["second"] == (0, [])  # skipped while the model was busy
    started = time.perf_counter()
    running.set()
    first.join(timeout=5)
    assert not first.is_alive() and time.perf_counter() - started < 1.0
    assert results["first"][1][0].tokens < 2000 and not engine.lock.locked()


def test_a_batch_answers_each_request_as_it_would_alone(tiny_model):
    """Rows of one batch keep their own token limit, stop strings and stream."""
    from transformers import TextIteratorStreamer

    from tooltune.inference import GenerationRequest, Sampling, complete, complete_batch
    from tooltune.models.load import load_model_and_tokenizer

    model, tokenizer = load_model_and_tokenizer(tiny_model, dtype="float32")
    conversations = [[{"role": "user", "content": text}] for text in ("hi", "what is the weather in Paris tomorrow afternoon, roughly?", "AMZN?")]
    limits = [3, 12, 6]
    alone = [complete(model, tokenizer, c, Sampling(max_new_tokens=n, temperature=0)) for c, n in zip(conversations, limits)]
    assert [len(a[1][0].text) > 0 for a in alone] == [True] * 3 and [a[1][0].tokens for a in alone] == limits  # a random model rarely ends by itself
    together = complete_batch(model, tokenizer, [GenerationRequest(c, Sampling(max_new_tokens=n, temperature=0)) for c, n in zip(conversations, limits)])
    assert together == alone
    stop = alone[1][1][0].text[3:6]
    streamers = [TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=60) for _ in conversations]
    requests_ = [GenerationRequest(c, Sampling(max_new_tokens=n, temperature=0), stop=[stop] if i == 1 else None, streamer=streamers[i])
                 for i, (c, n) in enumerate(zip(conversations, limits))]
    streamed = [[] for _ in conversations]
    readers = [threading.Thread(target=lambda i=i: streamed[i].extend(streamers[i])) for i in range(3)]
    for r in readers:
        r.start()
    cut = complete_batch(model, tokenizer, requests_)
    for r in readers:
        r.join(timeout=10)
    assert cut[1][1][0].text == alone[1][1][0].text[: alone[1][1][0].text.find(stop)] and cut[1][1][0].finish_reason == "stop"
    assert cut[0] == alone[0] and cut[2] == alone[2]
    assert ["".join(streamed[i]) for i in (0, 2)] == [alone[i][1][0].text for i in (0, 2)]


def test_concurrent_requests_are_decoded_together(tiny_model):
    from tooltune.inference import Sampling, complete

    engine = Engine.load(tiny_model, dtype="float32", max_batch=4)
    greedy = Sampling(max_new_tokens=5, temperature=0)
    conversations = [[{"role": "user", "content": f"question number {i}" + " more" * i}] for i in range(6)]
    results = {}
    with engine.lock:  # the model is busy: the requests queue up behind it
        threads = [threading.Thread(target=lambda i=i: results.setdefault(i, engine.run(conversations[i], greedy, None))) for i in range(6)]
        for t in threads:
            t.start()
            time.sleep(0.05)
        time.sleep(0.3)
    for t in threads:
        t.join(timeout=30)
    assert max(engine.batches) == 4 and engine.batches[0] == 4  # rows per step: at most max_batch at once
    assert all(results[i] == complete(engine.model, engine.tokenizer, conversations[i], greedy) for i in range(6))


def test_a_request_joins_the_running_batch_and_leaves_when_it_ends(tiny_model):
    """Continuous batching: a short request that arrives while a long one decodes is answered before
    the long one ends, and its answer is the one it gets alone."""
    from tooltune.inference import Sampling, complete

    engine = Engine.load(tiny_model, dtype="float32", max_batch=4)
    long = Sampling(max_new_tokens=600, temperature=1.0, seed=3)  # a random tiny model rarely stops by itself
    short = Sampling(max_new_tokens=6, temperature=0)
    question = [{"role": "user", "content": "a short question"}]
    results, cancel = {}, threading.Event()
    running = threading.Thread(target=lambda: results.setdefault("long", engine.run([{"role": "user", "content": "hi"}], long, None, cancel=cancel)))
    running.start()
    while not engine.batches:
        time.sleep(0.01)
    results["short"] = engine.run(question, short, None)
    assert running.is_alive() and 2 in engine.batches  # it joined the batch and left it while the long answer went on
    cancel.set()
    running.join(timeout=5)
    assert results["short"] == complete(engine.model, engine.tokenizer, question, short)


def test_tool_choice_is_enforced_and_parallel_calls_can_be_limited(endpoint):
    """tool_choice puts the call's opening in the model's mouth; parallel_tool_calls=false keeps one call."""
    two = '<TOOLCALL>[{"name": "get_stock_price", "arguments": {"ticker": "AMZN"}}, {"name": "get_stock_price", "arguments": {"ticker": "MSFT"}}]</TOOLCALL>'
    engine, url = endpoint(answer=two)
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused")
    ask = dict(model="bot@2", messages=[{"role": "user", "content": "AMZN and MSFT?"}], tools=[STOCK_TOOL])
    both = client.chat.completions.create(**ask)
    assert [json.loads(c.function.arguments)["ticker"] for c in both.choices[0].message.tool_calls] == ["AMZN", "MSFT"]
    one = client.chat.completions.create(**ask, parallel_tool_calls=False)
    assert len(one.choices[0].message.tool_calls) == 1
    client.chat.completions.create(**ask, tool_choice="required")
    client.chat.completions.create(**ask, tool_choice={"type": "function", "function": {"name": "get_stock_price"}})
    assert engine.prefixes[-2:] == ["<TOOLCALL>[", '<TOOLCALL>[{"name": "get_stock_price", "arguments": ']
    assert [t.name for t in engine.tools[-1]] == ["get_stock_price"]  # the call is decoded within the offered tools' schemas
    none = client.chat.completions.create(**ask, tool_choice="none")
    assert none.choices[0].finish_reason == "stop" and none.choices[0].message.tool_calls is None  # no tools offered, none parsed
    assert "get_stock_price" not in engine.seen[-1][0]["content"] and engine.tools[-1] is None
    for bad in ({"type": "function", "function": {"name": "nope"}}, "sometimes"):
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(**ask, tool_choice=bad)


def test_a_served_call_fits_its_schema_unless_the_server_frees_it(endpoint, monkeypatch):
    """A random model forced to make one call writes a valid one under the grammar, compiled in the
    request's thread rather than the decoding loop's; --free-calls hands it no tools."""
    from tooltune.constrained import CallGrammars

    compiled_in, compile = [], CallGrammars.compile
    monkeypatch.setattr(CallGrammars, "compile", lambda self, *a, **k: compiled_in.append(threading.current_thread().name) or compile(self, *a, **k))
    tool = {"type": "function", "function": {"name": "set_mode", "parameters": {
        "type": "object", "properties": {"mode": {"type": "string", "enum": ["eco", "boost"]}, "lights": {"type": "boolean"}}, "required": ["mode", "lights"]}}}
    ask = dict(model="bot@2", messages=[{"role": "user", "content": "eco mode, lights on"}], tools=[tool], tool_choice="required", parallel_tool_calls=False, max_tokens=60)
    _, url = endpoint()
    reply = openai.OpenAI(base_url=f"{url}/v1", api_key="unused").chat.completions.create(**ask)
    call = reply.choices[0].message.tool_calls[0]
    assert call.function.name == "set_mode" and json.loads(call.function.arguments)["mode"] in ("eco", "boost")
    assert compiled_in and "tooltune-engine" not in compiled_in
    engine, url = endpoint(answer=CALL)
    openai.OpenAI(base_url=f"{url}/v1", api_key="unused").chat.completions.create(**ask)
    assert engine.quotes == [["eco mode, lights on"]]  # the check may quote the user's words only
    engine, url = endpoint(answer=CALL, ground_quotes=False)
    openai.OpenAI(base_url=f"{url}/v1", api_key="unused").chat.completions.create(**ask)
    assert engine.tools[0] and engine.quotes == [None]
    engine, url = endpoint(answer=CALL, constrain_calls=False)
    openai.OpenAI(base_url=f"{url}/v1", api_key="unused").chat.completions.create(**ask)
    assert engine.tools == [None] and engine.quotes == [None]


def test_a_forced_prefix_reaches_the_model_and_the_answer(tiny_model):
    from tooltune.inference import Sampling, complete
    from tooltune.models.load import load_model_and_tokenizer

    model, tokenizer = load_model_and_tokenizer(tiny_model, dtype="float32")
    _, (plain,) = complete(model, tokenizer, [{"role": "user", "content": "hi"}], Sampling(max_new_tokens=4, temperature=0))
    _, (forced,) = complete(model, tokenizer, [{"role": "user", "content": "hi"}], Sampling(max_new_tokens=4, temperature=0), prefix="<TOOLCALL>[")
    assert forced.text.startswith("<TOOLCALL>[") and not plain.text.startswith("<TOOLCALL>[")


def test_no_request_body_yields_a_500(tiny_model):
    """Hypothesis writes request bodies, from well-formed to nonsense: every answer is 2xx or an OpenAI-shaped 4xx."""
    from fastapi.testclient import TestClient
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tooltune.models.load import load_model_and_tokenizer

    engine = ScriptedEngine(load_model_and_tokenizer(tiny_model)[1], CALL)
    client = TestClient(create_app(ServeConfig(model=tiny_model, served_name="bot@2"), engine))
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True), st.text(max_size=12))
    anything = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)
    message = st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant", "tool", "system", "developer", "wizard"]) | anything,
                                     "content": st.text(max_size=20) | anything}, optional={"tool_calls": anything, "tool_call_id": anything, "name": anything})
    body = st.fixed_dictionaries(
        {"model": st.just("bot@2") | anything, "messages": st.lists(message, max_size=3) | anything},
        optional={"tools": st.just([STOCK_TOOL]) | anything, "tool_choice": st.sampled_from(["auto", "none", "required", "x"]) | anything,
                  "temperature": scalars, "top_p": scalars, "max_tokens": scalars, "n": scalars, "seed": scalars, "stop": anything,
                  "stream": st.booleans() | anything, "parallel_tool_calls": anything},
    )

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(payload=body | anything)
    def check(payload):
        # json.dumps writes NaN and Infinity as Python's parser reads them: the server must cope with those too.
        reply = client.post("/v1/chat/completions", content=json.dumps(payload), headers={"content-type": "application/json"})
        assert reply.status_code < 500, (payload, reply.text)
        if reply.status_code >= 400:
            assert "message" in reply.json()["error"]

    check()


def test_the_batcher_answers_each_row_as_it_would_alone(tiny_model):
    """Continuous batching keeps each row's token limit, stop strings, stream and seed; rows that
    join later and rows that leave early change nobody's answer."""
    from transformers import TextIteratorStreamer

    from tooltune.inference import GenerationRequest, Sampling, complete
    from tooltune.models.load import load_model_and_tokenizer
    from tooltune.serving.batcher import Batcher

    model, tokenizer = load_model_and_tokenizer(tiny_model, dtype="float32")
    conversations = [[{"role": "user", "content": text}] for text in ("hi", "what is the weather in Paris tomorrow afternoon, roughly?", "AMZN?")]
    limits = [3, 12, 6]
    alone = [complete(model, tokenizer, c, Sampling(max_new_tokens=n, temperature=0)) for c, n in zip(conversations, limits)]
    stop = alone[1][1][0].text[3:6]
    streamers = [TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=60) for _ in conversations]
    streamed = [[] for _ in conversations]
    readers = [threading.Thread(target=lambda i=i: streamed[i].extend(streamers[i])) for i in range(3)]
    for r in readers:
        r.start()
    batcher = Batcher(model, tokenizer)
    requests_ = [GenerationRequest(c, Sampling(max_new_tokens=n, temperature=0), stop=[stop] if i == 1 else None, streamer=streamers[i])
                 for i, (c, n) in enumerate(zip(conversations, limits))]
    done = {}
    batcher.join([(requests_[1], 1)])
    done.update((row.owner, c) for row, c in batcher.step())
    batcher.join([(requests_[0], 0), (requests_[2], 2)])  # they join a row that is a token ahead
    while len(batcher):
        done.update((row.owner, c) for row, c in batcher.step())
    for r in readers:
        r.join(timeout=10)
    assert done[1].text == alone[1][1][0].text[: alone[1][1][0].text.find(stop)] and done[1].finish_reason == "stop"
    assert [done[0], done[2]] == [alone[0][1][0], alone[2][1][0]]
    assert ["".join(streamed[i]) for i in (0, 2)] == [alone[i][1][0].text for i in (0, 2)]
    # Sampled rows draw from their own seeded generator: the same answers beside other rows or alone.
    sampled = GenerationRequest(conversations[2], Sampling(max_new_tokens=8, temperature=1.0, top_p=0.9, samples=2, seed=5))
    answers = []
    for company in ([], [(GenerationRequest(conversations[1], Sampling(max_new_tokens=4, temperature=0)), "other")]):
        batcher.join([(sampled, "sampled"), *company])
        got = []
        while len(batcher):
            got += [c.text for row, c in batcher.step() if row.owner == "sampled"]
        answers.append(sorted(got))
    assert answers[0] == answers[1] and len(answers[0]) == 2


def test_the_step_log_is_bounded(tiny_model):
    from tooltune.models.load import load_model_and_tokenizer

    engine = Engine(*load_model_and_tokenizer(tiny_model))
    engine.batches.extend(range(200_000))  # a server's weeks of tokens
    assert len(engine.batches) == engine.batches.maxlen and engine.batches[-1] == 199_999


def test_one_request_s_sampling_never_fails_the_rows_beside_it(endpoint):
    """A temperature or top_p that underflows float32 (1e-300) decodes greedily instead of failing
    every request decoding in the same batch; no seed draws afresh, as OpenAI's endpoint does."""
    _, url = endpoint()
    hi = {"model": "bot@2", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 6}
    bodies = [{**hi, "temperature": 0}, {**hi, "temperature": 1e-300}, {**hi, "top_p": 1e-300}, {**hi, "temperature": 1e-300, "stream": True}]
    replies = [None] * len(bodies)
    threads = [threading.Thread(target=lambda i=i: replies.__setitem__(i, requests.post(f"{url}/v1/chat/completions", json=bodies[i]))) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert [r.status_code for r in replies] == [200] * 4, [r.text for r in replies]
    assert replies[1].json()["choices"][0]["message"] == replies[0].json()["choices"][0]["message"]  # near-zero temperature: greedy
    assert replies[3].text.rstrip().endswith("data: [DONE]")
    sampled = {requests.post(f"{url}/v1/chat/completions", json={**hi, "temperature": 1.0, "max_tokens": 12}).json()["choices"][0]["message"]["content"] for _ in range(3)}
    assert len(sampled) > 1  # a random 49k-token model repeats 12 sampled tokens by chance ~never
    seeded = {requests.post(f"{url}/v1/chat/completions", json={**hi, "temperature": 1.0, "max_tokens": 12, "seed": 5}).json()["choices"][0]["message"]["content"] for _ in range(2)}
    assert len(seeded) == 1


def test_a_conversation_the_chat_template_refuses_is_a_400(endpoint):
    from jinja2.exceptions import TemplateError

    engine, url = endpoint(answer="ok")

    def refuse(messages):
        raise TemplateError("Conversation roles must alternate user/assistant/user/assistant/...")

    engine.prompt_tokens = refuse
    reply = requests.post(f"{url}/v1/chat/completions", json={"model": "bot@2", "messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]})
    assert reply.status_code == 400 and reply.json()["error"]["param"] == "messages" and "must alternate" in reply.json()["error"]["message"]


def test_a_stream_that_fails_says_so_in_the_stream(endpoint):
    """Once a stream's headers are sent, an engine error goes in the stream (as OpenAI's does), not a cut connection."""
    engine, url = endpoint(answer="ok")

    def broken(*args, **kwargs):
        raise RuntimeError("the model fell over")

    engine.run = broken
    reply = requests.post(f"{url}/v1/chat/completions", json={"model": "bot@2", "messages": [{"role": "user", "content": "hi"}], "stream": True})
    events = [line.removeprefix("data: ") for line in reply.text.splitlines() if line.startswith("data: ")]
    assert reply.status_code == 200 and events[-1] == "[DONE]"
    assert "the model fell over" in json.loads(events[-2])["error"]["message"]
