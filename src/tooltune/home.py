"""The tooltune home directory: caches, runs and tracking live here unless told otherwise.

Set ``TOOLTUNE_HOME`` to move it (tests give every test its own); the default is ``~/.tooltune``.
"""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    path = Path(os.environ.get("TOOLTUNE_HOME") or Path.home() / ".tooltune").expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def models_cache() -> Path:
    path = home() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path
