"""What the studio's pages share: the templates, rendering, and a registered version looked up for a page."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

__all__ = ["TEMPLATES", "page", "version_of", "version_view", "run_of", "eval_tables"]

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status)


def version_of(name: str, version: str) -> Any:
    """The registered version a URL names; 404 with the registry's message when there is none."""
    from ..runs import Registry, RegistryError

    try:
        return Registry().get(name, version)
    except RegistryError as exc:
        raise HTTPException(404, str(exc)) from exc


def version_view(version: Any) -> dict[str, Any]:
    info = version.to_dict()
    return {"ref": f"{version.name}@{version.version}", "name": version.name, "version": version.version, "aliases": version.aliases,
            "technique": info.get("technique", ""), "base": info.get("base", ""), "created": time.strftime("%Y-%m-%d %H:%M", time.localtime(version.created / 1000))}


def run_of(version: Any) -> tuple[Path | None, dict[str, Any]]:
    """The version's run directory (while it still exists) and its run.json manifest."""
    from ..runs import is_run, read_manifest

    run = Path(version.tags.get("run", ""))
    return (run, read_manifest(run)) if is_run(run) else (None, {})


def eval_tables(run: Path | None) -> list[dict[str, Any]]:
    """Every eval*/eval.json of a run as tables: metric rows, one column per side, and the change."""
    from ..evaluation.report import change, metric_rows

    tables = []
    for path in sorted(run.glob("eval*/eval.json")) if run else []:
        results = json.loads(path.read_text()).get("results", {})
        sides = {s: results[s] for s in ("base", "model") if s in results}
        if not sides:
            continue
        compare = (lambda v: change(v[0], v[1])) if len(sides) == 2 else None
        groups = [{"group": group, "rows": [{"metric": cells[0], "values": cells[1 : 1 + len(sides)], "change": cells[-1] if compare else ""}
                                            for cells in metric_rows(sides, group, extra=compare)]}
                  for group in next(iter(sides.values()))["metrics"]]
        tables.append({"name": path.parent.name, "sides": list(sides), "groups": groups, "chart": (path.parent / "chart.png").exists()})
    return tables
