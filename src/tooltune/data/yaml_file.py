"""Text and YAML files read with their errors placed: "job.yaml, line 3, column 7: ...", not PyYAML's
"<unicode string>"; "rubric.txt: not UTF-8 text (byte 9)", not a UnicodeDecodeError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["read_text", "read_yaml"]


def read_text(path: Path) -> str:
    """``path``'s text; a ValueError that names the file and says how to fix it when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from exc
    except OSError as exc:  # gone, a folder, no permission
        raise ValueError(f"{path}: cannot be read ({exc.strerror or exc})") from exc


def read_yaml(path: Path, text: str | None = None) -> Any:
    """``path``'s YAML (or JSON) document (``text``: already read); a ValueError that names the
    file, line and column when it is none."""
    import yaml

    text = read_text(path) if text is None else text
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ValueError(f"{path}{where}: not valid YAML: {getattr(exc, 'problem', None) or str(exc).splitlines()[0]}") from exc
