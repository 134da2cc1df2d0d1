"""The one shared thread pool that runs in-process scans of local files."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

SCAN_THREADS = 2
"""In-process scans run on one shared pool of this many threads (one per core), whatever the
number of sources: more threads would only add memory (glibc gives each allocating thread its
own arena, which doubled peak RSS when every source had its own pool) and GIL contention that
makes the UI stutter."""
_scan_pool: ThreadPoolExecutor | None = None
_scan_pool_lock = threading.Lock()


def scan_pool() -> ThreadPoolExecutor:
    """The shared pool that runs in-process scans (created on first use)."""
    global _scan_pool
    with _scan_pool_lock:
        if _scan_pool is None:
            _scan_pool = ThreadPoolExecutor(SCAN_THREADS, thread_name_prefix="cockpit-scan")
        return _scan_pool
