"""A YAML file read with its errors placed: "job.yaml, line 3, column 7: ...", not PyYAML's "<unicode string>"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["read_yaml"]


def read_yaml(path: Path, text: str | None = None) -> Any:
    """``path``'s YAML (or JSON) document; a ValueError that names the file, line and column when it is none."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8") if text is None else text
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from exc
    except OSError as exc:  # gone, a folder, no permission
        raise ValueError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ValueError(f"{path}{where}: not valid YAML: {getattr(exc, 'problem', None) or str(exc).splitlines()[0]}") from exc
