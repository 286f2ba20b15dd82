"""The ``tooltune`` command line: one subgroup per noun, each command's docstring is its --help.

Commands import their heavy modules inside the function body, so ``tooltune --help`` stays instant.
"""

from __future__ import annotations

import errno
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from .. import __version__
from ..inference import ANSWER_TOKENS
from ..models.catalog import DEFAULT_MODEL


class _Commands(click.Group):
    """Every command: a path the system refuses (a folder under a file, no permission, a full disk)
    is one line naming it, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:  # `tooltune ... | head`: the reader left, nothing to say (and no flush error at exit)
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except OSError as exc:
            # A path problem only: other OSErrors (a network, a library) keep their traceback.
            paths = (PermissionError, NotADirectoryError, IsADirectoryError, FileNotFoundError, FileExistsError)
            if not ((isinstance(exc, paths) and exc.filename) or exc.errno == errno.ENOSPC):
                raise
            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(f"{where}{exc.strerror or exc}; check the path (--out, output_dir, data files) and its permissions") from exc


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="tooltune")
def cli() -> None:
    """Teach small open LLMs to call tools, ask when a value is missing, and refuse what is harmful."""


# ---------------------------------------------------------------------------------------- data
@cli.group()
def data() -> None:
    """Generate, validate and inspect datasets (JSONL in the shared RLVR record shape)."""


@data.command("validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON lines instead of text.")
def data_validate(file: str, as_json: bool) -> None:
    """Check every row of FILE and list each problem with its line and field.

    Exits 1 when any problem is found; never stops at the first one.
    """
    from ..data import validate_file

    report = validate_file(file)
    for problem in report.problems:
        if as_json:
            click.echo(json.dumps({"line": problem.line, "field": problem.field, "message": problem.message}))
        else:
            click.echo(f"{file}: {problem}" if not problem.line else f"{file}:{problem}")
    if report.ok:
        click.echo(f"{file}: {report.rows} rows, no problems", err=as_json)
        return
    bad_lines = len({p.line for p in report.problems if p.line})
    click.echo(f"{file}: {len(report.problems)} problem(s)" + (f" on {bad_lines} of {report.rows} rows" if report.rows else ""), err=True)
    sys.exit(1)


@data.command("stats")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as one JSON object.")
def data_stats(file: str, as_json: bool) -> None:
    """Show FILE's behavior mix, tools, prompt lengths (approx. tokens), request shapes and duplicates."""
    from ..data.stats import compute_stats

    stats = compute_stats(file)
    click.echo(json.dumps(stats.to_dict(), indent=2) if as_json else stats.render())


