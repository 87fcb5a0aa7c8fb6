"""Jobs and their results in SQLite: what the service accepted is never forgotten.

One connection, used under a lock by the event loop and the worker threads alike (every
statement is short). WAL journal: a committed job survives the server being killed; a job
is committed before its 202 is sent.

States: queued -> running -> done | failed; done and failed become expired after the
retention, when the form, the report and the file are deleted and only the id stays (so
that a late reader is told 410, not 404).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    key TEXT,
    state TEXT NOT NULL,
    submission TEXT,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    pdf_file TEXT,
    form BLOB,
    pages INTEGER,
    status TEXT,
    report TEXT,
    html TEXT,
    error_code TEXT,
    error_message TEXT,
    seconds REAL
);
CREATE INDEX IF NOT EXISTS jobs_key ON jobs (key);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, seq);
"""

QUEUED, RUNNING, DONE, FAILED, EXPIRED = "queued", "running", "done", "failed", "expired"
LIVE = (QUEUED, RUNNING, DONE)  # states a duplicate upload is answered from


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    state: str
    submission: str | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    attempts: int
    pdf_file: str | None
    form: bytes | None
    pages: int | None
    status: str | None
    report: str | None
    html: str | None
    error_code: str | None
    error_message: str | None
    seconds: float | None
    key: str | None = None
    position: int | None = None  # 0-based place in the queue, for queued jobs

    @property
    def finished(self) -> bool:
        return self.state in (DONE, FAILED)

    def report_json(self) -> dict | None:
        return json.loads(self.report) if self.report else None


_COLUMNS = ("id, state, submission, created_at, started_at, finished_at, attempts, pdf_file, form, pages, "
            "status, report, html, error_code, error_message, seconds, key")


class Store:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable across a killed process
        self._db.execute("PRAGMA foreign_keys=ON")
        with self._lock:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(f"{path}: database schema {version} is newer than this program's")
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- reading -----------------------------------------------------------------------------

    def _job(self, row: tuple | None) -> Job | None:
        return Job(*row) if row else None

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_COLUMNS}, seq FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return None
            job = Job(*row[:-1])
            if job.state == QUEUED:
                ahead = self._db.execute("SELECT COUNT(*) FROM jobs WHERE state = ? AND seq < ?",
                                         (QUEUED, row[-1])).fetchone()[0]
                job = replace(job, position=ahead)
            return job

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall()
        return {state: n for state, n in rows}

    def queued(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM jobs WHERE state = ?", (QUEUED,)).fetchone()[0]

    def live_files(self) -> set[str]:
        """The upload files a queued or running job still needs."""
        with self._lock:
            rows = self._db.execute("SELECT pdf_file FROM jobs WHERE state IN (?, ?) AND pdf_file IS NOT NULL",
                                    (QUEUED, RUNNING)).fetchall()
        return {r[0] for r in rows}

    # --- writing -----------------------------------------------------------------------------

    def create_or_get(self, *, job_id: str, key: str, submission: str, pdf_file: str, form: bytes,
                      pages: int, queue_limit: int) -> tuple[Job | None, bool]:
        """(job, created): the live job with this key if there is one, else a new queued job;
        (None, False) when the queue is full."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    f"SELECT {_COLUMNS} FROM jobs WHERE key = ? AND state IN (?, ?, ?) ORDER BY seq DESC LIMIT 1",
                    (key, *LIVE)).fetchone()
                if row is not None:
                    self._db.execute("COMMIT")
                    return Job(*row), False
                queued = self._db.execute("SELECT COUNT(*) FROM jobs WHERE state = ?", (QUEUED,)).fetchone()[0]
                if queued >= queue_limit:
                    self._db.execute("COMMIT")
                    return None, False
                self._db.execute(
                    "INSERT INTO jobs (id, key, state, submission, created_at, pdf_file, form, pages) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (job_id, key, QUEUED, submission, time.time(), pdf_file, form, pages))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        job = self.get(job_id)
        assert job is not None
        return job, True

    def claim_next(self) -> Job | None:
        """The oldest queued job, now running (its attempt counted)."""
        with self._lock:
            row = self._db.execute(
                f"UPDATE jobs SET state = ?, started_at = ?, attempts = attempts + 1 "
                f"WHERE seq = (SELECT seq FROM jobs WHERE state = ? ORDER BY seq LIMIT 1) RETURNING {_COLUMNS}",
                (RUNNING, time.time(), QUEUED)).fetchone()
        return self._job(row)

    def finish(self, job_id: str, *, status: str, report: str, html: str | None, pages: int | None,
               seconds: float) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET state = ?, status = ?, report = ?, html = ?, pages = COALESCE(?, pages), "
                "seconds = ?, finished_at = ?, form = NULL, pdf_file = NULL WHERE id = ? AND state = ?",
                (DONE, status, report, html, pages, seconds, time.time(), job_id, RUNNING))

    def fail(self, job_id: str, code: str, message: str) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET state = ?, error_code = ?, error_message = ?, finished_at = ?, form = NULL, "
                "pdf_file = NULL, key = NULL WHERE id = ? AND state IN (?, ?)",
                (FAILED, code, message, time.time(), job_id, QUEUED, RUNNING))

    def requeue(self, job_id: str) -> None:
        with self._lock:
            self._db.execute("UPDATE jobs SET state = ?, started_at = NULL WHERE id = ? AND state = ?",
                             (QUEUED, job_id, RUNNING))

    def interrupted(self) -> list[Job]:
        """The jobs left running by a server that stopped (at start-up, no job is running)."""
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE state = ?", (RUNNING,)).fetchall()
        return [Job(*r) for r in rows]

    def queued_jobs(self) -> list[Job]:
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE state = ? ORDER BY seq",
                                    (QUEUED,)).fetchall()
        return [Job(*r) for r in rows]

    def expire(self, before: float) -> int:
        """Forget the form, report and key of jobs finished before this time; the id stays."""
        with self._lock:
            cur = self._db.execute(
                "UPDATE jobs SET state = ?, key = NULL, submission = NULL, form = NULL, report = NULL, html = NULL, "
                "pdf_file = NULL, error_message = NULL WHERE state IN (?, ?) AND finished_at < ?",
                (EXPIRED, DONE, FAILED, before))
            return cur.rowcount

    def checkpoint(self) -> None:
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

