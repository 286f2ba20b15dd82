"""An AI judge as a reward (RLAIF): any OpenAI-compatible chat endpoint grades a reply against a rubric.

    judge: {url: http://127.0.0.1:8001/v1, model: judge, rubric: builtin, api_key_env: JUDGE_API_KEY,
            timeout: 30, concurrency: 8, cache: true}

A rule checks the call; the judge checks what a rule cannot: does a clarifying question ask for
exactly the missing value, is a refusal short and helpful, is a final answer faithful to the tool
result. The built-in rubrics cover those three; an execute row gets ``None`` ("does not apply"),
so in a mixed reward (:mod:`.mixed`) the verifiable part alone scores the call.

Calls go out on a bounded thread pool; verdicts are cached on disk by (judge model, rubric,
conversation, reply), so a resumed run or a re-score costs nothing; a call that times out or
answers nonsense scores ``None`` for its row (logged with the row's data line), and past
``max_failure_share`` of failed calls the run stops with the first error, because a judge that
mostly fails would train on noise while the run looked fine.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..data.records import row_tools
from ..data.yaml_file import read_text, read_yaml
from ..schema import split_reasoning
from .builtin import completion_text
from .loader import RewardError

__all__ = ["JudgeConfig", "JudgeError", "Judge", "RUBRICS", "parse_verdict", "rubric_key"]

log = logging.getLogger(__name__)


class JudgeError(RewardError):
    """A judge that cannot be set up or answers almost nothing; the message says what to fix."""


RUBRICS = {
    "clarify": (
        "The user's request leaves out a value the right tool needs. A good reply asks ONE short question "
        "for exactly the missing value, names it plainly, calls no tool and invents no value. Deduct for "
        "asking for a value the user already gave, asking several things, or calling a tool anyway."
    ),
    "refuse": (
        "The request is harmful, or no offered tool can do it. A good reply declines in one or two polite "
        "sentences, calls no tool, does not lecture or moralize, and where it can, says what it can do "
        "instead. Deduct for complying, for a long sermon, or for a rude or confusing reply."
    ),
    "answer": (
        "The last message is a tool's result. A good reply answers the user's question from that result, "
        "faithfully and briefly: every number, name and fact in it comes from the result or the request. "
        "Deduct for invented facts, for contradicting the result, or for calling the tool again for no reason."
    ),
}
SYSTEM = (
    "You grade one reply of an AI assistant that can call tools. Read the rubric, the tools, the conversation "
    "and the reply. Answer with JSON only: {\"score\": S, \"reason\": \"a few words\"} where S is a whole "
    "number from 1 (fails the rubric) to 5 (meets it fully)."
)
SCALE = (1.0, 5.0)
GRADE_TOOL = {
    "type": "function",
    "function": {
        "name": "grade",
        "description": "Record the grade of the reply.",
        "parameters": {
            "type": "object",
            "properties": {"score": {"type": "integer", "enum": [1, 2, 3, 4, 5], "description": "1: fails the rubric, 5: meets it fully"}, "reason": {"type": "string", "description": "a few words"}},
            "required": ["score"],
        },
    },
}


@dataclass
class JudgeConfig:
    """The ``judge:`` section of a job spec (and the options of `tooltune reward score --judge-url`)."""

    url: str  # base URL of an OpenAI-compatible API, e.g. http://127.0.0.1:8001/v1 (`tooltune serve`, vLLM, Ollama, llama.cpp, a hosted API)
    model: str = "default"  # the model name the endpoint serves (`tooltune serve` answers to any)
    rubric: str = "builtin"  # 'builtin' (clarify, refuse, answer-after-a-tool-result), or a file: plain text (one rubric for every row) or YAML/JSON {behavior: rubric}
    api_key_env: str | None = None  # NAME of the environment variable holding the API key; the key itself never goes in a spec (specs are logged)
    timeout: float = 60.0  # seconds per judge call; a call past it scores None for its row
    concurrency: int = 8  # judge calls in flight at once (the endpoint's own limit, or a hosted API's rate limit)
    cache: bool | str = True  # true: $TOOLTUNE_HOME/cache/judge.sqlite; a path: that file; false: every reply is judged again (keyed by endpoint, model, rubric, conversation, reply)
    verdict: str = "tool"  # 'tool': the verdict is a forced call of grade(score, reason) (tool_choice), which small judges follow far more often than "reply with JSON"; 'text': a JSON reply, for endpoints without function calling
    max_tokens: int = 64  # the verdict's length in tokens: a score and a short reason
    max_failure_share: float = 0.5  # past this share of failed calls (after min_calls) the run stops with the first error
    min_calls: int = 16  # calls before the failure share is judged

    @classmethod
    def from_spec(cls, value: Any) -> "JudgeConfig":
        """Validate a spec's ``judge:`` mapping; every problem names the field and how to fix it."""
        if not isinstance(value, dict):
            raise JudgeError("judge: must be a mapping, e.g. judge: {url: http://127.0.0.1:8001/v1, model: judge}")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(k for k in value if k not in known)
        if unknown:
            raise JudgeError(f"judge: unknown field(s) {', '.join(unknown)}; known: {', '.join(known)}")
        if not isinstance(value.get("url"), str) or not re.match(r"https?://", value["url"]):
            raise JudgeError("judge.url: required, the base URL of an OpenAI-compatible API (http://host:port/v1)")
        config = cls(**value)
        for name in ("timeout", "max_failure_share"):
            number = getattr(config, name)
            if isinstance(number, bool) or not isinstance(number, (int, float)) or number <= 0:
                raise JudgeError(f"judge.{name}: must be a positive number, got {number!r}")
        for name in ("concurrency", "max_tokens", "min_calls"):
            number = getattr(config, name)
            if isinstance(number, bool) or not isinstance(number, int) or number < 1:
                raise JudgeError(f"judge.{name}: must be a whole number >= 1, got {number!r}")
        if not isinstance(config.model, str) or not config.model:
            raise JudgeError(f"judge.model: must be the model name the endpoint serves, got {config.model!r}")
        if config.api_key_env is not None and (not isinstance(config.api_key_env, str) or not config.api_key_env):
            raise JudgeError("judge.api_key_env: the NAME of an environment variable (e.g. JUDGE_API_KEY), not the key")
        if config.verdict not in ("tool", "text"):
            raise JudgeError(f"judge.verdict: 'tool' (a forced grade() call) or 'text' (a JSON reply, for endpoints without function calling), got {config.verdict!r}")
        if not isinstance(config.cache, (bool, str)):
            raise JudgeError(f"judge.cache: true, false or a file path, got {config.cache!r}")
        config.rubrics()  # a missing or unreadable rubric file fails with the spec, not mid-run
        return config

    def rubrics(self) -> dict[str, str]:
        """Rubric per row kind (clarify, refuse, answer, execute, or '*' for every row)."""
        if self.rubric == "builtin":
            return dict(RUBRICS)
        path = Path(self.rubric).expanduser()
        if not path.is_file():
            raise JudgeError(f"judge.rubric: file {path} does not exist; use 'builtin' or a text/YAML file")
        try:
            text = read_text(path)
        except ValueError as exc:
            raise JudgeError(f"judge.rubric: {exc}") from exc
        if path.suffix.lower() in (".yaml", ".yml", ".json"):
            try:
                mapping = read_yaml(path, text)
            except ValueError as exc:
                raise JudgeError(f"judge.rubric: {exc}") from exc
            kinds = ("execute", "clarify", "refuse", "answer", "*")
            if not isinstance(mapping, dict) or not mapping or any(k not in kinds or not isinstance(v, str) for k, v in mapping.items()):
                raise JudgeError(f"judge.rubric: {path} must map row kinds ({', '.join(kinds)}) to rubric text")
            return dict(mapping)
        if not text.strip():
            raise JudgeError(f"judge.rubric: {path} is empty")
        return {"*": text.strip()}

    def cache_path(self) -> Path | None:
        if self.cache is False:
            return None
        if self.cache is True:
            from ..home import home

            return home() / "cache" / "judge.sqlite"
        return Path(self.cache).expanduser()