@data.command("generate")
@click.option("--n", "n", default=1500, show_default=True, help="Training rows (train.jsonl).")
@click.option("--eval-n", default=300, show_default=True, help="Held-out rows over unseen tools (eval.jsonl); 0 skips it.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Directory to write train.jsonl and eval.jsonl into.")
@click.option("--seed", default=0, show_default=True, help="Same seed, same files.")
@click.option("--mix", default="0.6,0.25,0.15", show_default=True, help="Fractions of execute,clarify,refuse rows (exact counts).")
@click.option("--max-distractors", default=3, show_default=True, help="Each row offers its tool plus 0..N other tools.")
@click.option("--pairs", default=0.0, show_default=True, help="Fraction of training clarify rows (and requests for a tool not offered) that come with their execute twin: the same sentence with the value given (or the tool listed), or for a harmful use of a listed tool a harmless request to it.")
@click.option("--refuse-kinds", default="0.55,0.25,0.2", show_default=True, help="Shares of harmful,out_of_scope,tool_not_offered among training refuse rows; eval.jsonl always uses the default.")
@click.option("--rows-per-list", default=1, show_default=True, help="Training rows that share one tool list (requests to one agent); with share_prompts=true SFT runs each list once per batch.")
@click.option("--natural", default=0.7, show_default=True, help="Share of values said the way people write them ('4 pm', '$120k', 'Apple (AAPL)') while the call keeps the schema's form; 0 gives plain values (earlier versions' files).")
@click.option("--passing", type=float, default=0.0, show_default=True, help="Share of training execute rows written from a catalog tool's hand-written in-passing requests, which say optional values inside the sentence as people do ('a nonstop flight for two'); the values still vary. eval.jsonl never uses them.")
@click.option("--paraphrased-values", is_flag=True, help="With --natural: say catalog tools' enum values in the phrases people use ('cheapest first' for sort_by price, 'on foot' for walking; eval.jsonl's tools have their own) and quantities in another unit of the one their description names ('1.75 m' for height_cm 175, '12 kΩ' for 12000 ohms).")
@click.option("--harmful-uses", default=0.0, show_default=True, help="Share of training harmful requests that ask one of the row's own tools to do the harm (directions to stalk someone); eval.jsonl always uses 0.")
@click.option("--backstories", default=0.0, show_default=True, help="Share of training requests that are not harmful told with a line of harmless personal background (an ex, a neighbour, a hospital stay), so refusing takes reading what is asked for; eval.jsonl always uses 0.")
@click.option("--near-refusals", default=0.0, show_default=True, help="Share of requests for a tool the row does not offer whose list shows a tool of that tool's own domain (refusing then takes reading what each tool does); eval.jsonl always uses 0.")
@click.option("--shapes", default=0.0, show_default=True, help="Share of execute rows in other shapes than one call: two calls in one answer, a conversation after a tool result or a follow-up that gives an asked-for value, a 6-12 tool list (eval.jsonl reports each shape).")
@click.option("--name-styles", default=0.0, show_default=True, help="Share of rows whose tool names are renamed into camelCase (getStockPrice) or dotted (markets.get_stock_price) style, half each, so names are copied from the list, not assumed snake case (eval.jsonl reports each style).")
@click.option("--tools", "tools_file", type=click.Path(exists=True, dir_okay=False), help="Your own tools (JSON list of OpenAI function schemas) instead of the bundled catalogs; a tool the generator cannot serve is skipped with its reason, and a per-tool report is printed.")
@click.option("--eval-tools", help="With --tools: comma-separated names held out for eval.jsonl (default: a fifth of them).")
@click.option("--teacher", help="Base URL of an OpenAI-compatible endpoint that rewords requests (e.g. http://localhost:8000/v1).")
@click.option("--teacher-model", help="Model name to ask at --teacher.")
@click.option("--overwrite", is_flag=True, help="Replace train.jsonl / eval.jsonl already in --out (without it, files there are never replaced).")
def data_generate(n, eval_n, out, seed, mix, max_distractors, pairs, refuse_kinds, rows_per_list, natural, passing, paraphrased_values, harmful_uses, backstories, near_refusals, shapes, name_styles, tools_file, eval_tools, teacher, teacher_model, overwrite) -> None:
    """Write synthetic execute / clarify / refuse rows: train.jsonl and held-out eval.jsonl.

    Training rows use the bundled training catalog; eval rows use tools, phrasings and kinds
    of harmful request that training never shows. Fully offline unless --teacher is given.
    """
    from ..data.generate import GenerateConfig, generate

    if bool(teacher) != bool(teacher_model):
        raise click.UsageError("--teacher and --teacher-model go together")
    if not out.strip():
        raise click.UsageError("--out: give a folder (for this one: --out .)")
    try:
        fractions, kinds = _fractions("--mix", mix), _fractions("--refuse-kinds", refuse_kinds)
        config = GenerateConfig(
            n=n, eval_n=eval_n, seed=seed, mix=fractions, max_distractors=max_distractors, pairs=pairs, refuse_kinds=kinds, rows_per_list=rows_per_list, natural=natural, harmful_uses=harmful_uses, backstories=backstories, near_refusals=near_refusals, shapes=shapes, name_styles=name_styles, paraphrased_values=paraphrased_values, passing=passing,  # type: ignore[arg-type]
            tools_file=tools_file, eval_tools=[t.strip() for t in eval_tools.split(",") if t.strip()] if eval_tools else None,
        )
        taken = [name for name in ("train.jsonl", "eval.jsonl") if (Path(out) / name).exists()]
        if taken and not overwrite:  # a file there may be someone's own data: replaced only when asked
            raise ValueError(f"{out} already holds {' and '.join(taken)}; add --overwrite to replace them, or pick another --out")
        generated = generate(config, out)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    paths = generated.paths
    if tools_file:  # your own tools: say what each got, and why any was skipped
        click.echo(generated.render())
    if teacher:
        from ..data import read_records, write_jsonl
        from ..data.teacher import rewrite_with_teacher
        from ..rewards.grounding import still_grounded

        for split, path in paths.items():
            records = read_records(path)
            summary = rewrite_with_teacher(records, teacher, teacher_model, keeps=still_grounded)
            write_jsonl(path, records)
            click.echo(f"teacher on {split}: {summary.rewritten} reworded, {summary.kept_original} kept (rewrite changed a value), {summary.failed_calls} endpoint errors")
    for split, path in paths.items():
        click.echo(f"wrote {path}")


