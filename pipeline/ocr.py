"""OCR engines behind one small interface.

An engine reads an upright RGB image and returns its text lines with pixel boxes. Two are
wrapped: rapidocr (PP-OCRv6 small, the default: see research/ocr-engines.md) and tesseract
(chi_sim, a fallback that needs no ONNX models). Nothing is loaded at import time and
nothing is ever downloaded: a missing model or binary raises OcrEngineUnavailable.

An engine object holds its loaded models and is not thread-safe: use one per thread or
process.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Protocol

import numpy as np

# Traditional/Japanese forms PP-OCRv6 sometimes returns (性別), mapped one for one.
from extractors.textnorm import normalise as normalise_text


class OcrEngineUnavailable(RuntimeError):
    """An OCR engine, its models or its binary are not installed."""


@dataclass(frozen=True, slots=True)
class OcrLine:
    """One line as an engine read it."""

    text: str
    box: tuple[float, float, float, float]  # pixels x0, top, x1, bottom in the image given
    confidence: float  # 0..1
    second: str = ""  # the line read once more, where that reading disagrees (reread.py)
    second_confidence: float = 0.0


class OcrEngine(Protocol):
    """Reads text lines from an image.

    read() takes an upright RGB uint8 image (H x W x 3) and returns its text lines in
    reading order, each with an axis-aligned pixel box in that image and a confidence in
    0..1. Text is normalised to simplified characters (see normalise_text).
    """

    name: str
    version: str

    def read(self, image: np.ndarray) -> list[OcrLine]: ...


def quad_to_box(quad: Any) -> tuple[float, float, float, float]:
    """An axis-aligned (x0, top, x1, bottom) box holding a 4-point polygon."""
    pts = np.asarray(quad, dtype=float).reshape(-1, 2)
    return (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))


# --- rapidocr -------------------------------------------------------------------------

# Text detection runs on the page scaled to this many pixels on its long side (A4: about
# 80 dpi); recognition reads each line from the page at up to 2000 px. rapidocr's
# default (scale the short side up to 736, long side up to 2000) cost 2.8x the time here
# for the same lines read on certificate pages.
DET_LONG_SIDE = 960

# A line whose box the detector is less sure of is still read (the recogniser's own score
# filters junk): at rapidocr's 0.5, a certificate number touched by a grey seal's ring was
# dropped whole on a grey scan.
DET_BOX_THRESH = 0.3

RAPIDOCR_MODEL_FILES: dict[str, str] = {
    "Det.model_path": "PP-OCRv6_det_small.onnx",
    "Rec.model_path": "PP-OCRv6_rec_small.onnx",
    "Cls.model_path": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
}


def _rapidocr_model_dir() -> Path:
    """The models/ folder inside the installed rapidocr package, found without importing it."""
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or spec.origin is None:
        raise OcrEngineUnavailable("rapidocr is not installed (pip install 'rapidocr>=3.10,<4' onnxruntime)")
    return Path(spec.origin).parent / "models"


class RapidOcrEngine:
    """rapidocr 3.x with the PP-OCRv6 small models shipped inside its wheel."""

    name = "rapidocr"

    def __init__(self, threads: int = 1, det_side: int = DET_LONG_SIDE) -> None:
        self.threads = threads
        self.det_side = det_side
        try:
            package_version = importlib.metadata.version("rapidocr")
        except importlib.metadata.PackageNotFoundError:
            package_version = "missing"
        # The models are part of what a cached reading depends on.
        self.version = f"{package_version}+PP-OCRv6_small+det{det_side}+bt{DET_BOX_THRESH}"
        self._ocr: Any = None  # rapidocr.RapidOCR, built on first use
        self._twin: RapidOcrEngine | None = None

    def _params(self) -> dict[str, Any]:
        model_dir = _rapidocr_model_dir()
        params: dict[str, Any] = {}
        for key, filename in RAPIDOCR_MODEL_FILES.items():
            path = model_dir / filename
            if not path.is_file():
                # Any model not in the wheel would be downloaded at the first call; refuse.
                raise OcrEngineUnavailable(
                    f"rapidocr model file missing: {path} (reinstall rapidocr 3.10: the wheel ships it)"
                )
            params[key] = str(path)
        params.update(
            {
                "EngineConfig.onnxruntime.intra_op_num_threads": self.threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                "Global.log_level": "warning",
                "Det.limit_type": "max",
                "Det.limit_side_len": self.det_side,
                "Det.box_thresh": DET_BOX_THRESH,
            }
        )
        return params

    def _engine(self) -> Any:
        if self._ocr is None:
            params = self._params()
            try:
                import onnxruntime  # noqa: F401  (rapidocr does not depend on it; say so clearly)
                from rapidocr import RapidOCR
            except ImportError as exc:
                raise OcrEngineUnavailable(f"rapidocr or onnxruntime cannot be imported: {exc}") from exc
            self._ocr = RapidOCR(params=params)
        return self._ocr

    def read(self, image: np.ndarray) -> list[OcrLine]:
        """Lines of an upright RGB image, pixel boxes in that image."""
        # rapidocr takes arrays as BGR. use_* are passed every time: rapidocr keeps the
        # flags of the previous call (classify_orientation switches det and rec off).
        result = self._engine()(_rgb_to_bgr(image), use_det=True, use_cls=True, use_rec=True)
        if result.txts is None or result.boxes is None:
            return []
        return [
            OcrLine(normalise_text(text), quad_to_box(quad), float(score))
            for quad, text, score in zip(result.boxes, result.txts, result.scores)
        ]

    def detect(self, image: np.ndarray) -> PageDetection:
        """Detect the text lines of an RGB image (any way up) without reading them: the
        first half of read(), done once per page; read_detected() reads the lines after the
        caller has decided which way up the page is."""
        from rapidocr.main import RapidOCRError

        engine = self._engine()
        original = engine.load_img(_rgb_to_bgr(image))
        prepared, op_record = engine.preprocess_img(original)
        try:
            crops, det_res = engine.detect_and_crop(prepared, op_record)
        except RapidOCRError:  # nothing detected: read() returns no lines then
            crops, det_res = [], None
        h, w = original.shape[:2]
        if det_res is None or det_res.boxes is None or not len(det_res.boxes):
            empty = np.zeros((0, 4, 2), dtype=np.float32)
            return PageDetection(w, h, [], prepared, empty, empty, [], op_record)
        from rapidocr.utils.process_img import map_boxes_to_original

        quads = np.asarray(det_res.boxes, dtype=np.float32)
        in_original = map_boxes_to_original(quads.copy(), op_record, h, w)
        boxes = [quad_to_box(q) for q in in_original]
        return PageDetection(w, h, boxes, prepared, quads, in_original, list(crops), op_record)

    def classify_detected(self, detection: PageDetection) -> Any:
        """The angle classifier's verdict on each line of a detected page as it lies (labels
        '0' or '180' in detection's order, with the crops it turned), for read_detected at
        rotation 0 to use rather than classify the lines again."""
        return self._engine().cls_and_rotate(detection.crops) if len(detection.quads) else None

    @staticmethod
    def classified_labels(classified: Any) -> list[str]:
        """The labels of classify_detected's verdict, in the detection's order."""
        return [str(label) for label, _ in classified[1].cls_res] if classified is not None else []

    def read_detected(self, detection: PageDetection, rotation: int = 0, classified: Any = None) -> list[OcrLine]:
        """The lines of a detected page as read() would read the page turned `rotation`
        degrees clockwise, boxes in the turned image, without detecting it again: each line
        is cropped the right way up from the detected quad (its corners taken from the
        turned page's top-left), then classified and recognised as read() does.
        classified: classify_detected(detection), used at rotation 0."""
        from rapidocr.ch_ppocr_det import TextDetector
        from rapidocr.main import RapidOCRError
        from rapidocr.utils.process_img import (
            get_rotate_crop_image,
            map_boxes_to_original,
        )

        engine = self._engine()
        if not len(detection.quads):
            return []
        r = rotation % 360
        quads, original_quads = detection.quads, detection.original_quads
        if r in (90, 270):
            quads = _trim_sideways(detection.prepared, quads)
            original_quads = map_boxes_to_original(quads.copy(), detection.op_record, detection.height, detection.width)
        if r == 0:
            order = list(range(len(detection.quads)))  # detection's own reading order
            crops = detection.crops
        else:
            ph, pw = detection.prepared.shape[:2]
            k = r // 90
            # corners from the turned page's top-left, as its own detection orders them
            turned = np.roll(_turn_quads(quads, r, pw, ph), k, axis=1)
            # the reading order of the turned page: rapidocr's own sort, carrying each
            # line's index along as a fifth point
            index = np.arange(len(turned), dtype=np.float32)[:, None, None].repeat(2, axis=2)
            ranked = TextDetector.sorted_boxes(np.concatenate([turned, index], axis=1))
            order = [int(i) for i in ranked[:, 4, 0]]
            # read from the untrimmed quads (see ACROSS_MARGIN)
            crops = [get_rotate_crop_image(detection.prepared, np.roll(detection.quads[i], k, axis=0)) for i in order]
        try:
            cls_crops, cls_res = classified if r == 0 and classified is not None else engine.cls_and_rotate(crops)
            rec_res = engine.recognize_txt(cls_crops)
            texts, scores = _unflip_short_lines(engine, crops, cls_res.cls_res, list(rec_res.txts), list(rec_res.scores))
        except RapidOCRError:
            return []
        turned_original = _turn_quads(original_quads, r, detection.width, detection.height)
        out = []
        for i, text, score in zip(order, texts, scores):
            # as rapidocr's build_final_output: drop empty readings and low scores
            if not str(text).strip() or float(score) < engine.text_score:
                continue
            out.append(OcrLine(normalise_text(text), quad_to_box(turned_original[i]), float(score)))
        return out

    def classify_orientation(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        """For each RGB line crop, ('0' or '180', score): whether the line is upside down."""
        if not crops:
            return []
        # one batch through the classifier, not a pipeline call per crop (about 10 ms each)
        result = self._engine().cls_and_rotate([np.ascontiguousarray(_rgb_to_bgr(c)) for c in crops])
        return [(str(label), float(score)) for label, score in result[1].cls_res]

    def read_line(self, image: np.ndarray) -> tuple[str, float]:
        """(text, confidence) of an RGB image that holds one line of text and nothing else
        (an unrolled seal, a stamp): recognition only, about a quarter of read()'s time."""
        result = self._engine()(_rgb_to_bgr(image), use_det=False, use_cls=False, use_rec=True)
        if not result.txts:
            return "", 0.0
        return normalise_text(str(result.txts[0])), float(result.scores[0])

    def twin(self) -> "RapidOcrEngine":
        """A second engine of the same models and settings, made once, for a second thread
        (an engine keeps state between calls; pipeline.pages reads seals with it)."""
        if self._twin is None:
            self._twin = RapidOcrEngine(self.threads, self.det_side)
        return self._twin

    def warm_up(self) -> None:
        """Load all three models now (about 1.2 s) rather than on the first page."""
        self.read(_warm_up_image())


# A line read this surely after the classifier turned it was upside down indeed (a seal's
# lower words on an upright page): it is not read unturned as well. Over 107 turned lines of
# two corpora, 42 read at >= 0.99 and none of them read better unturned; the wrong turns had
# read at 0.00-0.76 (and 李一 as 一壶 at 0.95).
UNFLIP_SURE = 0.99


def _unflip_short_lines(engine: Any, crops: list[np.ndarray], labels: list, texts: list, scores: list) -> tuple[list, list]:
    """Lines the angle classifier turned over, read again as they were; the better reading
    kept. The classifier guesses on a short line (a two-character name alone on its row is
    turned over at 0.9 and then read as nothing), while the page itself was already set
    upright, so a line read better unturned was upright."""
    flipped = [j for j, (label, _) in enumerate(labels) if str(label) == "180" and float(scores[j]) < UNFLIP_SURE]
    if not flipped:
        return texts, scores
    again = engine.recognize_txt([crops[j] for j in flipped])
    for j, text, score in zip(flipped, again.txts, again.scores):
        if str(text).strip() and float(score) > float(scores[j]):
            texts[j], scores[j] = text, score
    return texts, scores


@dataclass(frozen=True, slots=True)
class PageDetection:
    """What RapidOcrEngine.detect found on a page: line boxes (pixels, axis-aligned, in the
    image given) to decide the page's orientation from, and what read_detected needs."""

    width: int  # of the image given
    height: int
    boxes: list[tuple[float, float, float, float]]  # one per detected line, in the image given
    prepared: np.ndarray  # the BGR image rapidocr detected on and crops lines from
    quads: np.ndarray  # N x 4 x 2 line corners (tl, tr, br, bl) in prepared
    original_quads: np.ndarray  # the same in the image given
    crops: list[np.ndarray]  # the lines cropped from prepared as rapidocr crops them unturned
    op_record: dict  # rapidocr's record of how prepared was made from the image given


# The detector finds sideways lines fatter across than upright ones (the test certificate at
# 200 dpi: 14-16 px between the ink and the box's long edges, against 5-9 px when the page is
# detected upright). A sideways page's line boxes (and its reading order) come from each quad
# trimmed across the line to its ink plus this share of the ink's thickness on each long edge
# (upright: 0.04-0.33 of it, mostly 0.11-0.19), by at most MAX_TRIM of the quad's thickness a
# side (light or coloured ink can fall under INK_LEVEL); never widened. The lines are read from
# the untrimmed quads, as the engine reads them: a thinner crop is a wider input to the
# recogniser (14 sideways pages read in 14.8 s against 16.5 s, the same text).
ACROSS_MARGIN = 0.15
MAX_TRIM = 0.15
INK_LEVEL = 128  # a pixel this dark (colour removed) is ink


def _trim_sideways(image: np.ndarray, quads: np.ndarray) -> np.ndarray:
    """The N x 4 x 2 quads of lines running up or down image (tall quads), their x
    (across the line) trimmed to the ink; other quads as they are."""
    out = quads.copy()
    h, w = image.shape[:2]
    for q in out:
        x0, x1 = float(q[:, 0].min()), float(q[:, 0].max())
        top, bottom = float(q[:, 1].min()), float(q[:, 1].max())
        if bottom - top < x1 - x0:
            continue  # a line across the scan: vertical text on the upright page
        c0, c1 = max(0, int(np.floor(x0))), min(w, int(np.ceil(x1)))
        r0, r1 = max(0, int(np.floor(top))), min(h, int(np.ceil(bottom)))
        if c1 - c0 < 2 or r1 - r0 < 2:
            continue
        region = image[r0:r1, c0:c1]
        dark = (region.min(axis=2) if region.ndim == 3 else region) < INK_LEVEL
        cols = np.flatnonzero(dark.any(axis=0))
        if not len(cols):
            continue
        ink_lo, ink_hi = c0 + float(cols[0]), c0 + float(cols[-1]) + 1
        margin, cap = ACROSS_MARGIN * (ink_hi - ink_lo), MAX_TRIM * (x1 - x0)
        lo = min(max(x0, ink_lo - margin), x0 + cap)
        hi = max(min(x1, ink_hi + margin), x1 - cap)
        if hi - lo >= 2:
            q[:, 0] = np.clip(q[:, 0], lo, hi)
    return out


def _turn_quads(quads: np.ndarray, rotation: int, width: float, height: float) -> np.ndarray:
    """N x 4 x 2 points of a width x height image, after the image is turned `rotation`
    degrees clockwise (as pages.rotate_box turns boxes)."""
    x, y = quads[..., 0], quads[..., 1]
    r = rotation % 360
    if r == 0:
        return quads
    if r == 90:
        nx, ny = height - y, x
    elif r == 180:
        nx, ny = width - x, height - y
    elif r == 270:
        nx, ny = y, width - x
    else:
        raise ValueError(f"rotation must be a multiple of 90, not {rotation}")
    return np.stack([nx, ny], axis=-1).astype(np.float32)


def _rgb_to_bgr(image: np.ndarray) -> np.ndarray:
    """image[:, :, ::-1] as a contiguous array. cv2 makes the same bytes about 10x faster than
    numpy's copy of the reversed view (170 ms for a page at 300 dpi, paid on every read)."""
    if image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8 and image.strides[2] == 1:
        import cv2

        try:
            return cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        except cv2.error:
            pass
    return np.ascontiguousarray(image[:, :, ::-1])


def _warm_up_image() -> np.ndarray:
    """A small image with a line of text, so that detection finds a box and rec runs."""
    import cv2

    img = np.full((96, 480, 3), 255, dtype=np.uint8)
    cv2.putText(img, "500101 1990", (12, 64), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (0, 0, 0), 3)
    return img


# --- tesseract ------------------------------------------------------------------------

TESSERACT_PACKAGES = "tesseract-ocr, tesseract-ocr-chi-sim"


@contextlib.contextmanager
def _env(**values: str) -> Iterator[None]:
    """Set environment variables for subprocesses started inside the block."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


_ASCII_WORD_EDGE = re.compile(r"[0-9A-Za-z]")


def join_words(words: list[str]) -> str:
    """Join tesseract words: no space in CJK text, one space between two ASCII words."""
    out = ""
    for word in words:
        if out and _ASCII_WORD_EDGE.fullmatch(out[-1]) and _ASCII_WORD_EDGE.fullmatch(word[0]):
            out += " "
        out += word
    return out


class TesseractEngine:
    """tesseract 5 through pytesseract; weaker than rapidocr on these pages (see
    research/ocr-engines.md) but needs no ONNX models. Raises OcrEngineUnavailable at
    construction if the binary or the language data is missing."""

    name = "tesseract"

    # --psm 6 (one uniform block) against the default --psm 3 on two synthetic certificate
    # layouts at 200 dpi: 9/9 and 8/8 lines exact against 7/9 and 0/8; psm 3 dropped lines
    # and, beside a photo box, read the labels and the values as separate columns. At 300 dpi
    # psm 3 was one line better on the first layout (7/9 against 6/9) and still split pairs.
    psm = 6

    def __init__(self, lang: str = "chi_sim") -> None:
        self.lang = lang
        # Checking costs two short subprocesses (~50 ms) and fails early and clearly.
        self.version = f"{self._check()}+{lang}"

    def _check(self) -> str:
        """The tesseract version; raises OcrEngineUnavailable if it or the language is missing."""
        try:
            import pytesseract
        except ImportError as exc:
            raise OcrEngineUnavailable(f"pytesseract is not installed: {exc}") from exc
        try:
            version = str(pytesseract.get_tesseract_version())
            languages = pytesseract.get_languages()
        except (pytesseract.TesseractNotFoundError, OSError) as exc:
            raise OcrEngineUnavailable(
                f"the tesseract binary was not found; install the Debian packages {TESSERACT_PACKAGES}"
            ) from exc
        missing = [lang for lang in self.lang.split("+") if lang not in languages]
        if missing:
            raise OcrEngineUnavailable(
                f"tesseract has no {'+'.join(missing)} language data; install the Debian packages "
                f"{TESSERACT_PACKAGES}"
            )
        return version

    def read(self, image: np.ndarray) -> list[OcrLine]:
        """Lines of an upright RGB image, pixel boxes in that image."""
        import pytesseract

        # OMP_THREAD_LIMIT=1: tesseract's OpenMP threads fight each other on 2 cores (3.3x
        # slower measured); run several processes instead.
        with _env(OMP_THREAD_LIMIT="1"):
            data = pytesseract.image_to_data(
                image, lang=self.lang, config=f"--psm {self.psm}", output_type=pytesseract.Output.DICT
            )
        return lines_from_tesseract(data)

    def warm_up(self) -> None:
        """Nothing to preload: each read starts a tesseract process."""


def lines_from_tesseract(data: dict[str, list]) -> list[OcrLine]:
    """Group image_to_data words into lines by (block, paragraph, line)."""
    groups: dict[tuple[int, int, int], list[int]] = {}
    for i, text in enumerate(data["text"]):
        conf = float(data["conf"][i])
        if conf < 0 or not str(text).strip():  # conf -1 marks layout rows, not words
            continue
        key = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
        groups.setdefault(key, []).append(i)
    lines = []
    for idx in groups.values():
        x0 = min(data["left"][i] for i in idx)
        top = min(data["top"][i] for i in idx)
        x1 = max(data["left"][i] + data["width"][i] for i in idx)
        bottom = max(data["top"][i] + data["height"][i] for i in idx)
        text = join_words([str(data["text"][i]).strip() for i in idx])
        conf = sum(float(data["conf"][i]) for i in idx) / len(idx) / 100.0
        lines.append(OcrLine(normalise_text(text), (float(x0), float(top), float(x1), float(bottom)), conf))
    return lines


# --- factory --------------------------------------------------------------------------

ENGINES = ("rapidocr", "tesseract")


def make_engine(name: str, threads: int = 1) -> OcrEngine:
    """An engine by name. rapidocr loads its models on first use; tesseract checks its
    binary and language data now. threads applies to rapidocr (tesseract runs one)."""
    if name == "rapidocr":
        return RapidOcrEngine(threads=threads)
    if name == "tesseract":
        return TesseractEngine()
    raise ValueError(f"unknown OCR engine {name!r}; known: {', '.join(ENGINES)}")
