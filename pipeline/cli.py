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
def batch(directory: Path, out: Path, ocr: str, dpi: int, rules: str | None) -> None:
    """Check every submission in DIRECTORY and write reports to --out."""
    from .runner import run_batch

    interactive = sys.stderr.isatty()

    def progress(done: int, total: int, sid: str) -> None:
        if interactive:
            click.echo(f"\r[{done}/{total}] {sid}".ljust(60), nl=False, err=True)
        else:
            click.echo(f"[{done}/{total}] {sid}", err=True)

    result = run_batch(directory, out, _options(ocr, dpi, rules), progress=progress)
    if interactive:
        click.echo("", err=True)
    counts: dict[str, int] = {}
    for r in result.reports:
        counts[r.status.value] = counts.get(r.status.value, 0) + 1
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    click.echo(f"{len(result.reports)} submissions in {result.seconds:.1f}s: {summary}. Reports: {out}")


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
@_ocr_option
@_dpi_option
def bench_command(corpus: Path, limit: int | None, ocr: str, dpi: int) -> None:
    """Per-stage time per page, pages per second, peak memory, pipeline vs raw OCR."""
    from .bench import run_bench

    click.echo("\n".join(run_bench(corpus, _options(ocr, dpi, None), limit=limit).lines()))


if __name__ == "__main__":
    main()