def _fractions(option: str, text: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.split(","))
    except ValueError:
        raise click.BadParameter(f"expected comma-separated numbers such as 0.6,0.25,0.15, got {text!r}", param_hint=option) from None


@cli.command("quickstart")
@click.option("--preset", type=click.Choice(["full", "full-rlvr", "quick"]), default="full", show_default=True,
              help="full: the recipe's SFT warm start on natural-request data (~40 min of training on 2 cores; the best model here); "
                   "full-rlvr: the same, then 20 GRPO steps of 2 prompts x 8 (~15 min more); quick: 28 SFT + 6 GRPO steps of 1 prompt (~15 min).")
@click.option("--out", default="runs/quickstart", show_default=True, type=click.Path(file_okay=False), help="Where to write data, runs and the summary.")
@click.option("--base", default=DEFAULT_MODEL, show_default=True, help="Model to customize.")
@click.option("--seed", default=0, show_default=True, help="Seeds the generated data and the training runs.")
@click.option("--set", "changes", multiple=True, metavar="FIELD=VALUE",
              help="Change one of the preset's settings, e.g. --set sft_steps=420 --set paraphrased_values=true (fields: tooltune.quickstart.Preset). A folder keeps the settings it was started with.")
def quickstart(preset: str, out: str, base: str, seed: int, changes: tuple[str, ...]) -> None:
    """The main job: generate data, SFT warm start (then RLVR in the full-rlvr and quick presets);
    prints the validation reward on held-out rows at each stage's start, middle and end.

    Rerun the same command after an interruption: finished stages are reused and the running one
    resumes from its last checkpoint.
    """
    from ..quickstart import preset_with, run_quickstart
    from ..training.spec import parse_overrides

    try:  # a bad --set, or a folder started with other settings (SpecError is a ValueError too)
        chosen = preset_with(preset, parse_overrides(list(changes)))
        run_quickstart(Path(out) / preset, preset=chosen, seed=seed, base=base, echo=click.echo)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


# -------------------------------------------------------------------------------------- reward
@cli.group()
def reward() -> None:
    """Score responses with a built-in or your own reward function."""


@reward.command("list")
def reward_list() -> None:
    """List the built-in rewards (any `file.py:function` or `module:function` works too)."""
    from ..rewards import BUILTIN_REWARDS

    for name, fn in BUILTIN_REWARDS.items():
        click.echo(f"{name:<10} {(fn.__doc__ or '').strip().splitlines()[0]}")
    click.echo(f"{'judge':<10} An AI judge at an OpenAI-compatible endpoint grades against a rubric (clarify, refuse, answer after a tool result); technique rlaif, or --judge-url here.")


@reward.command("score")
@click.option("--data", "data_file", required=True, type=click.Path(exists=True, dir_okay=False), help="The dataset (JSONL records).")
@click.option("--responses", required=True, type=click.Path(exists=True, dir_okay=False), help='Predictions: {"id", "response"} per line, matched by id or by line.')
@click.option("--reward", "reward_name", default="strict", show_default=True,
              help="Built-in name, path/to/file.py:function or module:function; several mixed: 'strict=0.7,judge=0.3'.")