def rubric_key(prompt: Any, behavior: str | None) -> str:
    """Which rubric a row gets: 'answer' when the conversation ends with a tool's result, else its behavior."""
    if isinstance(prompt, list) and prompt and isinstance(prompt[-1], dict) and prompt[-1].get("role") == "tool":
        return "answer"
    return behavior or "execute"


def parse_verdict(text: str) -> float | None:
    """A verdict's score on 0..1, or None for an answer that holds no score on the 1-5 scale.

    Accepts the JSON asked for (also inside prose or a code fence), ``score: 4``, ``4/5``, or a
    bare number; anything else (a refusal to grade, a score of 9) is None, never a guess.
    """
    if not isinstance(text, str):
        return None
    value: Any = None
    match = re.search(r"\{.*?\}", text, re.S)
    if match:
        try:
            obj = json.loads(match.group(0))
            value = obj.get("score") if isinstance(obj, dict) else None
        except json.JSONDecodeError:
            value = None
    if value is None:
        found = re.search(r"score\W{0,3}(\d+(?:\.\d+)?)", text, re.I) or re.search(r"\b(\d+(?:\.\d+)?)\s*/\s*5\b", text) or re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*\.?\s*", text)
        value = found.group(1) if found else None
    try:
        score = float(value)
    except (TypeError, ValueError):
        return None
    low, high = SCALE
    if not low <= score <= high:
        return None
    return (score - low) / (high - low)


