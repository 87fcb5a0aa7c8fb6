"""Imported once by the batch's fork server (pipeline.parallel) before it forks the workers.

The modules every worker needs and the extractors' patterns are loaded here, once, so that a
worker starts in a fraction of a second instead of two or three (a re-check from the page
cache is mostly that start). Nothing here starts a thread: the thread counts are pinned to
one before numpy is imported, and the OCR engine is loaded in each worker, after the fork.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_THREAD_LIMIT"):
    os.environ[_var] = "1"

from pipeline import runner

runner._warm_up_extractors()