@click.option("--judge-url", help="For 'judge': an OpenAI-compatible endpoint (http://host:port/v1) that grades each response against a rubric.")
@click.option("--judge-model", default="default", show_default=True, help="For 'judge': the model name the endpoint serves.")
@click.option("--rubric", default="builtin", show_default=True, help="For 'judge': 'builtin' or a rubric file (text, or YAML {behavior: rubric}).")
@click.option("--judge-api-key-env", help="For 'judge': the NAME of the environment variable holding the endpoint's API key.")
@click.option("--out", type=click.Path(dir_okay=False), help="Also write each row's score to this JSONL file.")
def reward_score(data_file: str, responses: str, reward_name: str, judge_url: str | None, judge_model: str, rubric: str, judge_api_key_env: str | None, out: str | None) -> None:
    """Score a predictions file against a dataset and print the mean reward per behavior.

    A reward that raises or returns a non-number is reported with the row it failed on; the other
    rows are still scored, and the command exits 1. With a judge (`--reward strict=0.5,judge=0.5
    --judge-url ...`) each part's mean is printed beside the mix.
    """
    from ..data import DatasetError, read_records
    from ..rewards import RewardError
    from ..rewards.batch import match_predictions, score_rows
    from ..rewards.mixed import build_reward

    parts = [p.strip() for p in reward_name.split(",") if p.strip()]
    spec: Any = parts[0] if len(parts) == 1 and "=" not in parts[0] else {}
    if not isinstance(spec, str):
        for part in parts:
            name, _, weight = part.partition("=")
            try:
                spec[name.strip()] = float(weight) if weight else 1.0
            except ValueError:
                raise click.ClickException(f"--reward: {part!r}: write name=weight with a number, e.g. strict=0.7,judge=0.3") from None
    judge = {"url": judge_url, "model": judge_model, "rubric": rubric, "api_key_env": judge_api_key_env} if judge_url else None
    if out and not Path(out).resolve().parent.is_dir():  # said before the scoring (a judge's calls) is done, not after
        raise click.ClickException(f"--out {out}: the folder {Path(out).resolve().parent} does not exist; create it or pick another path")
    try:
        records = read_records(data_file)
        predictions = match_predictions(records, responses)
        reward_fn = build_reward(spec, judge, on_error="skip")
        result = score_rows(reward_fn, records, predictions)
    except (DatasetError, RewardError, ValueError) as exc:
        raise click.ClickException(str(exc).replace("judge: section", "--judge-url")) from exc
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            for i, (record, response, value) in enumerate(zip(records, predictions, result.values)):
                parts = {name: values[i] for name, values in result.parts.items()}
                handle.write(json.dumps({"line": record.line, "id": record.id, "behavior": record.behavior, "response": response, "reward": value, **({"parts": parts} if parts else {})}) + "\n")
    click.echo(result.render(reward_fn.name))
    if getattr(reward_fn, "judge", None) is not None:
        stats = reward_fn.judge.stats
        click.echo(f"judge: {stats.requests} calls, {stats.cache_hits} from the cache, {stats.failures} failed, {stats.seconds:.1f}s")
    for message in reward_fn.errors:
        click.echo(f"error: {message}", err=True)
    if reward_fn.errors:
        sys.exit(1)


# -------------------------------------------------------------------------------------- models
@cli.group()
def models() -> None:
    """Base models you can customize, and My Models: your registered versions."""


@models.command("list")
def models_list() -> None:
    """List the bundled base models and every registered model with its versions and aliases."""
    from ..models import list_base_models
    from ..runs import Registry

    click.echo("base models (any transformers folder, .gguf file or hub id works too):")
    for row in list_base_models():
        click.echo(f"  {row['name']:<24} {row['size']}, {row['description']}\n  {'':<24} chat format {row['chat']}; license {row['license']}\n  {'':<24} weights: {row['weights']}")
    registry = Registry()
    names = registry.names()
    click.echo("my models:" if names else "my models: none yet (training registers its result; or: tooltune models register RUN --name NAME)")
    for name in names:
        for v in registry.versions(name):
            tags = v.to_dict()
            aliases = " ".join(f"@{a}" for a in v.aliases)
            click.echo(f"  {name}@{v.version:<4} {tags.get('technique', ''):<5} base {tags.get('base', '')}  {aliases}")


