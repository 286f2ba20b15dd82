"""Where background jobs are remembered: one SQLite file under the tooltune home.

The schema grows by numbered migrations (``MIGRATIONS[i]`` brings a database to version i+1,
recorded in SQLite's ``user_version``), so a newer tooltune opens an older home without losing its
jobs. Nothing here imports torch or starts anything: ``tooltune jobs list`` stays instant.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..home import home

__all__ = ["Job", "JobStore", "STATES", "FINISHED", "jobs_dir"]

STATES = ("queued", "running", "succeeded", "failed", "cancelled")
FINISHED = ("succeeded", "failed", "cancelled")

MIGRATIONS = [
    """CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,          -- train | eval
        title TEXT NOT NULL,         -- one line for lists: technique, base, data
        argv TEXT NOT NULL,          -- JSON list: the tooltune command the job runs
        backend TEXT NOT NULL,       -- local | ray
        address TEXT,                -- the Ray dashboard address (ray backend)
        status TEXT NOT NULL,
        created REAL NOT NULL,
        started REAL,
        finished REAL,
        pid INTEGER,                 -- the local process group leader while running
        returncode INTEGER,
        dir TEXT NOT NULL,           -- the job's folder: spec.yaml, job.log
        result TEXT,                 -- JSON: run directory, registered version, eval folder
        error TEXT
    )""",
]


def jobs_dir() -> Path:
    path = home() / "jobs"
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class Job:
    id: str
    kind: str
    title: str
    argv: list[str]
    backend: str
    status: str
    created: float
    dir: str
    address: str | None = None
    started: float | None = None
    finished: float | None = None
    pid: int | None = None
    returncode: int | None = None
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def log_path(self) -> Path:
        return Path(self.dir) / "job.log"

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__} | {"log": str(self.log_path)}

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Job":
        values = dict(row)
        values["argv"] = json.loads(values["argv"])
        values["result"] = json.loads(values["result"] or "{}")
        return cls(**values)


class JobStore:
    """The jobs table. Each call opens its own connection: workers, the CLI and the studio share the file."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else jobs_dir() / "jobs.db"
        with self._connect() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            for number, statement in enumerate(MIGRATIONS[version:], start=version + 1):
                db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")

    def _connect(self) -> sqlite3.Connection:
        # A worker and the CLI may write at the same moment; wait for the lock rather than fail.
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def _rows(self, sql: str, *args: Any) -> list[Job]:
        with closing(self._connect()) as db:
            return [Job.from_row(r) for r in db.execute(sql, args).fetchall()]

    def add(self, kind: str, title: str, argv: list[str], backend: str, job_dir: Path | None = None, address: str | None = None, result: dict[str, Any] | None = None) -> Job:
        job_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        folder = job_dir or jobs_dir() / job_id
        folder.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db:
            db.execute(
                "INSERT INTO jobs (id, kind, title, argv, backend, address, status, created, dir, result) VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)",
                (job_id, kind, title, json.dumps(argv), backend, address, time.time(), str(folder), json.dumps(result or {})),
            )
        return self.get(job_id)

    def get(self, job_id: str) -> Job:
        found = self._rows("SELECT * FROM jobs WHERE id = ? OR id LIKE ? ORDER BY created", job_id, f"%{job_id}")
        exact = [j for j in found if j.id == job_id]
        if exact or len(found) == 1:
            return (exact or found)[0]
        if not found:
            raise KeyError(f"no job {job_id!r}; `tooltune jobs list` shows the jobs")
        raise KeyError(f"{job_id!r} matches {len(found)} jobs ({', '.join(j.id for j in found)}); give more of the id")

    def list(self, status: str | None = None, limit: int | None = None) -> list[Job]:
        sql = "SELECT * FROM jobs" + (" WHERE status = ?" if status else "") + " ORDER BY created DESC" + (f" LIMIT {int(limit)}" if limit else "")
        return self._rows(sql, *([status] if status else []))

    def queued(self) -> list[Job]:
        return self._rows("SELECT * FROM jobs WHERE status = 'queued' AND backend = 'local' ORDER BY created")

    def running(self) -> list[Job]:
        return self._rows("SELECT * FROM jobs WHERE status = 'running' AND backend = 'local' ORDER BY created")

    def update(self, job_id: str, only_if: tuple[str, ...] | None = None, **values: Any) -> bool:
        """Set columns; with ``only_if``, only while the job is in one of those states (True when it was)."""
        for key in ("result", "argv"):
            if key in values:
                values[key] = json.dumps(values[key])
        sets = ", ".join(f"{k} = ?" for k in values)
        sql = f"UPDATE jobs SET {sets} WHERE id = ?"
        args = [*values.values(), job_id]
        if only_if:
            sql += f" AND status IN ({', '.join('?' * len(only_if))})"
            args += list(only_if)
        with closing(self._connect()) as db:
            return db.execute(sql, args).rowcount > 0
