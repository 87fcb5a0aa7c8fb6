"""Declarative phrase matching (spaCy EntityRuler) over rows, spans mapped back to boxes.

A blank `zh` pipeline splits text into single characters, so a token is a character of the
row and a span's character offsets index the row's boxes directly. Overlapping matches go
to the longest, which is what keeps 技师学院 from being read as 技师.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from .layout import Row


@dataclass(frozen=True, slots=True)
class Match:
    label: str
    value: str  # the pattern's id: the canonical value
    start: int  # character offsets in row.text
    end: int


@lru_cache(maxsize=None)
def _ruler(pattern_file: str):
    import spacy  # imported here: loading spaCy costs a second, and only extraction needs it

    nlp = spacy.blank("zh")
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "TEXT"})
    text = resources.files("extractors.patterns").joinpath(pattern_file).read_text("utf-8")
    ruler.add_patterns([json.loads(line) for line in text.splitlines() if line.strip()])
    return nlp


def find(row: Row, pattern_file: str) -> list[Match]:
    """All non-overlapping pattern matches in the row, longest preferred."""
    doc = _ruler(pattern_file)(row.text)
    return [Match(ent.label_, ent.ent_id_, ent.start_char, ent.end_char) for ent in doc.ents]