@models.command("show")
@click.argument("ref")
def models_show(ref: str) -> None:
    """Details of NAME[@VERSION|@ALIAS] (latest version without a selector): lineage, metrics,
    evaluations; or of a bundled base model."""
    from ..models import list_base_models
    from ..runs import Registry, RegistryError, parse_ref

    name, selector = parse_ref(ref)
    try:
        version = Registry().get(name, selector)
    except RegistryError as exc:
        base = next((row for row in list_base_models() if row["name"] == ref), None)
        if base is None:
            raise click.ClickException(str(exc)) from exc
        click.echo(json.dumps(base, indent=2, default=str))  # a bundled base: nothing to register
        return
    click.echo(json.dumps(version.to_dict(), indent=2, default=str))


@models.command("register")
@click.argument("run")
@click.option("--name", required=True, help="Registered model name; a new version is added when it exists.")
@click.option("--description", help="Free text stored with the version.")
def models_register(run: str, name: str, description: str | None) -> None:
    """Register a finished RUN (name or directory) as a new version of NAME."""
    from ..runs import Registry, RegistryError, RunError

    try:
        version = Registry().register(run, name, description)
    except (RegistryError, RunError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"registered {version.name}@{version.version}")


@models.command("alias")
@click.argument("name")
@click.argument("alias")
@click.argument("version", required=False)
@click.option("--delete", is_flag=True, help="Remove the alias instead of setting it.")
def models_alias(name: str, alias: str, version: str | None, delete: bool) -> None:
    """Point NAME@ALIAS at VERSION (sets or moves it), or --delete it."""
    from ..runs import Registry, RegistryError

    try:
        if delete:
            Registry().delete_alias(name, alias)
            click.echo(f"removed {name}@{alias}")
            return
        if not version:
            raise click.UsageError("give the VERSION the alias should point at (or --delete)")
        Registry().set_alias(name, alias, version)
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{name}@{alias} -> version {version}")


@models.command("delete")
@click.argument("name")
@click.argument("version")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def models_delete(name: str, version: str, yes: bool) -> None:
    """Delete VERSION of NAME from the registry (the run directory and its files stay)."""
    from ..runs import Registry, RegistryError

    if not yes:
        click.confirm(f"delete {name}@{version}?", abort=True)
    try:
        Registry().delete_version(name, version)
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"deleted {name}@{version}")


# --------------------------------------------------------------------------------------- train
@cli.command("train", context_settings={"ignore_unknown_options": False})
@click.argument("spec_file", required=False, type=click.Path(dir_okay=False))
@click.argument("overrides", nargs=-1)
@click.option("--resume", "resume_ref", help="Continue this run (name or directory) from its last checkpoint.")
def train_cmd(spec_file: str | None, overrides: tuple[str, ...], resume_ref: str | None) -> None:
    """Customize a model as SPEC_FILE (YAML) says, with optional key=value OVERRIDES.

    The spec is validated (paths, data rows, reward, batch sizes) before any model loads.
    Example: tooltune train job.yaml technique=sft max_steps=50 trl.beta=0.04
    """
    from ..pipeline import customize
    from ..rewards import RewardError
    from ..training.spec import parse_overrides

    if resume_ref and (spec_file or overrides):
        raise click.UsageError("--resume takes no spec file or overrides: the run keeps its own spec")
    if not resume_ref and not spec_file:
        raise click.UsageError("give a job spec file (or --resume RUN)")
    try:
        customize(spec_file, resume=resume_ref, echo=click.echo, **parse_overrides(list(overrides)))
    except (ValueError, RewardError) as exc:  # SpecError, RunError, RegistryError, DatasetError: each says how to fix it
        raise click.ClickException(str(exc)) from exc


# ---------------------------------------------------------------------------------------- jobs
@cli.group()
def jobs() -> None:
    """Run customization and evaluation in the background (this machine, or a Ray cluster)."""


def _job_line(job) -> str:
    took = f"{(job.finished or time.time()) - job.started:6.0f}s" if job.started else "      -"
    made = job.result.get("model") or ""
    return f"{job.id:<24} {job.status:<9} {took} {job.backend:<5} {job.title}" + (f"  -> {made}" if made else "")


