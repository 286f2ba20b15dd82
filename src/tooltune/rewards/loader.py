"""Name a reward and get a callable that fails politely.

A reward is named by a built-in key (``strict``, ``toolcall``), by ``path/to/file.py:function``, or
by ``package.module:function``. Either signature works: TRL's ``f(prompts, completions, **columns)``
or verl's ``compute_score(data_source, solution_str, ground_truth, extra_info)``.

The returned :class:`Reward` checks what the user's code returns and turns an exception or a
non-number into a :class:`RewardError` that names the row, or, with ``on_error="skip"``, logs it
and returns None for that row (TRL ignores None), so a training run does not die mid-way.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import json
import logging
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

from .builtin import BUILTIN_REWARDS, completion_text

__all__ = ["Reward", "RewardError", "StopRun", "load_reward", "check_reward", "reward_names", "row_columns", "expand_columns"]

log = logging.getLogger(__name__)


class RewardError(RuntimeError):
    """A reward function that raised or returned a non-number; says on which row and with what input."""


def reward_names() -> list[str]:
    return sorted(BUILTIN_REWARDS)


def row_columns(raws: list[dict[str, Any]], lines: list[int]) -> dict[str, list[Any]]:
    """The columns a reward gets for these rows, the same in training, evaluation and `reward score`:
    each field of the row as the user wrote it, and ``line`` so an error names the data file's line."""
    return {
        "reward_model": [r.get("reward_model") for r in raws],
        "tools": [r.get("tools") for r in raws],
        "behavior": [r.get("behavior") for r in raws],
        "extra_info": [r.get("extra_info") for r in raws],
        "data_source": [r.get("data_source") for r in raws],
        "line": list(lines),
    }


def expand_columns(columns: dict[str, Any]) -> dict[str, Any]:
    """Training datasets carry each row as one JSON string (``row``), because Arrow cannot hold
    rows whose ``extra_info`` or ``tools`` differ in shape; a reward gets the fields back."""
    rows = columns.get("row")
    if not isinstance(rows, (list, tuple)) or not all(isinstance(x, str) for x in rows):
        return columns
    raws = [json.loads(x) for x in rows]
    lines = columns.get("line") or [0] * len(raws)
    rest = {k: v for k, v in columns.items() if k not in ("row", "line")}
    return {**rest, **row_columns(raws, lines)}


class StopRun(SystemExit):
    """A stop from outside the reward (SIGTERM from `jobs cancel`): never caught as a reward's failure."""


@dataclass
class Reward:
    """A loaded reward with TRL's batch signature and per-row error reporting."""

    name: str
    fn: Callable[..., Any]
    signature: Literal["trl", "verl"]
    on_error: Literal["raise", "skip"] = "raise"
    errors: list[str] = field(default_factory=list)
    max_failure_share: float = 0.5  # with on_error="skip": past this share of failed rows (after 32) the run stops
    scored: int = 0  # rows scored so far
    failed: int = 0  # rows whose reward raised or returned a non-number

    @property
    def __name__(self) -> str:  # TRL logs rewards under their function name
        return self.name.rsplit(":", 1)[-1]

    def __call__(self, prompts: list[Any], completions: list[Any], **columns: Any) -> list[float | None]:
        columns = expand_columns(columns)
        n = len(completions)
        if self.signature == "verl":
            return self._count([self._row(i, completions, columns, lambda i=i: self._call_verl(i, completions, columns)) for i in range(n)])
        try:
            values = self._call_trl(prompts, completions, columns)
        except StopRun:
            raise
        except (Exception, SystemExit):
            # Re-run row by row so the error names the row that broke, not just the batch.
            return self._count([
                self._row(i, completions, columns, lambda i=i: _only(self._call_trl([prompts[i]] if prompts else None, [completions[i]], _slice(columns, i))))
                for i in range(n)
            ])
        if hasattr(values, "tolist") and not isinstance(values, (list, tuple)):
            values = values.tolist()  # a numpy array or tensor, as TRL accepts
        if not isinstance(values, (list, tuple)) or len(values) != n:
            raise RewardError(f"reward '{self.name}' must return a list of {n} numbers (one per completion), got {_describe(values)}")
        return self._count([self._row(i, completions, columns, lambda v=v: v) for i, v in enumerate(values)])

    @functools.cached_property
    def _by_keyword(self) -> bool:
        # TRL passes prompts= and completions= by keyword (its docs write f(completions, **kwargs));
        # a function that names them otherwise (f(p, c, **kw)) gets them by position. Read once.
        try:
            params = inspect.signature(self.fn).parameters
        except (TypeError, ValueError):
            params = {}
        return "completions" in params or not any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params.values())

    def _call_trl(self, prompts: Any, completions: list[Any], columns: dict[str, Any]) -> Any:
        if self._by_keyword:
            return self.fn(prompts=prompts, completions=completions, **columns)
        return self.fn(prompts, completions, **columns)

    def _call_verl(self, i: int, completions: list[Any], columns: dict[str, Any]) -> Any:
        rm = (columns.get("reward_model") or [None] * len(completions))[i]
        gt = rm.get("ground_truth") if isinstance(rm, dict) else (columns.get("ground_truth") or [None] * len(completions))[i]
        source = (columns.get("data_source") or [None] * len(completions))[i]
        extra = dict((columns.get("extra_info") or [None] * len(completions))[i] or {})
        for key in ("tools", "behavior"):
            if key in columns and key not in extra:
                extra[key] = columns[key][i]
        return self.fn(source, completion_text(completions[i]), gt, extra)

    def _row(self, i: int, completions: list[Any], columns: dict[str, Any], compute: Callable[[], Any]) -> float | None:
        try:
            value = compute()
        except StopRun:
            raise
        except (Exception, SystemExit) as exc:  # the user's code: any exception (sys.exit too) is reported, with the row
            return self._fail(i, completions, columns, f"raised {type(exc).__name__}: {exc}")
        if value is None:
            return None  # "does not apply" in TRL's convention
        if not isinstance(value, (int, float)) and hasattr(value, "item"):  # a numpy or torch scalar
            try:
                value = value.item()
            except (ValueError, RuntimeError):
                pass  # more than one number: reported below
        # 10**400 is a Python int no float holds (math.isfinite raises on it)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not abs(value) <= sys.float_info.max:
            return self._fail(i, completions, columns, f"returned {_describe(value)}, expected a finite number (or None for 'does not apply')")
        return float(value)

    def _fail(self, i: int, completions: list[Any], columns: dict[str, Any], what: str) -> None:
        where = _row_label(i, columns)
        preview = completion_text(completions[i])[:120].replace("\n", "\\n")
        message = f"reward '{self.name}' {what} on {where} (completion: {preview!r})"
        if self.on_error == "raise":
            raise RewardError(message)
        log.warning("%s; scoring that row as None", message)
        self.failed += 1
        if len(self.errors) < 100:
            self.errors.append(message)
        return None

    def _count(self, values: list[float | None]) -> list[float | None]:
        """Stop a run whose reward fails on most rows: it would train on nothing and look fine."""
        self.scored += len(values)
        if self.on_error == "skip" and self.scored >= 32 and self.failed > self.max_failure_share * self.scored:
            raise RewardError(f"reward '{self.name}' failed on {self.failed} of {self.scored} rows; the first: {self.errors[0] if self.errors else '?'}")
        return values


