import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def rapid():
    """One rapidocr engine, models loaded, for every test that OCRs (loading costs seconds)."""
    from pipeline.ocr import RapidOcrEngine

    engine = RapidOcrEngine(threads=1)
    engine.warm_up()
    return engine


@pytest.fixture(scope="session")
def engine(rapid):
    return rapid
