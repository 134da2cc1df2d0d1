"""The one shared thread pool that runs in-process scans of local files.

Making it also sets the process's GIL switch interval, once: a search's threads otherwise keep
the UI's event loop waiting for the GIL.
"""

from __future__ import annotations

import sys
import threading

TYPE_CHECKING = False  # typing's own, without importing typing (~3 ms at every start)
if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

SCAN_THREADS = 2
"""In-process scans run on one shared pool of this many threads (one per core), whatever the
number of sources: more threads would only add memory (glibc gives each allocating thread its
own arena, which doubled peak RSS when every source had its own pool) and GIL contention that
makes the UI stutter."""
SWITCH_INTERVAL = 0.001
"""GIL switch interval once searching starts. Python's 5 ms default lets search threads keep the
event loop waiting for the GIL (measured 65 ms stalls in the Logs pane); 1 ms keeps it under
~35 ms."""
_scan_pool: ThreadPoolExecutor | None = None
_scan_pool_lock = threading.Lock()


def tune_gil() -> None:
    """Shorten the GIL switch interval to `SWITCH_INTERVAL` for the rest of the process (once
    a search starts, before any source thread does)."""
    if sys.getswitchinterval() > SWITCH_INTERVAL:
        sys.setswitchinterval(SWITCH_INTERVAL)  # the UI thread gets the GIL back sooner


def scan_pool() -> ThreadPoolExecutor:
    """The shared pool that runs in-process scans (created on first use, which also shortens
    the GIL switch interval to `SWITCH_INTERVAL` for the rest of the process)."""
    global _scan_pool
    with _scan_pool_lock:
        if _scan_pool is None:
            # Imported here: concurrent.futures loads logging, and `search PATH` over plain
            # files (rg's) never needs the pool.
            from concurrent.futures import ThreadPoolExecutor

            tune_gil()
            _scan_pool = ThreadPoolExecutor(SCAN_THREADS, thread_name_prefix="cockpit-scan")
        return _scan_pool