def load_reward(spec: str, on_error: Literal["raise", "skip"] = "raise") -> Reward:
    """Load a reward by built-in name, ``file.py:function`` or ``module:function``."""
    key = spec.removesuffix("_reward")
    if key in BUILTIN_REWARDS:
        return Reward(name=key, fn=BUILTIN_REWARDS[key], signature="trl", on_error=on_error)
    if ":" not in spec:
        raise RewardError(
            f"unknown reward {spec!r}: use a built-in ({', '.join(reward_names())}), "
            "'path/to/file.py:function' or 'package.module:function'"
        )
    target, _, function = spec.rpartition(":")
    module = _load_module(target, spec)
    fn = getattr(module, function, None)
    if not callable(fn):
        raise RewardError(f"reward {spec!r}: '{target}' has no function '{function}'")
    return Reward(name=spec, fn=fn, signature=_signature(fn, spec), on_error=on_error)


def check_reward(spec: str, timeout: float = 120.0) -> None:
    """Check that ``spec`` loads, without running the user's code in this process: a file or module
    is imported in a child process and its error comes back as a RewardError. Long-lived servers
    (the studio, the jobs queue) call this; only the training job itself imports the code."""
    if spec.removesuffix("_reward") in BUILTIN_REWARDS:
        return
    if ":" not in spec:
        load_reward(spec)  # raises the "unknown reward" message without importing anything
    try:
        done = subprocess.run([sys.executable, "-m", "tooltune.rewards.loader", spec], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise RewardError(f"reward {spec!r}: importing it took over {timeout:.0f} s; a reward file should define functions, not do work at import") from exc
    if done.returncode != 0:
        message = done.stdout.strip() or done.stderr.strip()[-600:] or f"exit status {done.returncode}"
        raise RewardError(message)


def _load_module(target: str, spec: str) -> Any:
    if target.endswith(".py") or "/" in target or "\\" in target:
        path = Path(target).expanduser()
        if not path.is_file():
            raise RewardError(f"reward {spec!r}: file '{path}' does not exist")
        module_name = f"tooltune_user_reward_{abs(hash(str(path.resolve())))}"
        loader_spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(loader_spec)  # type: ignore[arg-type]
        try:
            sys.modules[module_name] = module
            loader_spec.loader.exec_module(module)  # type: ignore[union-attr]
        except (Exception, SystemExit) as exc:  # a file that calls sys.exit() when imported is a broken reward, not a silent exit
            raise RewardError(f"reward {spec!r}: importing '{path}' failed with {type(exc).__name__}: {exc}") from exc
        return module
    try:
        return importlib.import_module(target)
    except Exception as exc:
        raise RewardError(f"reward {spec!r}: cannot import module '{target}' ({type(exc).__name__}: {exc})") from exc


def _signature(fn: Callable[..., Any], spec: str) -> Literal["trl", "verl"]:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return "trl"
    if "solution_str" in params:
        return "verl"
    if "completions" in params or any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return "trl"
    raise RewardError(
        f"reward {spec!r}: expected f(prompts, completions, **columns) (TRL) or "
        f"compute_score(data_source, solution_str, ground_truth, extra_info) (verl), got {fn.__name__}{inspect.signature(fn)}"
    )


def _slice(columns: dict[str, Any], i: int) -> dict[str, Any]:
    return {k: [v[i]] if isinstance(v, (list, tuple)) and len(v) > i else v for k, v in columns.items()}


def _only(values: Any) -> Any:
    if isinstance(values, (list, tuple)) and len(values) == 1:
        return values[0]
    raise TypeError(f"expected a list of 1 number for 1 completion, got {_describe(values)}")


def _row_label(i: int, columns: dict[str, Any]) -> str:
    for key in ("line", "id"):
        values = columns.get(key)
        if isinstance(values, (list, tuple)) and len(values) > i and values[i]:
            return f"data line {values[i]}" if key == "line" else f"row id {values[i]}"
    return f"row {i} of the batch"


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}"


if __name__ == "__main__":  # check_reward's child: load the reward, print why not, exit 1
    try:
        load_reward(sys.argv[1])
    except RewardError as exc:
        print(exc)
        sys.exit(1)
