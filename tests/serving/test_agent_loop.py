"""An agent's loop against `tooltune serve`, with the official `openai` client: tools in, a tool
call out, the tool's result back in, the final answer out, from a tiny model trained on exactly
that exchange (rendered the way the server renders it, so the test checks the serving path, not
what a 3M-parameter model can learn)."""

import json

import openai
import torch

from tooltune.models.load import load_model_and_tokenizer
from tooltune.serving.app import Engine, ServeConfig, create_app
from tooltune.serving.protocol import ChatRequest, conversation

from .test_app import STOCK_TOOL, _serve

ASK = [{"role": "user", "content": "What is AMZN trading at?"}]
CALL = '<TOOLCALL>[{"name": "get_stock_price", "arguments": {"ticker": "AMZN"}}]</TOOLCALL>'
CALLED = {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_stock_price", "arguments": '{"ticker": "AMZN"}'}}]}
RESULT = {"role": "tool", "tool_call_id": "call_1", "content": '{"price": 185.2, "currency": "USD"}'}
FINAL = "AMZN trades at 185.2 USD."


def _train_on_the_exchange(tiny_model, out):
    model, tokenizer = load_model_and_tokenizer(tiny_model, dtype="float32")
    rows = []
    for messages, answer in ((ASK, CALL), (ASK + [CALLED, RESULT], FINAL)):
        prompt = tokenizer.apply_chat_template(conversation(ChatRequest(model="m", messages=messages, tools=[STOCK_TOOL])), add_generation_prompt=True, tokenize=False)
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        answer_ids = tokenizer(answer + "<|im_end|>", add_special_tokens=False)["input_ids"]
        rows.append((torch.tensor([prompt_ids + answer_ids]), torch.tensor([[-100] * len(prompt_ids) + answer_ids])))
    torch.manual_seed(0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(80):
        for ids, labels in rows:
            model(input_ids=ids, labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return str(out)


def test_an_agent_calls_a_tool_sends_the_result_and_gets_the_answer(tiny_model, tmp_path):
    path = _train_on_the_exchange(tiny_model, tmp_path / "agent")
    server, url = _serve(create_app(ServeConfig(model=path, served_name="agent"), Engine.load(path, dtype="float32")))
    try:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused")
        first = client.chat.completions.create(model="agent", messages=ASK, tools=[STOCK_TOOL], temperature=0)
        choice = first.choices[0]
        assert choice.finish_reason == "tool_calls" and choice.message.content is None
        (call,) = choice.message.tool_calls
        assert call.function.name == "get_stock_price" and json.loads(call.function.arguments) == {"ticker": "AMZN"} and call.id
        # The agent runs the tool and sends its result back under the call's id.
        history = ASK + [choice.message.model_dump(exclude_none=True), {**RESULT, "tool_call_id": call.id}]
        second = client.chat.completions.create(model="agent", messages=history, tools=[STOCK_TOOL], temperature=0)
        assert second.choices[0].finish_reason == "stop" and second.choices[0].message.content == FINAL
        assert not second.choices[0].message.tool_calls
    finally:
        server.should_exit = True


def test_the_teacher_path_rewords_through_tooltune_serve(tiny_model, tmp_path):
    """`data generate --teacher URL` against our own endpoint: every row gets an answer, a random
    model's rewording fails the label guard, so each row keeps its request and its label."""
    from tooltune.data.generate import GenerateConfig, generate
    from tooltune.data import read_records
    from tooltune.data.teacher import rewrite_with_teacher

    rows = read_records(generate(GenerateConfig(n=0, eval_n=6, seed=3), tmp_path).paths["eval"])
    before = [(r.user_prompt, r.ground_truth) for r in rows]
    server, url = _serve(create_app(ServeConfig(model=tiny_model, served_name="teacher", max_tokens=16), Engine.load(tiny_model, dtype="float32")))
    try:
        summary = rewrite_with_teacher(rows, f"{url}/v1", "teacher")
    finally:
        server.should_exit = True
    assert summary.failed_calls == 0 and summary.rewritten + summary.kept_original == len(rows)
    kept = [(r.user_prompt, r.ground_truth) for r in rows if "teacher" not in r.raw.get("extra_info", {})]
    assert len(kept) == summary.kept_original and all(k in before for k in kept)
    assert all(r.ground_truth == b[1] for r, b in zip(rows, before))
