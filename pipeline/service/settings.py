"""The service's settings: every one from a `precheck serve` option or an environment variable."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

# Environment variables, by setting; `precheck serve --help` names them too.
ENV = {
    "host": "PRECHECK_HOST",
    "port": "PRECHECK_PORT",
    "workers": "PRECHECK_WORKERS",
    "data_dir": "PRECHECK_DATA_DIR",
    "db_path": "PRECHECK_DB",
    "tokens": "PRECHECK_TOKENS",  # comma-separated
    "tokens_file": "PRECHECK_TOKENS_FILE",  # one token a line
    "max_upload_mb": "PRECHECK_MAX_UPLOAD_MB",
    "job_timeout": "PRECHECK_JOB_TIMEOUT",
    "queue_size": "PRECHECK_QUEUE_SIZE",
    "retention": "PRECHECK_RETENTION",
    "max_wait": "PRECHECK_MAX_WAIT",
}
# For tests only: when this variable is 1, a job whose submission id is "sleep-<seconds>-..."
# sleeps that long in the worker before it is checked (to hold a worker busy without OCR).
TEST_SLEEP_ENV = "PRECHECK_TEST_SLEEP"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """'90', '90s', '15m', '12h', '7d' -> seconds."""
    m = _DURATION.match(str(text).lower())
    if m is None:
        raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 15m, 12h, 7d)")
    return float(m[1]) * _UNIT[m[2]]


def default_workers() -> int:
    """One check process per core, less one for the HTTP process; at least one."""
    return max(1, (os.cpu_count() or 2) - 1)


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = field(default_factory=default_workers)  # check processes, each with its own OCR engine
    data_dir: Path = Path("precheck-data")
    db_path: Path | None = None  # default data_dir / "jobs.sqlite3"
    tokens: tuple[str, ...] = ()
    allow_no_auth: bool = False  # only for a service reachable from this machine alone
    max_upload_bytes: int = 50 * 1024 * 1024  # the whole request body
    max_form_bytes: int = 256 * 1024
    job_timeout: float = 300.0  # seconds one check may take before its worker is killed
    queue_size: int = 32  # jobs waiting for a worker (not counting the running ones)
    retention: float = 7 * 86400.0  # seconds a finished job's report is kept
    max_wait: float = 120.0  # the most ?wait= may ask for
    max_attempts: int = 2  # a job interrupted by a crash or a restart is tried this often in all
    read_timeout: float = 60.0  # seconds without a byte of the upload before it is dropped
    ocr: str = "rapidocr"
    dpi: int = 300
    rules_path: str | None = None
    access_log: bool = True
    log_level: str = "info"

    @property
    def database(self) -> Path:
        return self.db_path or self.data_dir / "jobs.sqlite3"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def tmp_dir(self) -> Path:
        return self.data_dir / "tmp"

    @property
    def sweep_interval(self) -> float:
        """How often expired jobs are looked for."""
        return min(60.0, max(0.5, self.retention / 4))

    def check(self) -> None:
        """Refuse settings that would make an unsafe or useless service."""
        if not self.tokens and not self.allow_no_auth:
            raise ValueError(
                f"no bearer token configured: set {ENV['tokens']} or {ENV['tokens_file']} "
                "(or --token), or pass --insecure-no-auth for a service only this machine can reach"
            )
        if any(len(t) < 16 for t in self.tokens):
            raise ValueError("every bearer token must be at least 16 characters long")
        if self.workers < 1 or self.queue_size < 1:
            raise ValueError("workers and queue size must be at least 1")
        if self.max_upload_bytes < 1024 or self.job_timeout <= 0 or self.retention <= 0:
            raise ValueError("upload limit, job timeout and retention must be positive")


def read_tokens(inline: str | None, tokens_file: str | Path | None) -> tuple[str, ...]:
    """Tokens from a comma-separated string and/or a file of one token a line (# comments)."""
    tokens: list[str] = []
    if inline:
        tokens += [t.strip() for t in inline.split(",") if t.strip()]
    if tokens_file:
        for line in Path(tokens_file).read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                tokens.append(line)
    return tuple(dict.fromkeys(tokens))
