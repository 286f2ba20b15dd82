"""`data generate --tools` on tool lists other people wrote: 26 public MCP servers (tests/fixtures/public_tools)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from click.testing import CliRunner

from tooltune.cli.main import cli
from tooltune.data.generate import GenerateConfig, generate
from tooltune.data.records import read_records
from tooltune.data.validate import validate_file

FIXTURES = Path(__file__).parent.parent / "fixtures" / "public_tools"


def test_every_public_server_gets_valid_rows_in_seconds(tmp_path):
    files = sorted(FIXTURES.glob("*.json"))
    assert len(files) >= 20
    served, skipped, started = set(), {}, time.perf_counter()
    for path in files:
        tools = json.loads(path.read_text())["tools"]
        done = generate(GenerateConfig(n=4 * len(tools) + 8, eval_n=len(tools) + 4, seed=0, tools_file=str(path)), tmp_path / path.stem)
        for split_path in done.paths.values():
            report = validate_file(split_path)
            assert report.ok, f"{path.name}: {report.problems[:3]}"
        served |= {f"{path.stem}/{name}" for name in done.rows}
        skipped.update({f"{path.stem}/{name}": why for name, why in done.skipped.items()})
    assert len(served) >= 240, f"only {len(served)} tools got rows; skipped: {skipped}"
    assert time.perf_counter() - started < 60
    # Nothing is skipped for a schema feature: only names a server itself serves twice would be.
    assert not skipped, skipped


def test_requests_ask_for_things_with_values_that_fit(tmp_path):
    path = FIXTURES / "github.json"
    done = generate(GenerateConfig(n=120, eval_n=0, seed=1, tools_file=str(path)), tmp_path)
    rows = read_records(done.paths["train"])
    names = {t["function"]["name"] for t in json.loads(path.read_text())["tools"]}
    assert not any(name in row.user_prompt for row in rows for name in names), "a request never names the function"
    calls = [json.loads(r.ground_truth)[0] for r in rows if r.behavior == "execute"]
    owners = [c["arguments"]["owner"] for c in calls if "owner" in c["arguments"]]
    assert owners and all(" " not in o for o in owners), "an owner is a user name, not a random topic"


def test_the_cli_prints_a_report_per_tool(tmp_path):
    result = CliRunner().invoke(cli, ["data", "generate", "--tools", str(FIXTURES / "slack.json"), "--n", "40", "--eval-n", "10", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "ex/cl/ref" in result.output and "slack_post_message" in result.output
