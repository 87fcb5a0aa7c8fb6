"""A batch's progress: counts, rate and time left.

On a terminal one line is redrawn in place (at most ten times a second):

    [ 37/340]  10.9%  0.62/s  ETA 8m09s  CQ-0037

Elsewhere (a log file, CI) one plain line per submission, nothing redrawn:

    [37/340] CQ-0037 (0.62/s, ETA 8m09s)

Reports kept from an earlier run count as done from the start but not in the rate.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def format_eta(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


class Progress:
    def __init__(self, stream: TextIO | None = None, interactive: bool | None = None, clock=time.monotonic):
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self.clock = clock
        self.started = clock()
        self.done_at_start = 0
        self.total = 0
        self._drawn = 0.0
        self._width = 0

    def begin(self, total: int, done: int) -> None:
        """total submissions, done of them already (kept from an earlier run, or unreadable)."""
        self.started = self.clock()
        self.total, self.done_at_start = total, done
        if done:
            self._emit(done, total, "", force=True, note=f"{done} already done (kept from an earlier run)")

    def rate(self, done: int) -> float:
        elapsed = self.clock() - self.started
        n = done - self.done_at_start
        return n / elapsed if elapsed > 0 and n > 0 else 0.0

    def line(self, done: int, total: int, sid: str) -> str:
        rate = self.rate(done)
        eta = f"ETA {format_eta((total - done) / rate)}" if rate > 0 and done < total else ""
        if self.interactive:
            pct = 100.0 * done / total if total else 100.0
            return f"[{done:>{len(str(total))}}/{total}] {pct:5.1f}%  {rate:.2f}/s  {eta}  {sid}".rstrip()
        extra = ", ".join(x for x in (f"{rate:.2f}/s" if rate else "", eta) if x)
        return f"[{done}/{total}] {sid}" + (f" ({extra})" if extra else "")

    def __call__(self, done: int, total: int, sid: str) -> None:
        self._emit(done, total, sid, force=done >= total)

    def _emit(self, done: int, total: int, sid: str, force: bool = False, note: str = "") -> None:
        text = self.line(done, total, sid) if not note else f"[{done}/{total}] {note}"
        if not self.interactive:
            self.stream.write(text + "\n")
            self.stream.flush()
            return
        now = self.clock()
        if not force and now - self._drawn < 0.1:
            return
        self._drawn = now
        pad = max(0, self._width - len(text))
        self._width = len(text)
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()

    def end(self) -> None:
        if self.interactive and self._width:
            self.stream.write("\n")
            self.stream.flush()