@jobs.command("submit")
@click.argument("spec_file", type=click.Path(dir_okay=False))
@click.argument("overrides", nargs=-1)
@click.option("--backend", type=click.Choice(["local", "ray"]), default="local", show_default=True, help="local: a worker on this machine; ray: Ray's job submission API.")
@click.option("--address", envvar="RAY_ADDRESS", help="With --backend ray: the Ray dashboard address, e.g. http://127.0.0.1:8265 (or set RAY_ADDRESS).")
def jobs_submit(spec_file: str, overrides: tuple[str, ...], backend: str, address: str | None) -> None:
    """Validate a training job spec (like `tooltune train`) and run it in the background.

    Errors in the spec come back now; the training itself survives this terminal closing.
    One job runs at a time here (TOOLTUNE_JOBS_MAX=N for more); the rest wait in order.
    Example: tooltune jobs submit job.yaml max_steps=50 eval_data=data/eval.jsonl
    """
    from ..jobs import submit_train
    from ..runs import RegistryError
    from ..training import SpecError

    try:
        job = submit_train(spec_file, list(overrides), backend=backend, address=address)
    except (SpecError, RegistryError, ValueError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"submitted {job.id} ({job.title}); follow it with: tooltune jobs logs {job.id} --follow")


@jobs.command("list")
@click.option("--status", type=click.Choice(["queued", "running", "succeeded", "failed", "cancelled"]), help="Only jobs in this state.")
@click.option("--limit", type=int, default=50, show_default=True)
def jobs_list(status: str | None, limit: int) -> None:
    """List jobs, newest first: id, state, seconds running, backend, what it does, what it made."""
    from ..jobs import list_jobs

    found = list_jobs(status, limit)
    if not found:
        click.echo("no jobs yet (tooltune jobs submit job.yaml)")
    for job in found:
        click.echo(_job_line(job))


@jobs.command("status")
@click.argument("job_id")
@click.option("--json", "as_json", is_flag=True, help="Print the whole record as JSON.")
def jobs_status(job_id: str, as_json: bool) -> None:
    """Show one job (an id, or a unique end of it)."""
    from ..jobs import get_job

    try:
        job = get_job(job_id)
    except KeyError as exc:
        raise click.ClickException(exc.args[0]) from exc
    if as_json:
        click.echo(json.dumps(job.to_dict(), indent=2))
        return
    click.echo(_job_line(job))
    if job.error:
        click.echo(f"  error: {job.error}")
    for key, value in job.result.items():  # one line each: the run, the registered version, the metrics file
        click.echo(f"  {key}: {value}")
    click.echo(f"  log: {job.log_path if job.backend == 'local' else 'kept by Ray (tooltune jobs logs ' + job.id + ')'}")


@jobs.command("logs")
@click.argument("job_id")
@click.option("--follow", "-f", is_flag=True, help="Keep printing as the log grows, until the job ends.")
def jobs_logs(job_id: str, follow: bool) -> None:
    """Print a job's output (training progress, metrics, errors)."""
    from ..jobs import follow_logs, job_logs

    try:
        if follow:
            for chunk in follow_logs(job_id):
                click.echo(chunk, nl=False)
        else:
            click.echo(job_logs(job_id)[0], nl=False)
    except KeyError as exc:
        raise click.ClickException(exc.args[0]) from exc


@jobs.command("cancel")
@click.argument("job_id")
def jobs_cancel(job_id: str) -> None:
    """Cancel a queued or running job (its run keeps its checkpoints: `tooltune train --resume RUN`)."""
    from ..jobs import cancel_job, get_job

    try:
        before = get_job(job_id)
        if before.status not in ("queued", "running"):
            raise click.ClickException(f"job {before.id} already {before.status}; nothing to cancel")
        job = cancel_job(job_id)
    except KeyError as exc:
        raise click.ClickException(exc.args[0]) from exc
    click.echo(_job_line(job))


