"""One job spec for every technique: YAML in, validated before any model is loaded.

    base: smollm2-135m            # bundled name, folder, .gguf, hub id, or run:NAME
    technique: rlvr               # rlvr | rlaif | sft | dpo
    train_data: data/train.jsonl
    validation_data: data/eval.jsonl
    reward: strict                # built-in name, file.py:function or module:function
    batch_size: 128               # rows (sft/dpo) or completions (rlvr) per optimizer step
    learning_rate: 5.0e-6
    epochs: 3
    rollouts: 8                   # completions sampled per prompt (rlvr)
    trl: {beta: 0.0}              # any TRL config field, passed through untouched

``tooltune train job.yaml key=value ...`` overrides any field (``trl.temperature=0.9`` too). This
module is torch-free, so a bad spec fails in a fraction of a second.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..data.yaml_file import read_yaml
from ..models.catalog import BUNDLED, DEFAULT_MODEL
from ..rewards.loader import RewardError
from ..rewards.mixed import JUDGE, check_reward_spec, reward_parts
from .errors import SpecError, as_type, name_hints
from .techniques import TECHNIQUES

__all__ = ["JobSpec", "SpecError", "load_spec", "parse_overrides", "recipe_names", "recipe_path", "TECHNIQUES"]


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass
class JobSpec:
    """A customization job. The reference hyperparameters (batch 128, lr 5e-6, 3 epochs, 8 rollouts) are the defaults."""

    train_data: str = field(metadata=_help("Training rows (JSONL, the shared record shape)."))
    technique: str = field(default="rlvr", metadata=_help(f"How to train: {'; '.join(f'{t.name}: {t.summary}' for t in TECHNIQUES.values())}."))
    base: str = field(default=DEFAULT_MODEL, metadata=_help("Model to customize: bundled name, folder, .gguf, hub id, or run:NAME."))
    validation_data: str | None = field(default=None, metadata=_help("Held-out rows answered greedily and scored by `reward` at step 0, every eval_steps and at the end: the validation reward curve (optional)."))
    validation_rows: int | None = field(default=None, metadata=_help("Score only this many validation_data rows (a seeded sample, the same at every check); a greedy answer costs ~1 s per row on a 2-core CPU."))
    eval_data: str | None = field(default=None, metadata=_help("Held-out rows (JSONL): once trained and registered, the result is evaluated against its base on them (run directory's eval/; tooltune train and jobs)."))
    reward: str | list[str] | dict[str, float] = field(default="strict", metadata=_help("Reward for rlvr/rlaif (and for choosing DPO rejections): built-in, file.py:function or module:function; several mixed as [strict, judge] (equal weights) or {strict: 0.7, judge: 0.3}; 'judge' is the AI judge of `judge:` (rlaif)."))
    judge: dict[str, Any] | None = field(default=None, metadata=_help("rlaif: the AI judge, any OpenAI-compatible endpoint: {url, model, rubric (builtin or a file), api_key_env, timeout, concurrency, cache}; see rewards/judge.py."))
    name: str | None = field(default=None, metadata=_help("Run name, a folder name under the runs directory (output_dir puts a run elsewhere); default: <technique>-<timestamp>."))
    output_dir: str | None = field(default=None, metadata=_help("Run directory; default: $TOOLTUNE_HOME/runs/<name>."))
    batch_size: int = field(default=128, metadata=_help("Examples per optimizer step: rows for sft/dpo, completions (prompts x rollouts) for rlvr."))
    micro_batch_size: int = field(default=8, metadata=_help("Examples per forward pass; batch_size / micro_batch_size steps of gradient accumulation."))
    learning_rate: float = field(default=5e-6, metadata=_help("Peak learning rate."))
    epochs: float = field(default=3.0, metadata=_help("Passes over train_data (ignored when max_steps > 0)."))
    max_steps: int = field(default=-1, metadata=_help("Stop after this many optimizer steps (-1: run all epochs)."))
    rollouts: int = field(default=8, metadata=_help("rlvr: completions sampled per prompt (a GRPO group)."))
    max_completion_length: int = field(default=96, metadata=_help("rlvr/dpo: longest answer in tokens."))
    max_length: int = field(default=1024, metadata=_help("sft/dpo: longest prompt+answer in tokens (longer rows are truncated)."))
    temperature: float = field(default=1.0, metadata=_help("rlvr: sampling temperature for rollouts (and dpo: for sampled rejections)."))
    rejections: str = field(default="sampled", metadata=_help("dpo: 'sampled' (the model's own worst-scored answer; near miss where all are right) or 'near_miss' (synthesized, no sampling)."))
    rejection_samples: int = field(default=4, metadata=_help("dpo: answers sampled per row when rejections='sampled'."))
    balance_behaviors: bool = field(default=False, metadata=_help("rlvr: draw prompts equally from execute, clarify and refuse rows (the rarer ones repeated), so execute groups do not outvote asking and refusing."))
    dynamic_sampling: float = field(default=0.0, metadata=_help("rlvr/rlaif: extra prompts sampled per prompt each step (0.5: half as many again); each of the step's groups whose rewards tie (no gradient) is swapped for an extra group of the same behavior whose rewards differ (DAPO's dynamic sampling; training/dynamic_sampling.py). Costs the extras' generation."))
    engine: str = field(default="auto", metadata=_help("rlvr: 'native' (tooltune's GRPO engine: one prompt prefill per group in generation and training, zero-advantage rows skip the backward; one process), 'trl' (TRL's GRPOTrainer: several processes, vLLM, DeepSpeed), or 'auto' (native on one CPU process, else trl)."))
    reasoning: bool = field(default=False, metadata=_help("sft: teach a short <think> check before each answer (the tool, then each required value or 'missing'); dpo: both answers of a pair carry a check (for a model warm-started with it); see training/reasoning.py."))
    frozen_system_prompt: bool = field(default=False, metadata=_help("sft: run each row's system turn (the tool list, most of its tokens) without gradients and train on the user turn and answer over its cache: faster steps, so more rows fit a time budget, but an approximation (the loss no longer shapes how the tool list is encoded; what it cost: docs/performance.md). Turns gradient checkpointing off."))
    share_prompts: bool = field(default=False, metadata=_help("sft: put rows with the same system turn (a clarify row and its execute twin from `data generate --pairs`, or many requests to one tool list) in the same batch, so the turn runs once for all of them: the same loss and gradient per row, fewer tokens (docs/performance.md); changes which rows share a batch, so it is off unless asked for. A batch whose rows share a system turn is computed that way with or without it."))
    frozen_layers: int = field(default=0, metadata=_help("Keep the weights of the first N decoder layers fixed and cut the gradient below layer N (the tied input embeddings still learn, from the output side): those layers run forward only, so a step does ~2/3 x N/L less work (L layers: `tooltune models list` shows them). 0 trains every layer. Fewer trained weights can cost quality; docs/ablations.md has what it cost here."))
    frozen_embeddings: bool = field(default=False, metadata=_help("Keep the token embeddings (and the output layer tied to them) fixed: no gradient for the vocabulary-wide matrix and no optimizer state for it. Pays most on large vocabularies (gemma3-270m: 170M of its 268M weights); docs/performance.md has what it saved and cost."))
    lora: bool = field(default=False, metadata=_help("Train a LoRA adapter instead of all weights (merged into the final model)."))
    lora_r: int = field(default=16, metadata=_help("LoRA rank."))
    lora_alpha: int = field(default=32, metadata=_help("LoRA scaling numerator."))
    dtype: str = field(default="auto", metadata=_help("auto (bf16 where the CPU/GPU supports it), bfloat16, or float32."))
    save_steps: int = field(default=25, metadata=_help("Checkpoint every N optimizer steps; a killed run resumes from the last one."))
    eval_steps: int = field(default=25, metadata=_help("Score validation_data every N optimizer steps (when given)."))
    logging_steps: int = field(default=1, metadata=_help("Log metrics every N steps."))
    seed: int = field(default=0, metadata=_help("Random seed."))
    register: bool = field(default=True, metadata=_help("Register the final model in My Models as a new version of model_name (false: just the run directory)."))
    model_name: str | None = field(default=None, metadata=_help("Registered model name; default: the base run's name when base is run:NAME (SFT -> RLVR stay one model), else <base>-tooltune."))
    tracking_uri: str | None = field(default=None, metadata=_help("MLflow tracking URI; default: SQLite under $TOOLTUNE_HOME."))
    trl: dict[str, Any] = field(default_factory=dict, metadata=_help("Extra TRL config fields, passed through untouched."))

    def __post_init__(self) -> None:
        if self.technique not in TECHNIQUES:
            raise SpecError(f"technique: {self.technique!r} is not one of {', '.join(TECHNIQUES)}")
        for name in ("batch_size", "micro_batch_size", "rollouts", "max_completion_length", "max_length", "save_steps", "eval_steps", "logging_steps"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise SpecError(f"{name}: must be a positive integer, got {getattr(self, name)!r}")
        if self.validation_rows is not None and (not isinstance(self.validation_rows, int) or self.validation_rows < 1):
            raise SpecError(f"validation_rows: must be a positive integer (or left out for every row), got {self.validation_rows!r}")
        if self.learning_rate <= 0:
            raise SpecError(f"learning_rate: must be > 0, got {self.learning_rate}")
        if not isinstance(self.max_steps, int) or (self.max_steps < 1 and self.max_steps != -1):
            raise SpecError(f"max_steps: a number of steps >= 1, or -1 for every epoch; got {self.max_steps!r}")
        if self.max_steps == -1 and self.epochs <= 0:
            raise SpecError("epochs: must be > 0 (or set max_steps)")
        if self.name is not None and (not str(self.name).strip() or re.search(r"[/\\]|^\.", str(self.name))):
            raise SpecError(f"name: a run's name is a folder name under the runs directory (no '/', '\\' or leading '.'), got {self.name!r}; output_dir puts a run elsewhere")
        if self.model_name is not None:
            from ..runs.registry import RegistryError, check_model_name

            try:
                check_model_name(self.model_name)
            except RegistryError as exc:
                raise SpecError(f"model_name: {exc}") from None
        technique = TECHNIQUES[self.technique]
        for name, readers in _TECHNIQUE_FIELDS.items():
            # A switch or mode another technique reads would silently do nothing here: an error. Sizes
            # (rollouts, max_length, ...) are let through, so one spec file can serve several techniques.
            if name not in technique.reads and (_FIELDS[name].default is None or isinstance(_FIELDS[name].default, (bool, str))) and getattr(self, name) != _FIELDS[name].default:
                raise SpecError(f"{name}: applies to {' and '.join(readers)}, not {self.technique}; remove it")
        if not isinstance(self.trl, dict):
            raise SpecError("trl: must be a mapping of TRL config fields")
        try:
            check_reward_spec(self.reward, self.judge)
        except RewardError as exc:
            raise SpecError(str(exc)) from exc
        technique.check(self)
        if self.batch_size % self.micro_batch_size:
            raise SpecError(f"batch_size ({self.batch_size}) must be a multiple of micro_batch_size ({self.micro_batch_size}); e.g. micro_batch_size={_divisor(self.batch_size, self.micro_batch_size)}")
        if not isinstance(self.frozen_layers, int) or self.frozen_layers < 0:
            raise SpecError(f"frozen_layers: must be a whole number of layers >= 0, got {self.frozen_layers!r}")
        if self.frozen_layers and self.lora:
            raise SpecError("frozen_layers: with lora every base weight is fixed already; use one of them")
        if not isinstance(self.temperature, (int, float)) or isinstance(self.temperature, bool) or self.temperature <= 0:
            raise SpecError(f"temperature: rollouts (and sampled rejections) are drawn at a temperature > 0 (1.0 is TRL's default), got {self.temperature!r}")
        if self.lora and (not isinstance(self.lora_r, int) or self.lora_r < 1 or not isinstance(self.lora_alpha, (int, float)) or self.lora_alpha <= 0):
            raise SpecError(f"lora_r and lora_alpha: a rank >= 1 and a scale > 0 (16 and 32 are the defaults), got {self.lora_r!r} and {self.lora_alpha!r}")
        if self.dtype not in ("auto", "bfloat16", "float32"):
            raise SpecError(f"dtype: must be auto, bfloat16 or float32, got {self.dtype!r}")
        if "output_dir" in self.trl:  # checkpoints elsewhere: --resume would silently start over
            raise SpecError("trl.output_dir: set by tooltune (checkpoints live in the run folder, for --resume); use output_dir or name instead")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _divisor(total: int, near: int) -> int:
    """The largest divisor of ``total`` up to ``near``, looked for among the 10,000 below ``near``
    (else their gcd, a divisor too): a huge batch_size must not hang the check (1e20 did)."""
    top = min(total, near)
    return next((d for d in range(top, max(top - 10_000, 0), -1) if total % d == 0), math.gcd(total, near))


_FIELDS = {f.name: f for f in dataclasses.fields(JobSpec)}
# Settings only some techniques read (each unit lists its own): field -> the techniques that read it.
_TECHNIQUE_FIELDS = {name: [t.name for t in TECHNIQUES.values() if name in t.reads] for t in TECHNIQUES.values() for name in t.reads}


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """``key=value`` strings to a dict; values are read as YAML (``3`` is an int, ``true`` a bool)."""
    import yaml

    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise SpecError(f"override {pair!r}: write key=value, e.g. learning_rate=1e-5 or trl.beta=0.04")
        try:
            value = yaml.safe_load(raw) if raw else ""
        except yaml.YAMLError as exc:  # a NUL byte, an unclosed bracket: say which override
            raise SpecError(f"override {pair!r}: the value is not YAML ({str(exc).splitlines()[0]}); quote it or write a plain value") from exc
        if key.startswith(("trl.", "judge.")) or key in ("trl", "judge"):
            section, _, name = key.partition(".")
            if not name and value is None:  # judge=null: drop a recipe's judge
                out[section] = None
                continue
            if not name and not isinstance(value, dict) or not isinstance(out.get(section) or {}, dict):
                raise SpecError(f"override {pair!r}: {section} is a section; set its fields one by one, e.g. {section}.{'beta=0.1' if section == 'trl' else 'url=http://127.0.0.1:8001/v1'}")
            out[section] = {**(out.get(section) or {}), **(value if not name else {name: value})}
        else:
            out[key] = value
    return out


RECIPES = Path(__file__).resolve().parent.parent / "recipes"


def recipe_names() -> list[str]:
    return sorted(p.stem for p in RECIPES.glob("*.yaml"))


def recipe_path(name: str) -> Path:
    """A bundled recipe (``recipe:warmstart-sft``); its ``train_data`` is read relative to the working directory."""
    path = RECIPES / f"{name}.yaml"
    if not path.is_file():
        raise SpecError(f"no recipe {name!r}; bundled recipes: {', '.join(recipe_names())}")
    return path


def load_spec(path: str | Path | None, overrides: list[str] | dict[str, Any] | None = None, check_files: bool = True, isolate_reward: bool = False) -> JobSpec:
    """Read, merge and validate a job spec; data files are checked row by row, the reward is loaded
    (``isolate_reward``: in a child process, for servers that must not run a user's code)."""
    raw: dict[str, Any] = {}
    base_dir = Path(".")
    if path is not None:
        path = recipe_path(str(path)[7:]) if str(path).startswith("recipe:") else Path(path)
        if not path.is_file():
            raise SpecError(f"job spec {path} {'is a folder; give the YAML file in it' if path.is_dir() else 'does not exist'}")
        try:
            raw = read_yaml(path) or {}
        except ValueError as exc:
            raise SpecError(str(exc)) from exc
        if not isinstance(raw, dict):
            raise SpecError(f"{path}: a job spec is a mapping of fields (base, technique, train_data, ...)")
        base_dir = path.parent
    extra = parse_overrides(overrides) if isinstance(overrides, list) else dict(overrides or {})
    for section in ("trl", "judge"):  # `trl.beta=0.1` / `judge.url=...` change one field of the file's section
        if isinstance(extra.get(section), dict) and isinstance(raw.get(section), dict):
            extra[section] = {**raw[section], **extra[section]}
    raw.update(extra)
    unknown = [k for k in raw if k not in _FIELDS]
    if unknown:
        raise SpecError(f"unknown field(s) {name_hints(unknown, _FIELDS)}; TRL settings go under `trl:`. Known: {', '.join(_FIELDS)}")
    for key, value in list(raw.items()):
        raw[key] = _coerce(key, value)
    if "train_data" not in raw:
        raise SpecError("train_data: required; point it at a JSONL file (`tooltune data generate` writes one)")
    for key in ("train_data", "validation_data", "eval_data"):
        if isinstance(raw.get(key), str) and "\x00" in raw[key]:
            raise SpecError(f"{key}: a path cannot hold a NUL byte; give the JSONL file's path")
        if raw.get(key) and not Path(raw[key]).is_absolute():
            # Relative to the working directory, else to the spec file; stored absolute so that
            # `train --resume` works from anywhere.
            relative = Path(raw[key]) if Path(raw[key]).exists() or not (base_dir / raw[key]).exists() else base_dir / raw[key]
            raw[key] = str(relative.resolve())
    try:
        spec = JobSpec(**raw)
    except TypeError as exc:
        raise SpecError(str(exc)) from exc
    if check_files:
        _check_files(spec, isolate_reward)
    return spec


def _coerce(key: str, value: Any) -> Any:
    """Accept what a person would write (YAML reads ``1e-5`` as a string, ``3.0`` steps is 3) and
    refuse what no field can hold (``null`` for a number, ``1.5`` steps) before anything loads."""
    if key == "reward":
        return value  # a name, list or mapping: reward_parts checks it with a message per case
    kind = str(_FIELDS[key].type)
    base = kind.split(" ")[0].split("[")[0]
    if value is None:
        if "None" in kind:
            return None
        raise SpecError(f"{key}: needs a {base} value, got null; leave the field out to use its default ({_FIELDS[key].default!r})")
    wrong = SpecError(f"{key}: expected {'a whole number' if base == 'int' else 'a finite number' if base == 'float' else base}, got {value!r}")
    return as_type(base, value, wrong)


def _check_files(spec: JobSpec, isolate_reward: bool = False) -> None:
    from ..data import DatasetError, read_records
    from ..rewards import load_reward
    from ..rewards.loader import check_reward

    for key in ("train_data", "validation_data", "eval_data"):
        value = getattr(spec, key)
        if value is None:
            continue
        if not Path(value).is_file():
            what = "is a folder; give the JSONL file in it" if Path(value).is_dir() else "does not exist"
            raise SpecError(f"{key}: {value or '(empty)'} {what}")
        try:
            rows = read_records(value)
        except DatasetError as exc:
            raise SpecError(f"{key}: {exc}") from exc
        if not rows:
            raise SpecError(f"{key}: {value} has no rows")
    # SFT and DPO score their validation curve with the reward too: a broken reward file fails here,
    # whatever the technique, not after the model has loaded.
    if TECHNIQUES[spec.technique].uses_reward or spec.validation_data:
        for name, _ in reward_parts(spec.reward):
            if name == JUDGE:
                continue  # the endpoint is called when the run starts (Judge.check), not by a spec check
            try:
                check_reward(name) if isolate_reward else load_reward(name)
            except RewardError as exc:
                raise SpecError(f"reward: {exc}") from exc
    from ..runs import resolve_ref

    try:
        base = resolve_ref(spec.base)  # a base that is not there fails now, not after the run folder exists
    except ValueError as exc:
        raise SpecError(f"base: {exc}") from exc
    depth = _layers(base)
    if spec.frozen_layers and depth is not None and spec.frozen_layers >= depth:
        raise SpecError(f"frozen_layers: {spec.frozen_layers} would freeze every layer of {spec.base} ({depth}); use at most {depth - 1}")


def _layers(base: Any) -> int | None:
    """The base's decoder layers, read without loading weights; None where only loading tells (GGUF, hub)."""
    if base.kind == "bundled" and base.text in BUNDLED:
        return BUNDLED[base.text].layers
    try:
        config = json.loads((base.folder / "config.json").read_text()) if base.folder is not None else {}
    except (OSError, ValueError):
        return None
    layers = config.get("num_hidden_layers", (config.get("text_config") or {}).get("num_hidden_layers"))
    return layers if isinstance(layers, int) else None