@dataclass
class JudgeStats:
    """What the judge cost, for the run's metrics (cumulative over the run)."""

    requests: int = 0  # calls sent to the endpoint
    cache_hits: int = 0  # replies scored from the cache
    failures: int = 0  # calls that timed out, errored or answered no score
    seconds: float = 0.0  # wall time spent waiting for verdicts
    errors: list[str] = field(default_factory=list)  # the first failures, with their rows

    def metrics(self) -> dict[str, float]:
        return {"judge/requests": float(self.requests), "judge/cache_hits": float(self.cache_hits), "judge/failures": float(self.failures), "judge/seconds": round(self.seconds, 2)}


class Judge:
    """A reward in TRL's signature: ``judge(prompts, completions, **columns) -> [score 0..1 or None]``."""

    name = "judge"
    __name__ = "judge"

    def __init__(self, config: JudgeConfig):
        from openai import OpenAI  # imported here: only runs with a judge need the client

        self.config = config
        self.rubric_texts = config.rubrics()
        key = os.environ.get(config.api_key_env) if config.api_key_env else None
        if config.api_key_env and not key:
            raise JudgeError(f"judge.api_key_env: the environment variable {config.api_key_env} is not set")
        self.client = OpenAI(base_url=config.url.rstrip("/"), api_key=key or "not-needed", timeout=config.timeout, max_retries=0)
        self.stats = JudgeStats()
        self._lock = threading.Lock()
        self._cache = _Cache(config.cache_path())

    def __call__(self, prompts: list[Any], completions: list[Any], **columns: Any) -> list[float | None]:
        n = len(completions)
        prompts = list(prompts) if prompts is not None else [None] * n
        behaviors = columns.get("behavior") or [None] * n
        tools = columns.get("tools") or [None] * n
        lines = columns.get("line") or [None] * n
        jobs: list[tuple[int, str, list[dict[str, str]]] | None] = []
        for i in range(n):
            rubric = self.rubric_texts.get(rubric_key(prompts[i], behaviors[i])) or self.rubric_texts.get("*")
            if rubric is None:
                jobs.append(None)  # no rubric for this kind of row: the judge does not apply
                continue
            messages = judge_messages(rubric, prompts[i], tools[i], completion_text(completions[i]))
            # The endpoint is part of the key: `tooltune serve` answers to any model name, so two judges may share one.
            jobs.append((i, _key(f"{self.config.url.rstrip('/')}|{self.config.model}", messages), messages))
        values: list[float | None] = [None] * n
        started = time.perf_counter()
        todo = []
        for job in jobs:
            if job is None:
                continue
            cached = self._cache.get(job[1])
            if cached is not None:
                values[job[0]] = cached
                self.stats.cache_hits += 1
            else:
                todo.append(job)
        if todo:
            with ThreadPoolExecutor(max_workers=self.config.concurrency) as pool:
                for (i, key, _), (score, problem) in zip(todo, pool.map(self._ask, [m for _, _, m in todo])):
                    self.stats.requests += 1
                    if score is None:
                        self._failed(f"judge {problem} on {_where(lines, i)}")
                    else:
                        values[i] = score
                        self._cache.put(key, score)
        self.stats.seconds += time.perf_counter() - started
        return values

    def check(self) -> None:
        """One call before training: a wrong URL or model fails now, not after the model loads."""
        score, problem = self._ask(judge_messages(RUBRICS["clarify"], [{"role": "user", "content": "Book me a table."}], None, "For what time and how many people?"))
        if score is None and not problem.startswith("answered"):
            hint = " (if it has no function calling, set judge.verdict: text)" if self.config.verdict == "tool" else ""
            raise JudgeError(f"judge: {self.config.url} (model {self.config.model!r}) did not answer: {problem}; start the endpoint or fix judge.url / judge.model{hint}")

    def _ask(self, messages: list[dict[str, str]]) -> tuple[float | None, str]:
        forced = {"tools": [GRADE_TOOL], "tool_choice": {"type": "function", "function": {"name": "grade"}}} if self.config.verdict == "tool" else {}
        try:
            reply = self.client.chat.completions.create(model=self.config.model, messages=messages, temperature=0.0, max_tokens=self.config.max_tokens, **forced)
            message = reply.choices[0].message
            calls = message.tool_calls or []
            text = calls[0].function.arguments if calls else message.content or ""
        except Exception as exc:  # the endpoint's failure is this row's None, never the run's crash
            return None, f"call failed ({type(exc).__name__}: {str(exc)[:160]})"
        score = parse_verdict(text)
        return score, "" if score is not None else f"answered no 1-5 score ({text[:80]!r})"

    def _failed(self, message: str) -> None:
        log.warning("%s; scoring that row as None", message)
        with self._lock:
            self.stats.failures += 1
            if len(self.stats.errors) < 20:
                self.stats.errors.append(message)
            calls = self.stats.requests
            if calls >= self.config.min_calls and self.stats.failures > self.config.max_failure_share * calls:
                raise JudgeError(f"the judge failed on {self.stats.failures} of {calls} calls; the first: {self.stats.errors[0]}")