# ---------------------------------------------------------------------------------------- eval
@cli.command("eval")
@click.option("--model", help="Model to evaluate: NAME@VERSION or NAME@alias, a run (name, directory, run:NAME), transformers folder, .gguf file or bundled name.")
@click.option("--base", help="Model to compare against, usually what --model was trained from (same forms as --model).")
@click.option("--data", "data_file", required=True, type=click.Path(exists=True, dir_okay=False), help="Held-out rows (JSONL records).")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Directory for predictions.jsonl, eval.json, report.md, chart.png.")
@click.option("--predictions", type=click.Path(exists=True, dir_okay=False), help='Score these answers ({"id"?, "response"} per line) instead of generating with --model.')
@click.option("--base-predictions", type=click.Path(exists=True, dir_okay=False), help="The same for --base.")
@click.option("--temperature", default=0.0, show_default=True, help="0 is greedy; above 0 samples.")
@click.option("--max-new-tokens", type=click.IntRange(min=1), help="Longest answer [default: the file's longest reference answer, with its <think> check, plus 64 tokens].")
@click.option("--batch-size", type=click.IntRange(min=1), default=16, show_default=True, help="Rows per generation batch.")
@click.option("--limit", type=click.IntRange(min=1), help="Evaluate only the first N rows.")
@click.option("--dtype", type=click.Choice(["auto", "bfloat16", "float32"]), default="auto", show_default=True)
@click.option("--read-values/--no-read-values", default=True, show_default=True, help="Read the values a generated answer quotes from the request into its call, as serving does (eval.json also keeps the scores without it).")
@click.option("--constrain-calls/--free-calls", default=True, show_default=True, help="Decode tool calls within the offered tools' schemas, as serving does; --free-calls scores the model's calls as it writes them.")
@click.option("--ground-quotes/--free-quotes", default=True, show_default=True, help="With constrained calls: the <think> check keeps its trained form, quotes only the request's own words, and the answer follows it, as serving does; --free-quotes frees the check.")
def eval_cmd(model, base, data_file, out, predictions, base_predictions, temperature, max_new_tokens, batch_size, limit, dtype, read_values, constrain_calls,
             ground_quotes) -> None:
    """Answer every row of --data with --model (and --base), score both with every metric, report.

    Example: tooltune eval --model run:rlvr --base smollm2-135m --data data/eval.jsonl --out eval/
    """
    from ..models import ModelNotFound
    from ..pipeline import evaluate

    try:
        evaluate(model, data=data_file, out=out, base=base, echo=click.echo, predictions=predictions, base_predictions=base_predictions,
                 temperature=temperature, max_new_tokens=max_new_tokens, batch_size=batch_size, limit=limit, dtype=dtype, read_values=read_values,
                 constrain_calls=constrain_calls, ground_quotes=ground_quotes)
    except (ModelNotFound, ValueError) as exc:  # DatasetError, SpecError, RunError, RegistryError: each says how to fix it
        raise click.ClickException(str(exc)) from exc


@cli.command("compare")
@click.argument("evaluations", nargs=-1, required=True)
@click.option("--mean", is_flag=True, help="Add a column with the mean and (min-max) of all of them: seeds of one recipe.")
@click.option("--out", type=click.Path(dir_okay=False), help="Also write the Markdown table to this file.")
def compare_cmd(evaluations: tuple[str, ...], mean: bool, out: str | None) -> None:
    """Every metric, per behavior, of several evaluations of the same held-out file, side by side.

    Each EVALUATION is [LABEL=]PATH[#base]: an eval.json, the --out directory of `tooltune eval`, or a
    run directory with eval/ (the label defaults to the run's name; #base picks the --base model's
    result). Evaluations of different files are refused: their numbers do not measure the same thing.

    Example: tooltune compare seed0=runs/s0 seed1=runs/s1 seed2=runs/s2 --mean
    """
    from ..evaluation.report import ComparisonError, compare_evaluations

    try:
        table = compare_evaluations(list(evaluations), mean=mean)
    except ComparisonError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(table)
    if out:
        Path(out).write_text(table + "\n")


