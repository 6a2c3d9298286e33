"""Run a benchmark's asyncio clients in a thread of their own.

`asyncio.run` refuses to start where an event loop already runs in the calling thread: the test
suite's browser tests leave Playwright's loop in the main thread, and the benchmarks' tests run after
them in the same process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_in_own_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    with ThreadPoolExecutor(1, thread_name_prefix="bench-loop") as pool:
        return pool.submit(asyncio.run, coroutine).result()
