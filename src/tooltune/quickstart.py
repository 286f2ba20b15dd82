"""The main job: generate data, warm-start with SFT, then (in presets that have it) RLVR.

    tooltune quickstart [--preset full|full-rlvr|quick] [--out runs/quickstart]

Stages run the bundled recipes (``recipe:warmstart-sft``, then ``recipe:rlvr`` where the preset has
GRPO steps) through the same ``tooltune.training.train`` a user calls, with the preset's step
counts. Rerunning after an interruption skips finished stages and resumes a stage from its last
checkpoint, so a kill loses at most one checkpoint interval.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .data import Record, read_records, validate_file
from .data.generate import REFUSE_KINDS, GenerateConfig, generate
from .models.catalog import BUNDLED, DEFAULT_MODEL
from .rewards import load_reward
from .rewards.batch import score_rows
from .schema import format_tool_calls, parse_tool_calls
from .schema.behavior import BEHAVIORS

__all__ = ["Preset", "PRESETS", "preset_with", "run_quickstart", "reward_curve", "validation_curve"]


@dataclass(frozen=True)
class Preset:
    """How much of the recipe to run; minutes are what each took here on 2 CPU cores."""

    train_rows: int  # generated training rows (the held-out file always has eval_rows)
    sft_steps: int  # warm-start SFT steps of 8 rows: enough that the model makes parseable calls
    rlvr_steps: int  # GRPO steps after the warm start; 0 skips the RLVR stage
    rlvr_prompts: int  # prompts per GRPO step (x 8 rollouts): more prompts, a steadier reward signal
    eval_rows: int = 300
    # Fraction of clarify (and tool-not-offered) training rows that come with their execute twin
    # (`tooltune data generate --pairs`); 0 writes the plain generator output.
    pairs: float = 0.0
    # Consecutive training rows that share one tool list (`tooltune data generate --rows-per-list`),
    # and whether SFT batches them together to run each list once (`share_prompts`): the same loss
    # per row for about half the tokens, so the warm start sees more rows in its minutes.
    rows_per_list: int = 1
    share_prompts: bool = False
    # Share of execute rows in other shapes than one call (`tooltune data generate --shapes`):
    # parallel calls, multi-turn rows, long tool lists; 0 keeps single calls only.
    shapes: float = 0.0
    # Share of rows whose tool names are camelCase or dotted (`tooltune data generate --name-styles`);
    # 0 keeps the catalogs' snake-case names.
    name_styles: float = 0.0
    # Share of requests for a tool the row does not offer whose list shows a same-domain tool
    # (`tooltune data generate --near-refusals`); 0 keeps every such list free of the tool's domain.
    near_refusals: float = 0.0
    # Share of harmful requests that ask one of the row's own tools to do the harm
    # (`tooltune data generate --harmful-uses`).
    harmful_uses: float = 0.0
    # Share of requests that are not harmful told with a line of harmless personal background
    # (`tooltune data generate --backstories`), the contrast to harmful_uses.
    backstories: float = 0.0
    # Enum values said in each tool's own phrases ("cheapest first" for sort_by price) and
    # quantities in other units ("1.75 m" for height_cm 175): `data generate --paraphrased-values`.
    paraphrased_values: bool = False
    # Share of execute rows written from a tool's hand-written in-passing requests, which say
    # optional values inside the sentence ("a [nonstop](nonstop_only=true) flight"): `data generate --passing`.
    passing: float = 0.0
    # Shares of harmful, out-of-scope and tool-not-offered requests among training refuse rows.
    refuse_kinds: tuple[float, float, float] = REFUSE_KINDS
    # Held-out rows each stage answers greedily at its start, middle and end (the validation
    # reward curve, training/validation.py); each costs ~1 s per check here.
    validation_rows: int = 48


PRESETS = {
    # A smoke run (~15 min on 2 cores): 28 SFT steps on data with twins and a taste of RLVR.
    "quick": Preset(train_rows=1500, sft_steps=28, rlvr_steps=6, rlvr_prompts=1, validation_rows=16, pairs=1.0),
    # The main recipe: SFT rows with the <think> check on natural-request data with contrastive
    # twins and four requests to each tool list, each list run once per batch; twice the usual share
    # of tool-not-offered refusals, most beside a same-domain tool (refuse 0.50-0.62 -> 0.75-0.79 on
    # the hand-written set, seeds 0 and 1: docs/ablations.md); sized to the 45-minute training budget
    # on 2 cores. RLVR after it has not paid for its minutes yet (docs/results.md).
    "full": Preset(train_rows=2400, sft_steps=300, rlvr_steps=0, rlvr_prompts=2, pairs=1.0, rows_per_list=4, share_prompts=True,
                   near_refusals=0.7, refuse_kinds=(0.45, 0.2, 0.35)),
    # The full warm start, then 20 GRPO steps of 2 prompts x 8 rollouts on the native engine (~15 min here):
    # the whole SFT -> RLVR pipeline, as you would run it with your own reward function.
    "full-rlvr": Preset(train_rows=2400, sft_steps=300, rlvr_steps=20, rlvr_prompts=2, pairs=1.0, rows_per_list=4, share_prompts=True,
                        near_refusals=0.7, refuse_kinds=(0.45, 0.2, 0.35)),
}


def preset_with(name: str, changes: dict[str, Any]) -> Preset:
    """Preset ``name`` with some of its fields changed (``tooltune quickstart --set FIELD=VALUE``),
    each checked against the field's type so a typo stops here, not an hour into training."""
    fields = {f.name: f for f in dataclasses.fields(Preset)}
    checked: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in fields:
            raise ValueError(f"--set {key}: no such preset setting; choose from {', '.join(fields)}")
        kind = str(fields[key].type)
        if kind == "bool":
            ok = isinstance(value, bool)
        elif kind == "int":
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif kind == "float":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            value = float(value) if ok else value
        else:  # refuse_kinds: three shares
            ok = isinstance(value, list) and len(value) == 3 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
            value = tuple(float(v) for v in value) if ok else value
        if not ok:
            raise ValueError(f"--set {key}={value!r}: expected {kind if kind != 'tuple[float, float, float]' else 'three shares, e.g. [0.45,0.2,0.35]'}")
        counted = ("train_rows", "eval_rows", "sft_steps", "rlvr_prompts")  # the validation curve needs held-out rows too
        if kind in ("int", "float") and not value >= 0 or (key in counted and value < 1):
            raise ValueError(f"--set {key}={value!r}: must be {'at least 1' if key in counted else '>= 0'}")
        checked[key] = value
    return dataclasses.replace(PRESETS[name], **checked)