# --------------------------------------------------------------------------------------- serve
@cli.command("serve")
@click.argument("model")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (0.0.0.0: every interface).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--api-key", envvar="TOOLTUNE_API_KEY", help="Require `Authorization: Bearer KEY` (or set TOOLTUNE_API_KEY).")
@click.option("--name", "served_name", help="The model name clients send; default: MODEL as given.")
@click.option("--max-tokens", default=ANSWER_TOKENS, show_default=True, type=click.IntRange(1, 2048), help="Answer length when a request does not set max_tokens (the recipe's longest answer fits); at most 2048, a request's limit.")
@click.option("--max-batch", default=16, show_default=True, type=click.IntRange(min=1), help="Concurrent requests decoded together (1: one at a time).")
@click.option("--prefix-cache", default=8, show_default=True, type=click.IntRange(min=0), help="System turns (tool lists) kept prefilled for the next request (0: none).")
@click.option("--read-values/--no-read-values", default=True, show_default=True, help="Read the values the model quotes from the request (\"7:15 pm\") into the call by code; --no-read-values serves the model's own.")
@click.option("--constrain-calls/--free-calls", default=True, show_default=True, help="Decode a tool call within the request's tool schemas; --free-calls serves the call as the model writes it.")
@click.option("--ground-quotes/--free-quotes", default=True, show_default=True, help="With constrained calls: the model's <think> check keeps its trained form, quotes only the conversation's own words, and the answer follows it; --free-quotes frees the check.")
def serve_cmd(model: str, host: str, port: int, api_key: str | None, served_name: str | None, max_tokens: int, max_batch: int, prefix_cache: int, read_values: bool,
              constrain_calls: bool, ground_quotes: bool) -> None:
    """Serve MODEL (NAME@V, NAME@alias, a run, a folder or a .gguf file) as an OpenAI-compatible endpoint."""
    from ..pipeline import serve

    _can_listen(host, port)
    try:
        serve(model, host=host, port=port, api_key=api_key, served_name=served_name, max_tokens=max_tokens, max_batch=max_batch, prefix_cache=prefix_cache, read_values=read_values,
              constrain_calls=constrain_calls, ground_quotes=ground_quotes, echo=click.echo)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


def _can_listen(host: str, port: int) -> None:
    """Bind once before loading anything: a host that is not this machine's or a port in use fails
    now, in a line, not after the model loaded with a server traceback."""
    import socket

    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port} ({exc.strerror or exc}); pick another --host or --port") from exc


# -------------------------------------------------------------------------------------- studio
@cli.command("studio")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on; beyond loopback (0.0.0.0: every interface) the studio asks for the access token it prints.")
@click.option("--port", default=7860, show_default=True, type=click.IntRange(0, 65535))
def studio_cmd(host: str, port: int) -> None:
    """Open the web studio: models, customize with a form, jobs, details with charts, evaluate, deploy."""
    import uvicorn

    from ..web.studio import create_studio

    _can_listen(host, port)
    app = create_studio(host="127.0.0.1" if host in ("127.0.0.1", "localhost") else host)
    if app.state.token:  # beyond loopback: a link with the access token, as Jupyter prints one
        from ..web.deploy import reachable_host

        click.echo(f"tooltune studio at http://{reachable_host(host)}:{port}/?token={app.state.token}")
        click.echo("  it listens beyond this machine: only that link (or the token) opens it; uploaded reward files are code that training jobs run")
    else:
        click.echo(f"tooltune studio at http://{host}:{port}/ (Ctrl+C stops it and the endpoints it started)")
    uvicorn.run(app, host=host, port=port, log_level="warning")


# -------------------------------------------------------------------------------------- export
@cli.command("export")
@click.argument("model")
@click.option("--format", "fmt", type=click.Choice(["hf", "gguf"]), required=True, help="hf: merged transformers folder; gguf: llama.cpp/Ollama file + Modelfile.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Directory to write into.")
@click.option("--dtype", type=click.Choice(["f16", "f32"]), default="f16", show_default=True, help="GGUF weight precision.")
def export_cmd(model: str, fmt: str, out: str, dtype: str) -> None:
    """Export MODEL (NAME@V, NAME@alias, a run, a folder or a .gguf file) for self-managed serving."""
    from ..pipeline import export

    try:
        written = export(model, out, format=fmt, dtype=dtype)
    except FileExistsError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:  # --out under a file, or somewhere this user cannot write
        raise click.ClickException(f"cannot write to {out}: {exc.strerror or exc} ({exc.filename or out}); pick another --out") from exc
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote {written}" + (f" and {Path(out) / 'Modelfile'} (ollama create NAME -f {Path(out) / 'Modelfile'})" if fmt == "gguf" else ""))


def main() -> None:  # pragma: no cover - console entry point alias
    cli()


if __name__ == "__main__":  # pragma: no cover
    cli()
