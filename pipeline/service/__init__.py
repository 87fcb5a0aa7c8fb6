"""The pre-check service the web platform calls at upload time (`precheck serve`).

app.py: the HTTP API (FastAPI on uvicorn); jobs.py: the check worker processes; store.py: jobs
and results in SQLite; settings.py: options and environment variables. Needs the `serve` extra.
"""

from .settings import Settings


def serve(settings: Settings) -> None:
    from .app import serve as _serve

    _serve(settings)


__all__ = ["Settings", "serve"]
