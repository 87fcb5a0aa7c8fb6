"""evidence-precheck: pre-checks the evidence PDFs of skilled-talent applications."""

__version__ = "0.1.0"


def precheck(pdf, form, **kwargs):
    """pipeline.precheck(pdf: bytes | Path, form: dict) -> Report (see pipeline.api)."""
    from .api import precheck as _precheck

    return _precheck(pdf, form, **kwargs)
