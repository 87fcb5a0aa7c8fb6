"""Small helpers every check uses: which readings count, and how sure a finding is."""

from __future__ import annotations

from pipeline.model import Candidate, Finding, Severity

from .messages import message
from .rules import Rules


def usable(candidates: tuple[Candidate, ...], rules: Rules) -> list[Candidate]:
    """Readings sure enough to be compared at all."""
    return [c for c in candidates if c.confidence >= rules.usable_at]


def severity_for(candidate: Candidate, rules: Rules) -> Severity:
    """Severity follows certainty: an error only on a reading the pipeline is sure of."""
    return Severity.ERROR if candidate.confidence >= rules.error_at else Severity.WARNING


def finding(code: str, severity: Severity, *, declared=None, found: Candidate | str | None = None,
            **values) -> Finding:
    """A finding whose page and box come from the candidate that was found."""
    found_text = found.value if isinstance(found, Candidate) else _text(found)
    text = message(code, declared=_text(declared), found=found_text, **values)
    if isinstance(found, Candidate):
        return Finding(code, severity, text, _text(declared), found.value, found.page, found.bbox)
    return Finding(code, severity, text, _text(declared), found_text)


def low_confidence(field_name: str, candidate: Candidate) -> Finding:
    return Finding(
        "LOW_CONFIDENCE",
        Severity.WARNING,
        message("LOW_CONFIDENCE", field=field_name, confidence=f"{candidate.confidence:.2f}"),
        None,
        candidate.value,
        candidate.page,
        candidate.bbox,
    )


def _text(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, (list, tuple)):
        return "、".join(str(x) for x in v)
    return str(v)
