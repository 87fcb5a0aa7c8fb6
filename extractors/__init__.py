"""Page text -> typed evidence with provenance (page, box, confidence).

Each module holds one kind of evidence; `extractors.evidence.extract_evidence` runs them all.
"""
