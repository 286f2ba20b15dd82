"""The ``tooltune`` command line: one subgroup per noun, each command's docstring is its --help.

Commands import their heavy modules inside the function body, so ``tooltune --help`` stays instant.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .. import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
            click.echo(f"{file}:{problem}")
    if report.ok:
        click.echo(f"{file}: {report.rows} rows, no problems", err=as_json)
        return
    bad_lines = len({p.line for p in report.problems})
    click.echo(f"{file}: {len(report.problems)} problem(s) on {bad_lines} of {report.rows} rows", err=True)
    sys.exit(1)


@data.command("stats")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as one JSON object.")
def data_stats(file: str, as_json: bool) -> None:
    """Show FILE's behavior mix, tools, prompt lengths (approx. tokens), request shapes and duplicates."""
    from ..data.stats import compute_stats

    stats = compute_stats(file)
    click.echo(json.dumps(stats.to_dict(), indent=2) if as_json else stats.render())


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


@reward.command("score")
@click.option("--data", "data_file", required=True, type=click.Path(exists=True, dir_okay=False), help="The dataset (JSONL records).")
@click.option("--responses", required=True, type=click.Path(exists=True, dir_okay=False), help='Predictions: {"id", "response"} per line, matched by id or by line.')
@click.option("--reward", "reward_name", default="strict", show_default=True, help="Built-in name, path/to/file.py:function or module:function.")
@click.option("--out", type=click.Path(dir_okay=False), help="Also write each row's score to this JSONL file.")
def reward_score(data_file: str, responses: str, reward_name: str, out: str | None) -> None:
    """Score a predictions file against a dataset and print the mean reward per behavior.

    A reward that raises or returns a non-number is reported with the row it failed on; the other
    rows are still scored, and the command exits 1.
    """
    from ..data import DatasetError, read_records
    from ..rewards import RewardError, load_reward
    from ..rewards.batch import match_predictions, score_rows

    try:
        records = read_records(data_file)
        predictions = match_predictions(records, responses)
        reward_fn = load_reward(reward_name, on_error="skip")
    except (DatasetError, RewardError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    result = score_rows(reward_fn, records, predictions)
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            for record, response, value in zip(records, predictions, result.values):
                handle.write(json.dumps({"line": record.line, "id": record.id, "behavior": record.behavior, "response": response, "reward": value}) + "\n")
    click.echo(result.render(reward_fn.name))
    for message in reward_fn.errors:
        click.echo(f"error: {message}", err=True)
    if reward_fn.errors:
        sys.exit(1)


def main() -> None:  # pragma: no cover - console entry point alias
    cli()


if __name__ == "__main__":  # pragma: no cover
    cli()