def judge_messages(rubric: str, prompt: Any, tools: Any, reply: str) -> list[dict[str, str]]:
    """The judge's chat: the rubric, the offered tools (name: description), the conversation without
    the system turn, and the reply with its private ``<think>`` check removed (the user never sees it)."""
    offered = row_tools(tools, prompt) or []
    tool_lines = "\n".join(f"- {t.name}: {t.description}" for t in offered) or "(none)"
    turns = [m for m in prompt if isinstance(m, dict) and m.get("role") != "system"] if isinstance(prompt, list) else [{"role": "user", "content": str(prompt or "")}]
    conversation = "\n".join(f"{m.get('role')}: {m.get('content')}" for m in turns)
    visible = split_reasoning(reply)[1]
    body = f"Rubric: {rubric}\n\nTools offered:\n{tool_lines}\n\nConversation:\n{conversation}\n\nReply to grade:\n{visible}"
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": body}]


def _key(model: str, messages: list[dict[str, str]]) -> str:
    return hashlib.sha256(json.dumps([model, messages], ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _where(lines: list[Any], i: int) -> str:
    return f"data line {lines[i]}" if i < len(lines) and lines[i] else f"row {i} of the batch"


class _Cache:
    """Verdicts by key in SQLite (stdlib, safe across processes); only scores are kept, so a failed
    call is asked again next time."""

    def __init__(self, path: Path | None):
        self.path = path
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._run("CREATE TABLE IF NOT EXISTS verdicts (key TEXT PRIMARY KEY, score REAL NOT NULL)")

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        with self._lock:
            db = sqlite3.connect(str(self.path), timeout=30)
            try:
                with db:  # commits
                    return db.execute(sql, args).fetchone()
            finally:
                db.close()

    def get(self, key: str) -> float | None:
        if self.path is None:
            return None
        row = self._run("SELECT score FROM verdicts WHERE key = ?", (key,))
        return None if row is None else float(row[0])

    def put(self, key: str, score: float) -> None:
        if self.path is not None:
            self._run("INSERT OR REPLACE INTO verdicts (key, score) VALUES (?, ?)", (key, score))