def _same_settings(out: Path, settings: dict[str, Any]) -> None:
    """Refuse to resume a quickstart folder that holds another configuration's stages: its finished
    warm start would be reused for data it never saw (another seed, rows or base). Checked before
    anything is written, so the earlier run's data and models stay as they were."""
    path = out / "settings.json"
    if path.exists():
        before = json.loads(path.read_text())
        if before != settings:
            changed = sorted(k for k in {*before.get("preset", {}), *settings["preset"]} if before.get("preset", {}).get(k) != settings["preset"].get(k))
            changed += [k for k in ("seed", "base") if before.get(k) != settings[k]]
            raise ValueError(f"{out} holds a quickstart run with other settings ({', '.join(changed)} differ); rerun it with its own settings to resume, or use another --out")
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings, indent=2))


def _gold(record: Record) -> str:
    calls = parse_tool_calls(record.ground_truth)
    return format_tool_calls(calls) if calls else record.ground_truth


def _never_call(record: Record) -> str:
    return "Could you tell me a bit more about what you need?"


def reward_curve(history: list[dict[str, Any]], blocks: int = 5, key: str = "reward") -> list[tuple[int, int, float | None]]:
    """Mean of ``key`` over ``blocks`` consecutive step ranges of the train reward: (first step,
    last step, mean), None for a range where no step logged ``key`` (a behavior no prompt had)."""
    steps = [int(h["step"]) for h in history if "reward" in h and "step" in h]
    if not steps:
        return []
    size = max(1, -(-len(steps) // blocks))
    curve = []
    for first, last in ((steps[i], steps[min(i + size, len(steps)) - 1]) for i in range(0, len(steps), size)):
        values = [float(h[key]) for h in history if key in h and "step" in h and first <= int(h["step"]) <= last]
        curve.append((first, last, sum(values) / len(values) if values else None))
    return curve


def _stage(spec_path: str, overrides: dict[str, Any], run: Path, echo: Callable[[str], None], callbacks: list[Any] | None) -> dict[str, Any]:
    from .pipeline import customize
    from .runs import is_run, read_manifest

    if is_run(run) and read_manifest(run).get("status") == "completed":
        echo(f"{run.name}: already completed, reusing it")
        return read_manifest(run)
    if is_run(run):
        customize(resume=str(run), echo=echo, callbacks=callbacks)
    else:
        customize(spec_path, echo=echo, callbacks=callbacks, **{**overrides, "output_dir": str(run), "name": run.name})
    return read_manifest(run)


def _release_memory() -> None:
    """Hand the finished stage's model and optimizer back to the OS before the next stage loads its own."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:  # not glibc: the memory is still reused, just not returned
        pass


def run_quickstart(
    out: str | Path,
    preset: str | Preset = "full",
    seed: int = 0,
    base: str = DEFAULT_MODEL,
    echo: Callable[[str], None] = print,
    callbacks: list[Any] | None = None,
) -> dict[str, Any]:
    """Run the whole recipe into ``out``; returns (and writes to ``out/quickstart.json``) the summary."""
    started = time.perf_counter()
    chosen = PRESETS[preset] if isinstance(preset, str) else preset
    out = Path(out).resolve()
    # Everything a setting can get wrong fails before settings.json is written, so the corrected
    # command can use the same folder.
    try:
        config = GenerateConfig(n=chosen.train_rows, eval_n=chosen.eval_rows, seed=seed, pairs=chosen.pairs, rows_per_list=chosen.rows_per_list, shapes=chosen.shapes, name_styles=chosen.name_styles,
                                near_refusals=chosen.near_refusals, harmful_uses=chosen.harmful_uses, backstories=chosen.backstories, refuse_kinds=chosen.refuse_kinds,
                                paraphrased_values=chosen.paraphrased_values, passing=chosen.passing)
    except ValueError as exc:
        raise ValueError(f"the preset's data settings: {exc} (quickstart sets them with --set, e.g. --set pairs=0.5)") from exc
    from .runs import resolve_ref

    try:
        resolve_ref(base)
    except ValueError as exc:
        raise ValueError(f"--base: {exc}") from exc
    _same_settings(out, {"preset": json.loads(json.dumps(dataclasses.asdict(chosen))), "seed": seed, "base": base})
    paths = generate(config, out / "data").paths
    for split, path in paths.items():
        report = validate_file(path)
        if report.problems:
            raise ValueError(f"generated {split} data has {len(report.problems)} problem(s), first: {report.problems[0]}")
        echo(f"data: {split} {report.rows} rows, valid ({path})")

    # What the reward pays for nothing on the training rows (an answer that never calls a tool):
    # the train reward curve below must climb past it to mean anything.
    rows = read_records(paths["train"])
    strict = load_reward("strict")
    floor = {k: v for k, (_, v) in score_rows(strict, rows, [_never_call(r) for r in rows]).means().items()}
    ceiling = {k: v for k, (_, v) in score_rows(strict, rows, [_gold(r) for r in rows]).means().items()}
    echo(f"strict reward on the training rows: gold answers {ceiling['all']:.2f}, an answer that never calls a tool {floor['all']:.2f}")

    runs = out / "runs"
    # The same held-out rows (tools training never saw) are checked in both stages, so the two
    # validation curves read as one, from the base model to the final one.
    data = {"train_data": str(paths["train"]), "base": base, "seed": seed, "validation_data": str(paths["eval"]), "validation_rows": chosen.validation_rows}
    tuned = BUNDLED[base].recipe if base in BUNDLED else {}
    sft = _stage("recipe:warmstart-sft", {**data, **tuned, "max_steps": chosen.sft_steps, "eval_steps": _halfway(chosen.sft_steps), "share_prompts": chosen.share_prompts}, runs / "warmstart", echo, callbacks)
    rlvr = None
    if chosen.rlvr_steps:
        _release_memory()
        rollouts = 8
        rlvr = _stage(
            "recipe:rlvr",
            {**data, "base": f"run:{runs / 'warmstart'}", "max_steps": chosen.rlvr_steps, "batch_size": chosen.rlvr_prompts * rollouts, "rollouts": rollouts,
             "eval_steps": _halfway(chosen.rlvr_steps)},
            runs / "rlvr",
            echo,
            callbacks,
        )
    summary = _summary(sft, rlvr, floor, time.perf_counter() - started)
    (out / "quickstart.json").write_text(json.dumps(summary, indent=2))
    echo(render(summary))
    echo(f"summary in {out / 'quickstart.json'}; final model in {runs / ('rlvr' if rlvr else 'warmstart') / 'model'}")
    return summary


def _halfway(steps: int) -> int:
    """eval_steps for checks at a stage's start, middle and end."""
    return max(1, -(-steps // 2))


def validation_curve(stages: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every validation check of the stages' histories, in order: stage, step, reward, per behavior."""
    rows = []
    for stage, manifest in stages.items():
        for entry in manifest.get("history", []):
            if "validation/reward" in entry:
                rows.append({"stage": stage, "step": int(entry["step"]), "reward": round(entry["validation/reward"], 3),
                             **{b: None if f"validation/reward_{b}" not in entry else round(entry[f"validation/reward_{b}"], 3) for b in BEHAVIORS}})
    return rows


def _stage_summary(manifest: dict[str, Any]) -> dict[str, Any]:
    """Steps and times of one stage; ``training_seconds`` leaves out its validation checks and TRL's
    eval-loss passes over the same rows (the recipe's budget is training time, and what the checks cost
    depends on how many rows a preset checks)."""
    checks = sum(float(h.get("validation/seconds", 0.0)) + float(h.get("eval_runtime", 0.0)) for h in manifest.get("history", []))
    seconds = manifest.get("seconds") or 0.0
    return {"steps": manifest.get("steps"), "seconds": seconds, "check_seconds": round(checks, 1), "training_seconds": round(seconds - checks, 1)}


def _summary(sft: dict[str, Any], rlvr: dict[str, Any] | None, floor: dict[str, float], seconds: float) -> dict[str, Any]:
    losses = [h["loss"] for h in sft.get("history", []) if "loss" in h]
    warm = {**_stage_summary(sft), "loss_first": losses[0] if losses else None, "loss_last": losses[-1] if losses else None}
    grpo = None
    if rlvr:
        history = rlvr.get("history", [])
        zero = [h["frac_reward_zero_std"] for h in history if "frac_reward_zero_std" in h]
        grpo = {**_stage_summary(rlvr), "reward_curve": _curve_rows(history), "zero_variance_group_fraction": round(sum(zero) / len(zero), 3) if zero else None}
    return {
        "seconds": round(seconds, 1),
        "training_seconds": round(warm["training_seconds"] + (grpo["training_seconds"] if grpo else 0.0), 1),
        "warmstart": warm,
        "rlvr": grpo,
        "never_calls_baseline": round(floor["all"], 3),
        "validation": {"rows": _validation_rows(sft), "curve": validation_curve({"warm start": sft, **({"rlvr": rlvr} if rlvr else {})})},
    }


def _validation_rows(manifest: dict[str, Any]) -> int | None:
    return (manifest.get("spec") or {}).get("validation_rows")


def _curve_rows(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The train reward curve, overall and per behavior: a step's mean mixes whichever behaviors its
    few prompts drew, so the overall curve can fall while each behavior's rises, or the reverse."""
    per_behavior = {b: [v for _, _, v in reward_curve(history, key=f"train/reward_{b}")] for b in BEHAVIORS}
    return [
        {"steps": f"{first}-{last}", "reward": round(mean, 3), **{b: None if values[i] is None else round(values[i], 3) for b, values in per_behavior.items()}}
        for i, (first, last, mean) in enumerate(reward_curve(history))
    ]


def _minutes(stage: dict[str, Any]) -> str:
    per_step = stage["training_seconds"] / max(stage["steps"] or 1, 1)
    return f"{stage['training_seconds'] / 60:.1f} min of training ({per_step:.1f} s/step) + {stage['check_seconds'] / 60:.1f} min of validation checks"


def render(summary: dict[str, Any]) -> str:
    sft, rlvr = summary["warmstart"], summary["rlvr"]
    lines = [f"warm start: {sft['steps']} SFT steps, {_minutes(sft)}, loss {sft['loss_first']:.2f} -> {sft['loss_last']:.2f}"]
    if rlvr:
        lines += [
            f"rlvr: {rlvr['steps']} GRPO steps, {_minutes(rlvr)}, groups with zero reward variance: {rlvr['zero_variance_group_fraction']:.0%}",
            "train reward (strict) by steps, all prompts and per behavior (- : no prompt of it drawn):",
            f"  {'steps':<14}{'all':>7}  " + "  ".join(f"{b:>7}" for b in BEHAVIORS),
            *(f"  steps {p['steps']:>7}:{p['reward']:>7.3f}  " + "  ".join(f"{'-':>7}" if p.get(b) is None else f"{p[b]:>7.3f}" for b in BEHAVIORS) for p in rlvr["reward_curve"]),
        ]
    lines.append(f"(an answer that never calls a tool earns {summary['never_calls_baseline']:.3f} strict reward on the training rows)")
    checks = summary.get("validation", {}).get("curve") or []
    if checks:
        lines += [
            f"validation reward (strict, greedy) on the same {summary['validation']['rows']} held-out rows over tools training never saw:",
            f"  {'stage':<11}{'step':>5}{'all':>8}  " + "  ".join(f"{b:>7}" for b in BEHAVIORS),
            *(f"  {c['stage']:<11}{c['step']:>5}{c['reward']:>8.3f}  " + "  ".join(f"{'-':>7}" if c.get(b) is None else f"{c[b]:>7.3f}" for b in BEHAVIORS) for c in checks),
        ]
    lines.append(f"training {summary['training_seconds'] / 60:.1f} min; total {summary['seconds'] / 60:.1f} min (data, checks and loading included)")
    return "\n".join(lines)
