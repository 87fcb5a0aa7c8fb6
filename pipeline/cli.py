"""The `precheck` command: parses options, calls the importable functions, maps exit codes."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from .model import Status

_EXIT = {Status.PASS: 0, Status.REVIEW: 1, Status.FAIL: 1, Status.ERROR: 2}


def _options(ocr: str, dpi: int, rules: str | None):
    from .runner import Options

    return Options(ocr=ocr, dpi=dpi, rules_path=rules)


_ocr_option = click.option("--ocr", type=click.Choice(["rapidocr", "tesseract"]), default="rapidocr",
                           show_default=True, help="OCR engine for pages without a text layer.")
_dpi_option = click.option("--dpi", type=click.IntRange(100, 600), default=300, show_default=True,
                           help="Render resolution for OCR.")
_rules_option = click.option("--rules", type=click.Path(exists=True, dir_okay=False), default=None,
                             help="Rules file (TOML) of another notice; default: the 2023 Chongqing notice.")


@click.group()
@click.option("-v", "--verbose", count=True, help="-v: INFO logs, -vv: DEBUG.")
def main(verbose: int) -> None:
    """evidence-precheck: 申报佐证材料预审."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the reports.")
@_ocr_option
@_dpi_option
@_rules_option
@click.option("--mask-id", is_flag=True,
              help="Show ID numbers as 500101********1234 in the HTML reports and spreadsheets (and their images).")
@click.option("--workers", type=click.IntRange(0, 256), default=None,
              help="Worker processes, each with its OCR engine [default: one per core; 0: in this process].")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: a process pool on this machine; ray: a Ray actor pool (pip install '.[ray]').")
@click.option("--address", default=None, help="With --engine ray: the cluster (ray://HOST:10001 or HOST:6379); "
              "default: start a local Ray instance.")
@click.option("--timeout", type=click.FloatRange(1), default=300.0, show_default=True,
              help="Seconds one document may take; past it: RESOURCE_LIMIT.")
@click.option("--memory-limit", "memory_mb", type=click.IntRange(64), default=2048, show_default=True,
              help="MB one document may use above its worker's own; past it: RESOURCE_LIMIT.")
@click.option("--cache", "cache_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="SQLite file of page readings and finished reports [default: OUT/.precheck/cache.sqlite3].")
@click.option("--no-cache", is_flag=True, help="Keep nothing: OCR every page, resume nothing.")
@click.option("--restart", is_flag=True, help="Check every submission again (page readings still come from the cache).")
def batch(directory: Path, out: Path, ocr: str, dpi: int, rules: str | None, mask_id: bool, workers: int | None,
          engine: str, address: str | None, timeout: float, memory_mb: int, cache_path: Path | None, no_cache: bool,
          restart: bool) -> None:
    """Check every submission in DIRECTORY and write reports to --out.

    Parallel over all cores; each document under --timeout and --memory-limit. Stopped and
    started again, it checks only what is left; after a rules change it OCRs nothing again."""
    from dataclasses import replace

    from .progress import Progress
    from .runner import BatchOptions, run_batch

    progress = Progress()
    batch_options = BatchOptions(workers=workers, engine=engine, address=address, timeout=timeout,
                                 memory_mb=memory_mb, cache=cache_path, use_cache=not no_cache, resume=not restart)
    try:
        result = run_batch(directory, out, replace(_options(ocr, dpi, rules), mask_id=mask_id), progress=progress,
                           batch=batch_options)
    except KeyboardInterrupt:
        progress.end()
        click.echo("Interrupted. The finished reports are kept: run the same command again to check the rest.",
                   err=True)
        sys.exit(130)
    progress.end()
    counts: dict[str, int] = {}
    for r in result.reports:
        counts[r.status.value] = counts.get(r.status.value, 0) + 1
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    kept = f" ({result.kept} kept from an earlier run)" if result.kept else ""
    click.echo(f"{len(result.reports)} submissions in {result.seconds:.1f}s{kept}: {summary}. Reports: {out}")


@main.command()
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--form", "form", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The declared form (form.json).")
@_ocr_option
@_dpi_option
@_rules_option
def check(pdf: Path, form: Path, ocr: str, dpi: int, rules: str | None) -> None:
    """Check one PDF; print its report as JSON. Exit 0 pass, 1 review or fail, 2 error."""
    from .report import report_json
    from .runner import Prechecker

    checker = Prechecker(_options(ocr, dpi, rules))
    report = checker.check(pdf.stem, pdf.read_bytes(), form.read_bytes(), pdf_name=pdf.name)
    click.echo(json.dumps(report_json(report), ensure_ascii=False, indent=2))
    sys.exit(_EXIT[report.status])


@main.command("eval")
@click.argument("corpus", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--truth", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The truth folder the fixtures generator wrote.")
@click.option("--reports", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Reports of an earlier run of this corpus; without it the corpus is checked first.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write the reports when checking (default: a temporary folder).")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@_ocr_option
@_dpi_option
@_rules_option
def evaluate_command(corpus: Path, truth: Path, reports: Path | None, out: Path | None, as_json: bool, ocr: str,
                     dpi: int, rules: str | None) -> None:
    """Accuracy of the pipeline on CORPUS against its truth."""
    import tempfile

    from .evaluate import evaluate, format_text
    from .runner import run_batch

    with tempfile.TemporaryDirectory(prefix="precheck-eval-") as tmp:
        if reports is None:
            reports = out or Path(tmp)
            run_batch(corpus, reports, _options(ocr, dpi, rules))
        result = evaluate(reports, truth)
    click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2) if as_json else format_text(result))


