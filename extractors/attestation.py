"""The copy attestation (此件与原件相符 and its variants) and the handler's label (经办人) in
lines of text, tolerant of OCR slips.

Pure functions over strings: a phrase is looked for as an approximate substring of a line
(the fewest edits that turn some stretch of the line into the phrase), so that 此件与原仵相符
or 此件与原件相付 still count, and a line that merely holds 原件 does not.
"""

from __future__ import annotations

from collections import Counter

from dataclasses import dataclass
from functools import cache
from importlib import resources

from .textnorm import normalise, strip_spaces

# A phrase counts when at most this share of its characters needed an edit (7 characters: 2)...
MAX_EDIT_SHARE = 0.3
# ...and a short phrase (5-6 characters) when at most one did.
SHORT_PHRASE = 6


@dataclass(frozen=True, slots=True)
class PhraseMatch:
    phrase: str  # the variant matched
    start: int  # character offsets in the searched text (white space removed)
    end: int
    score: float  # 1 - edits / len(phrase)


@cache
def _word_list(name: str) -> tuple[str, ...]:
    text = resources.files("extractors.patterns").joinpath(name).read_text("utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def attestation_phrases() -> tuple[str, ...]:
    return _word_list("attestations.txt")


def signature_labels() -> tuple[str, ...]:
    return _word_list("signature_labels.txt")


def approximate_find(pattern: str, text: str) -> tuple[int, int, int]:
    """(edits, start, end): the stretch text[start:end] that the fewest edits turn into
    pattern (Sellers' algorithm: a free start and end in text)."""
    m = len(pattern)
    if not text:
        return m, 0, 0
    # prev[j]: edits between pattern[:i] and the best stretch of text ending at j; starts[j]
    # where that stretch begins
    prev = [0] * (len(text) + 1)
    starts = list(range(len(text) + 1))
    for i in range(1, m + 1):
        cur = [i] + [0] * len(text)
        cur_starts = [0] * (len(text) + 1)
        for j in range(1, len(text) + 1):
            sub = prev[j - 1] + (pattern[i - 1] != text[j - 1])
            dele = prev[j] + 1  # a pattern character missing from text
            ins = cur[j - 1] + 1  # an extra character in text
            best = min(sub, dele, ins)
            cur[j] = best
            if best == sub:
                cur_starts[j] = starts[j - 1]
            elif best == dele:
                cur_starts[j] = starts[j]
            else:
                cur_starts[j] = cur_starts[j - 1]
        prev, starts = cur, cur_starts
    end = min(range(len(text) + 1), key=lambda j: (prev[j], -j))
    return prev[end], starts[end], end


def accepted(phrase: str, edits: int) -> bool:
    """Whether a phrase found with this many edits counts."""
    return edits <= _edits_allowed(phrase)


def _edits_allowed(phrase: str) -> int:
    return 1 if len(phrase) <= SHORT_PHRASE else int(MAX_EDIT_SHARE * len(phrase))


@cache
def _counted(phrase: str) -> tuple[tuple[str, int], ...]:
    return tuple(Counter(phrase).items())


def _shared(phrase: str, text: Counter) -> int:
    """How many of phrase's characters text (counted) holds, as a multiset: no stretch of
    text is fewer than len(phrase) - shared edits from phrase, so the search is skipped where
    that bound rules a phrase out (every page line is tried against every phrase)."""
    return sum(min(n, text[ch]) for ch, n in _counted(phrase))


def _shared_with_any(phrases: tuple[str, ...], text: Counter) -> int:
    """An upper bound on _shared(phrase, text) for every phrase: text's characters that any
    phrase holds."""
    return sum(n for ch, n in text.items() if ch in _alphabet(phrases))


@cache
def _alphabet(phrases: tuple[str, ...]) -> frozenset[str]:
    return frozenset("".join(phrases))


def find_phrase(text: str, phrases: tuple[str, ...]) -> PhraseMatch | None:
    """The best accepted match of any phrase in text (normalised, white space removed);
    a longer variant wins a tie, so 此复印件与原件相符 is reported whole."""
    flat = strip_spaces(normalise(text))
    counted = Counter(flat)
    if _shared_with_any(phrases, counted) < min(len(p) - _edits_allowed(p) for p in phrases):
        return None  # most lines of a page: too few of the phrases' characters for any
    best: PhraseMatch | None = None
    for phrase in phrases:
        if len(phrase) - _shared(phrase, counted) > _edits_allowed(phrase):
            continue
        edits, start, end = approximate_find(phrase, flat)
        if not accepted(phrase, edits):
            continue
        score = 1.0 - edits / len(phrase)
        if best is None or (score, len(phrase)) > (best.score, len(best.phrase)):
            best = PhraseMatch(phrase, start, end, score)
    return best


def nearest_miss(text: str, phrases: tuple[str, ...]) -> float:
    """The best score (1 - edits / length) of any phrase in text, accepted or not: how close
    the text came to holding an attestation (0 when it shares nothing with one)."""
    flat = strip_spaces(normalise(text))
    counted = Counter(flat)
    best = 0.0
    for phrase in phrases:
        if _shared(phrase, counted) / len(phrase) <= best:
            continue  # it cannot score higher
        edits, _, _ = approximate_find(phrase, flat)
        best = max(best, 1.0 - edits / len(phrase))
    return best


def find_attestation(text: str) -> PhraseMatch | None:
    """此件与原件相符 or a variant in one line of text."""
    return find_phrase(text, attestation_phrases())


def find_signature_label(text: str) -> PhraseMatch | None:
    """经办人 (or another label a handler signs beside) in one line of text, exactly or with
    one slip in a three-character label."""
    flat = strip_spaces(normalise(text))
    best: PhraseMatch | None = None
    for label in signature_labels():
        edits, start, end = approximate_find(label, flat)
        if edits == 0 or (len(label) >= 3 and edits == 1 and end - start >= 2):
            score = 1.0 - edits / len(label)
            if best is None or score > best.score:
                best = PhraseMatch(label, start, end, score)
    return best
