"""Process-wide settings for the long-running processes (`serve`, `api`, `worker`)."""

from __future__ import annotations

import gc

from starlette.types import ASGIApp, Receive, Scope, Send

# Net allocations between two collections of the youngest generation (Python's default: 700).
# A busy calendar month allocates tens of thousands of objects that live until its answer is
# sent: with the default, each request ran six or seven young collections that walked them and
# moved them to older generations, to be walked again there. With this threshold most requests
# end before any collection, and their objects are freed by reference counting alone.
YOUNG_THRESHOLD = 10_000

# Requests after which a served process freezes its heap a second time (see `FreezeAfterWarmUp`).
WARM_UP_REQUESTS = 10


def freeze_startup_heap(*, serving: bool) -> None:
    """Move everything alive after start-up (modules, routes, models, templates) out of the cycle
    collector's reach. A served process holds about 230 000 such objects; without this, every
    full collection walks them all (about 65 ms on the development machine, once every few
    requests for a busy calendar month) and makes the slow tail of the response times.

    Called once per server or worker process, not in tests: frozen objects are only ever freed
    by reference counting, so an object frozen and later part of a garbage cycle stays.

    A process that serves pages (`serving`) first loads what its first requests would otherwise
    load lazily (the holiday tables), so that it is frozen too. Then the collector runs less
    often (`YOUNG_THRESHOLD`)."""
    if serving:
        from core import clock
        from core.calendar import holidays

        holidays.preload(clock.now().date())
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


def preload_networks(database_url: str) -> None:
    """A publishing process loads the client libraries of the networks its accounts are on
    before it freezes its heap (`networks.registry.preload`)."""
    import sqlalchemy as sa

    from core.accounts.models import Account, Network
    from core.db import make_engine
    from networks import registry

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            found = connection.execute(sa.select(Account.network).distinct()).scalars().all()  # type: ignore[call-overload]
    finally:
        engine.dispose()
    registry.preload(Network(n) for n in found if n in Network.__members__.values())


class FreezeAfterWarmUp:
    """Freezes the heap once more after the first requests. Those fill the caches that live as
    long as the process (compiled SQL statements, validators, dependency graphs: about 27 000
    objects after one busy calendar); left in the collector's oldest generation, each full
    collection walks them (7 ms, one busy calendar in sixteen). Requests still running at that
    moment are frozen with the caches: a bounded, one-time cost."""

    def __init__(self, app: ASGIApp, *, after: int = WARM_UP_REQUESTS) -> None:
        self.app = app
        self.remaining = after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http" and self.remaining > 0:
            self.remaining -= 1
            if self.remaining == 0:
                gc.collect()
                gc.freeze()
