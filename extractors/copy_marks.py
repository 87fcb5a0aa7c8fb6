"""What the marks found on a page say: a seal there or not, the attestation and signature
there or not, and how sure; for the reports (PageDetail.seal / .attestation) and the checks.

A mark at or above FOUND_AT is taken as found; a weaker one is a doubtful candidate, and the
certainty that a thing is absent is 1 - the best doubtful candidate's confidence.
"""

from __future__ import annotations

from pipeline.model import Box, Mark

FOUND_AT = 0.5
# A seal certifies the attestation when its outline comes within this share of its radius of
# the attestation's box (the words with the signature beside them).
NEAR_ATTESTATION = 0.5


def best(marks: tuple[Mark, ...], kind: str) -> Mark | None:
    """The most confident mark of a kind."""
    return max((m for m in marks if m.kind == kind), key=lambda m: m.confidence, default=None)


def attestation_block(marks: tuple[Mark, ...]) -> Box | None:
    """The attestation found and the signature found beside it, as one box (None: none found)."""
    att, sig = best(marks, "attestation"), best(marks, "signature")
    if att is None or att.confidence < FOUND_AT:
        return None
    return att.box.union(sig.box) if sig is not None and sig.confidence >= FOUND_AT else att.box


def attestation_blocks(marks: tuple[Mark, ...]) -> list[Box]:
    """attestation_block, then every other attestation found (a spread or a sheet of two
    copies carries one per copy): the places a certifying seal is stamped at."""
    block = attestation_block(marks)
    if block is None:
        return []
    top = best(marks, "attestation")
    return [block] + [m.box for m in marks if m.kind == "attestation" and m is not top and m.confidence >= FOUND_AT]


def near_attestation(seal: Box, block: Box) -> bool:
    """Whether a seal's box comes within NEAR_ATTESTATION of its radius of the block: the
    certifying seal is stamped over the words or the signature."""
    radius = (seal.width + seal.height) / 4
    dx = max(0.0, block.x0 - seal.x1, seal.x0 - block.x1)
    dy = max(0.0, block.top - seal.bottom, seal.top - block.bottom)
    return max(dx, dy) <= NEAR_ATTESTATION * radius


def absent_certainty(marks: tuple[Mark, ...], kind: str) -> float:
    """How sure it is that no mark of the kind is on the page (1 when nothing like one was seen)."""
    b = best(marks, kind)
    return 1.0 - (b.confidence if b else 0.0)


def seal_detail(marks: tuple[Mark, ...] | None) -> dict | None:
    """PageDetail.seal: whether a seal was found, how sure, and every seal with its box."""
    if marks is None:
        return None
    seals = sorted((m for m in marks if m.kind == "seal"), key=lambda m: -m.confidence)
    found = [m for m in seals if m.confidence >= FOUND_AT]
    return {
        "found": bool(found),
        "confidence": round(found[0].confidence if found else absent_certainty(marks, "seal"), 3),
        "bbox": found[0].box.as_list() if found else None,
        "seals": [m.to_json() for m in found],
        "doubtful": [m.to_json() for m in seals if m.confidence < FOUND_AT],
    }


def attestation_detail(marks: tuple[Mark, ...] | None) -> dict | None:
    """PageDetail.attestation: the words (with box and how sure) and the handler's signature."""
    if marks is None:
        return None
    att, sig = best(marks, "attestation"), best(marks, "signature")
    found = att is not None and att.confidence >= FOUND_AT
    signed = sig is not None and sig.confidence >= FOUND_AT
    return {
        "found": found,
        "confidence": round(att.confidence if found else absent_certainty(marks, "attestation"), 3),
        "bbox": att.box.as_list() if att is not None else None,
        "text": att.text if att is not None else None,
        "shape": att.shape if att is not None else None,
        "colour": att.colour if att is not None else None,
        "signature": {
            "found": signed,
            "confidence": round(sig.confidence if signed else absent_certainty(marks, "signature"), 3),
            "bbox": sig.box.as_list() if sig is not None else None,
        },
    }
