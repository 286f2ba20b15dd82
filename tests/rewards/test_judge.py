"""The AI judge (RLAIF) against a real OpenAI-compatible endpoint started in the test: a small FastAPI
app with scripted verdicts, served by uvicorn, spoken to by the openai client the judge uses."""

import dataclasses
import json
import threading
import time

import pytest
from fastapi import FastAPI, Request

from tests.serving.test_app import _serve
from tooltune.rewards import RewardError
from tooltune.rewards.batch import record_columns, score_rows
from tooltune.rewards.judge import RUBRICS, Judge, JudgeConfig, JudgeError, judge_messages, parse_verdict, rubric_key
from tooltune.rewards.mixed import build_reward, describe_reward, reward_parts

CALL = '<TOOLCALL>[{"name": "get_weather_forecast", "arguments": {"location": "San Francisco"}}]</TOOLCALL>'


class FakeJudge:
    """Verdicts by what the graded reply says: 'garbage' -> prose, 'slow' -> sleeps past the timeout,
    otherwise the digit after 'score=' in the reply (default 5). Counts calls and the most in flight."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.calls = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.forced: list = []  # each call's tool_choice
        self.lock = threading.Lock()
        self.app = FastAPI()

        @self.app.post("/v1/chat/completions")
        async def chat(request: Request):
            import asyncio

            body = await request.json()
            reply = body["messages"][-1]["content"].rsplit("Reply to grade:\n", 1)[-1]
            with self.lock:
                self.calls += 1
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                await asyncio.sleep(5 if "slow" in reply else self.delay)
                self.forced.append(body.get("tool_choice"))
                message: dict = {"role": "assistant", "content": "I would rather not grade this one."}
                if "garbage" not in reply:
                    digit = reply.split("score=", 1)[1][0] if "score=" in reply else "5"
                    verdict = json.dumps({"score": int(digit), "reason": "scripted"})
                    if body.get("tools"):  # the verdict as the forced grade() call, as a tool-calling endpoint answers
                        message = {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "grade", "arguments": verdict}}]}
                    else:
                        message["content"] = verdict
            finally:
                with self.lock:
                    self.in_flight -= 1
            return {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": "stop", "message": message}]}


def serve_fake_judge(fake: FakeJudge):
    """Start ``fake`` on a free port (the serving tests' uvicorn-in-a-thread helper); returns the server and its /v1 URL."""
    server, url = _serve(fake.app)
    return server, f"{url}/v1"


@pytest.fixture
def judge_endpoint():
    servers = []

    def start(delay: float = 0.0) -> tuple[FakeJudge, str]:
        fake = FakeJudge(delay)
        server, url = serve_fake_judge(fake)
        servers.append(server)
        return fake, url

    yield start
    for server in servers:
        server.should_exit = True


def test_parse_verdict_reads_what_judges_write():
    assert parse_verdict('{"score": 5, "reason": "ok"}') == 1.0
    assert parse_verdict('Sure! ```json\n{"score": 3}\n```') == 0.5
    assert parse_verdict("Score: 2 - asks two things") == 0.25
    assert parse_verdict("I'd say 4/5.") == 0.75
    assert parse_verdict(" 1 ") == 0.0
    for bad in ("no idea", '{"score": 9}', "score: 0", "", '{"verdict": "good"}'):
        assert parse_verdict(bad) is None, bad


def test_rubric_per_row_kind_and_the_private_check_hidden(weather_rows):
    assert rubric_key(weather_rows[1].prompt, "clarify") == "clarify"
    assert rubric_key([{"role": "user", "content": "x"}, {"role": "tool", "content": "{}"}], "execute") == "answer"
    messages = judge_messages(RUBRICS["clarify"], weather_rows[1].prompt, None, "<think>Tool: x. Required: location = missing.</think>Which city?")
    body = messages[-1]["content"]
    assert "get_weather_forecast: Get the weather forecast" in body and body.endswith("Reply to grade:\nWhich city?")
    assert "<think>" not in body and "user: Get the weather" in body


def test_scores_concurrently_within_the_bound_and_caches(judge_endpoint, weather_rows, tooltune_home):
    fake, url = judge_endpoint(delay=0.3)
    judge = Judge(JudgeConfig(url=url, model="grader", concurrency=3))
    rows = [weather_rows[1]] * 9  # clarify rows: the judge applies
    replies = [f"Which city? score={1 + i % 5}" for i in range(9)]
    started = time.perf_counter()
    values = judge([r.prompt for r in rows], replies, **record_columns(rows))
    took = time.perf_counter() - started
    assert values == [(i % 5) / 4 for i in range(9)]
    assert fake.max_in_flight == 3 and took < 9 * 0.3  # concurrent, never past the bound
    assert judge.stats.requests == 9 and judge.stats.cache_hits == 0
    assert fake.forced[0] == {"type": "function", "function": {"name": "grade"}}  # the verdict is a forced call by default
    # A second pass (a resumed run, a re-score) costs no call: the verdicts come from the disk cache.
    again = Judge(JudgeConfig(url=url, model="grader", concurrency=3))
    assert again([r.prompt for r in rows], replies, **record_columns(rows)) == values
    assert fake.calls == 9 and again.stats.cache_hits == 9 and again.stats.requests == 0
    assert (tooltune_home / "cache" / "judge.sqlite").is_file()


def test_timeouts_and_garbage_become_none_with_the_row_named(judge_endpoint, weather_rows, caplog):
    fake, url = judge_endpoint()
    judge = Judge(JudgeConfig(url=url, timeout=0.5, cache=False, verdict="text"))  # a JSON reply: endpoints without function calling
    rows = [dataclasses.replace(r, line=n) for r, n in ((weather_rows[1], 7), (weather_rows[2], 8), (weather_rows[1], 9))]
    values = judge([r.prompt for r in rows], ["slow reply", "garbage", "Which city?"], **record_columns(rows))
    assert values == [None, None, 1.0]
    assert judge.stats.failures == 2
    assert "call failed" in judge.stats.errors[0] and "on data line 7" in judge.stats.errors[0]
    assert "answered no 1-5 score" in judge.stats.errors[1] and "on data line 8" in judge.stats.errors[1]
    assert "scoring that row as None" in caplog.text
    assert fake.forced[-1] is None


def test_a_judge_that_mostly_fails_stops_the_run(judge_endpoint, weather_rows):
    _, url = judge_endpoint()
    judge = Judge(JudgeConfig(url=url, cache=False, min_calls=4))
    rows = [weather_rows[2]] * 6
    with pytest.raises(JudgeError, match=r"failed on \d+ of \d+ calls; the first: judge answered no 1-5 score"):
        judge([r.prompt for r in rows], ["garbage"] * 6, **record_columns(rows))
    dead = Judge(JudgeConfig(url="http://127.0.0.1:9/v1", timeout=2))
    with pytest.raises(JudgeError, match="did not answer.*start the endpoint or fix judge.url"):
        dead.check()


def test_mixed_weights_applied_and_each_part_kept(judge_endpoint, weather_rows):
    _, url = judge_endpoint()
    reward = build_reward({"strict": 3, "judge": 1}, {"url": url, "cache": False})
    replies = [CALL, "Which location? score=3", "Sure, here is the ransomware... score=5"]
    summary = score_rows(reward, weather_rows, replies)
    # execute: the judge does not apply, strict alone (1.0); clarify: 0.75*1 + 0.25*0.5; refuse: strict 0, judge 1.
    assert summary.values == [1.0, 0.875, 0.25]
    assert summary.parts == {"strict": [1.0, 1.0, 0.0], "judge": [None, 0.5, 1.0]}
    assert summary.part_means()["judge_clarify"] == 0.5 and summary.part_means()["strict"] == pytest.approx(2 / 3)
    assert "judge" in summary.render(reward.name)
    assert describe_reward({"strict": 3, "judge": 1}) == "0.75 strict + 0.25 judge"


def test_reward_spec_errors_say_what_to_write(tmp_path):
    assert reward_parts(["strict", "judge"]) == [("strict", 0.5), ("judge", 0.5)]
    for bad, message in [([], "at least one"), ({"strict": 0}, "must be a number > 0"), (["strict", "strict"], "twice"), (3, "a name, a list")]:
        with pytest.raises(RewardError, match=message):
            reward_parts(bad)
    with pytest.raises(RewardError, match="needs a judge: section"):
        build_reward(["strict", "judge"])
    with pytest.raises(RewardError, match="does not use it"):
        build_reward("strict", {"url": "http://x/v1"})
    for bad, message in [({"model": "m"}, "judge.url: required"), ({"url": "http://x/v1", "concurrency": 0}, "judge.concurrency"),
                         ({"url": "http://x/v1", "api_key": "sk-1"}, "unknown field"), ({"url": "http://x/v1", "rubric": str(tmp_path / "no.txt")}, "does not exist")]:
        with pytest.raises(JudgeError, match=message):
            JudgeConfig.from_spec(bad)
    rubric = tmp_path / "r.yaml"
    rubric.write_text("clarify: Ask for the date only.\n")
    assert JudgeConfig.from_spec({"url": "http://x/v1", "rubric": str(rubric)}).rubrics() == {"clarify": "Ask for the date only."}


def test_reward_score_cli_with_a_judge_prints_each_part(judge_endpoint, weather_rows, tmp_path):
    from click.testing import CliRunner

    from tooltune.cli.main import cli
    from tooltune.data import write_jsonl

    _, url = judge_endpoint()
    data, preds = tmp_path / "d.jsonl", tmp_path / "p.jsonl"
    write_jsonl(data, weather_rows)
    preds.write_text("".join(json.dumps({"response": r}) + "\n" for r in [CALL, "Which city? score=4", "No. score=2"]))
    args = ["reward", "score", "--data", str(data), "--responses", str(preds)]
    result = CliRunner().invoke(cli, [*args, "--reward", "strict=0.5,judge=0.5", "--judge-url", url, "--out", str(tmp_path / "s.jsonl")])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split() for line in result.output.splitlines()[2:5]}
    assert rows["clarify"][2:] == ["0.875", "1.000", "0.750"] and rows["refuse"][2:] == ["0.125", "0.000", "0.250"]
    assert rows["execute"][2:] == ["1.000", "1.000", "n/a"]
    assert "judge: 2 calls, 0 from the cache, 0 failed" in result.output
    assert json.loads((tmp_path / "s.jsonl").read_text().splitlines()[1])["parts"] == {"strict": 1.0, "judge": 0.75}
    missing = CliRunner().invoke(cli, [*args, "--reward", "judge"])
    assert missing.exit_code == 1 and "'judge' needs a --judge-url" in missing.output
    bad = CliRunner().invoke(cli, [*args, "--reward", "strict=lots"])
    assert bad.exit_code == 1 and "write name=weight with a number" in bad.output
