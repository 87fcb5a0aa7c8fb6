"""Handlers for the worker-pool tests: each task string says how to misbehave.

Imported by the spawned workers, so it stays light (no numpy, no OCR).
"""

from __future__ import annotations

import os
import time


class Misbehave:
    def __call__(self, task: str) -> str:
        kind, _, arg = task.partition(":")
        if kind == "sleep":
            time.sleep(float(arg))
        elif kind == "exit":
            os._exit(int(arg or 3))
        elif kind == "segv":
            import ctypes

            ctypes.string_at(0)
        elif kind == "alloc":
            block = bytearray(int(arg) * 1024 * 1024)  # past the worker's RLIMIT_AS: MemoryError
            return f"allocated {len(block)}"
        elif kind == "raise":
            raise ValueError("a bug in the handler")
        return f"ok {task} in {os.getpid()}"


def make() -> Misbehave:
    return Misbehave()


def broken() -> Misbehave:
    raise RuntimeError("this handler cannot be built")