@main.command("bench")
@click.argument("corpus", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--limit", type=int, default=None, help="Only the first N submissions.")
@click.option("--overlap/--no-overlap", default=True, show_default=True,
              help="Look for seals on a second thread while a page is OCR-ed (as `precheck check` and the "
                   "service on a machine with a core to spare).")
@_ocr_option
@_dpi_option
def bench_command(corpus: Path, limit: int | None, overlap: bool, ocr: str, dpi: int) -> None:
    """Per-stage time per page, pages per second, peak memory, pipeline vs raw OCR."""
    from dataclasses import replace

    from .bench import run_bench

    options = replace(_options(ocr, dpi, None), overlap=overlap)
    click.echo("\n".join(run_bench(corpus, options, limit=limit).lines()))


@main.command("serve")
@click.option("--host", envvar="PRECHECK_HOST", default="127.0.0.1", show_default=True, show_envvar=True)
@click.option("--port", envvar="PRECHECK_PORT", type=click.IntRange(0, 65535), default=8000, show_default=True,
              show_envvar=True)
@click.option("--workers", envvar="PRECHECK_WORKERS", type=click.IntRange(1, 64), default=None, show_envvar=True,
              help="Check processes, each with its own OCR engine [default: cores - 1, at least 1].")
@click.option("--data-dir", envvar="PRECHECK_DATA_DIR", type=click.Path(file_okay=False, path_type=Path),
              default=Path("precheck-data"), show_default=True, show_envvar=True,
              help="Uploads while they wait, and the job database.")
@click.option("--db", envvar="PRECHECK_DB", type=click.Path(dir_okay=False, path_type=Path), default=None,
              show_envvar=True, help="SQLite file of jobs and results [default: DATA_DIR/jobs.sqlite3].")
@click.option("--token", "tokens", multiple=True, help="A bearer token (repeatable; prefer the env var or file).")
@click.option("--tokens-file", envvar="PRECHECK_TOKENS_FILE", type=click.Path(exists=True, dir_okay=False),
              default=None, show_envvar=True, help="File of bearer tokens, one a line.")
@click.option("--insecure-no-auth", is_flag=True, help="Accept requests without a token (local testing only).")
@click.option("--max-upload-mb", envvar="PRECHECK_MAX_UPLOAD_MB", type=click.FloatRange(0.01), default=50.0,
              show_default=True, show_envvar=True)
@click.option("--job-timeout", envvar="PRECHECK_JOB_TIMEOUT", type=click.FloatRange(0.1), default=300.0,
              show_default=True, show_envvar=True, help="Seconds one check may take.")
@click.option("--queue-size", envvar="PRECHECK_QUEUE_SIZE", type=click.IntRange(1), default=32, show_default=True,
              show_envvar=True, help="Jobs waiting for a worker before new uploads get 429.")
@click.option("--retention", envvar="PRECHECK_RETENTION", default="7d", show_default=True, show_envvar=True,
              help="How long finished reports are kept (90s, 15m, 12h, 7d).")
@click.option("--max-wait", envvar="PRECHECK_MAX_WAIT", type=click.FloatRange(0), default=120.0,
              show_default=True, show_envvar=True, help="The most ?wait= may ask for, seconds.")
@click.option("--no-access-log", is_flag=True, help="Do not log each request.")
@_ocr_option
@_dpi_option
@_rules_option
@click.pass_context
def serve_command(ctx: click.Context, host: str, port: int, workers: int | None, data_dir: Path, db: Path | None,
                  tokens: tuple[str, ...], tokens_file: str | None, insecure_no_auth: bool, max_upload_mb: float,
                  job_timeout: float, queue_size: int, retention: str, max_wait: float, no_access_log: bool,
                  ocr: str, dpi: int, rules: str | None) -> None:
    """Run the pre-check HTTP service (needs the `serve` extra). Tokens also from PRECHECK_TOKENS."""
    import os

    from .service.settings import Settings, default_workers, parse_duration, read_tokens

    verbose = ctx.parent.params.get("verbose", 0) if ctx.parent else 0
    try:
        all_tokens = tuple(tokens) + read_tokens(os.environ.get("PRECHECK_TOKENS"), tokens_file)
        settings = Settings(
            host=host, port=port, workers=workers or default_workers(), data_dir=data_dir, db_path=db,
            tokens=tuple(dict.fromkeys(all_tokens)), allow_no_auth=insecure_no_auth,
            max_upload_bytes=int(max_upload_mb * 1024 * 1024), job_timeout=job_timeout, queue_size=queue_size,
            retention=parse_duration(retention), max_wait=max_wait, access_log=not no_access_log,
            ocr=ocr, dpi=dpi, rules_path=rules, log_level="debug" if verbose > 1 else "info",
        )
        settings.check()
    except (ValueError, OSError) as exc:
        raise click.UsageError(str(exc)) from None
    logging.getLogger("pipeline.service").setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    from .service import serve

    serve(settings)


if __name__ == "__main__":
    main()
