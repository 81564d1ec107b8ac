"""Process-wide settings for the long-running processes (`serve`, `api`, `worker`)."""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Move everything alive after start-up (modules, routes, models, templates) out of the cycle
    collector's reach. A served process holds about 230 000 such objects; without this, every
    full collection walks them all (about 65 ms on the development machine, once every few
    requests for a busy calendar month) and makes the slow tail of the response times.

    Called once per server or worker process, not in tests: frozen objects are only ever freed
    by reference counting, so an object frozen and later part of a garbage cycle stays."""
    gc.collect()
    gc.freeze()
