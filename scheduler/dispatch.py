"""The dispatcher: claims due publications and publishes them on a bounded thread pool.

It ticks at most every `publish_tick_seconds` (0.5 s) and wakes up exactly at the next due time it
knows of, so a publication goes out within a second of its time. Concurrency is bounded in total
(`publish_concurrency`) and per network (`publish_network_concurrency`); an account never has two
publications in flight (the claim sees to it). A slow network fills only its own slots: the
others keep being claimed and published.

No APScheduler job per post: the database is the source of truth, and any number of processes
run a dispatcher side by side.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy.engine import Engine

from core import clock
from core.accounts.models import Network
from core.config import Settings
from core.db import session_scope
from core.publishing import claim as claims
from core.publishing import engine as publishing
from core.workers.service import this_worker_name

log = logging.getLogger(__name__)

PUBLISHED_NETWORKS = tuple(Network)


class Dispatcher:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        worker: str | None = None,
        adapter_for: publishing.AdapterFactory | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.worker = worker or this_worker_name()
        self.adapter_for = adapter_for
        self.pool = ThreadPoolExecutor(
            max_workers=settings.publish_concurrency, thread_name_prefix="publish"
        )
        self.lease = timedelta(seconds=settings.publish_lease_seconds)
        self.tick_seconds = settings.publish_tick_seconds
        self._lock = threading.Lock()
        self._in_flight: Counter[Network] = Counter()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.published = 0

    # --- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="dispatcher", daemon=True)
        self._thread.start()

    def kick(self) -> None:
        """Look for due publications now (a person asked to publish now)."""
        self._wake.set()

    def stop(self, *, timeout: float | None = None) -> None:
        """Stop claiming, let the publications in flight finish, give back anything left."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.pool.shutdown(wait=True)
        released = claims.release(self.engine, worker=self.worker)
        if released:
            log.info("%s publication(s) rendue(s) à la file.", released)

    @property
    def in_flight(self) -> int:
        with self._lock:
            return sum(self._in_flight.values())

    # --- the loop ---------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.tick()
                wait = self._until_next_due()
            except Exception:  # the database went away for a moment: try again next tick
                log.exception("Le répartiteur de publications a échoué ; nouvel essai.")
                wait = self.tick_seconds
            self._wake.wait(wait)
            self._wake.clear()

    def _until_next_due(self) -> float:
        with session_scope(self.engine) as session:
            due = claims.next_due_at(session)
        if due is None:
            return self.tick_seconds
        seconds = (due - clock.now()).total_seconds()
        if seconds <= 0:
            # Due but not claimable now (its account is busy or paused, or the slots are full):
            # the next tick, or the end of a publication, looks again.
            return self.tick_seconds
        return min(self.tick_seconds, seconds)

    def tick(self) -> int:
        """Claim what the free slots allow and start publishing it; returns how many."""
        with self._lock:
            free_total = self.settings.publish_concurrency - sum(self._in_flight.values())
            free = {
                network: self.settings.publish_network_concurrency - self._in_flight[network]
                for network in PUBLISHED_NETWORKS
            }
        if free_total <= 0 or self._stopping.is_set():
            return 0
        open_networks = [n for n, slots in free.items() if slots > 0]
        if not open_networks:
            return 0
        if len(open_networks) == len(PUBLISHED_NETWORKS) and min(free.values()) >= free_total:
            # No network is near its own limit: one claim for all of them.
            claimed = claims.claim_with_networks(
                self.engine, worker=self.worker, lease=self.lease, limit=free_total
            )
            for publication_id, network in claimed:
                self._start(publication_id, network)
            return len(claimed)
        started = 0
        for network in open_networks:
            limit = min(free[network], free_total - started)
            if limit <= 0:
                break
            ids = claims.claim(
                self.engine, worker=self.worker, lease=self.lease, limit=limit, network=network
            )
            for publication_id in ids:
                self._start(publication_id, network)
            started += len(ids)
        return started

    def _start(self, publication_id: int, network: Network) -> None:
        with self._lock:
            self._in_flight[network] += 1
        try:
            self.pool.submit(self._run, publication_id, network)
        except RuntimeError:  # the pool is shutting down: give it back
            with self._lock:
                self._in_flight[network] -= 1
            claims.release(self.engine, worker=self.worker, ids=[publication_id])

    def _run(self, publication_id: int, network: Network) -> None:
        try:
            kwargs = {"adapter_for": self.adapter_for} if self.adapter_for else {}
            result = publishing.publish(
                self.engine,
                self.settings,
                publication_id=publication_id,
                worker=self.worker,
                **kwargs,
            )
            if result == publishing.Result.published:
                with self._lock:
                    self.published += 1
        except Exception:
            # Left claimed: the lease passes and another worker reconciles and takes over.
            log.exception("Publication %s : échec inattendu du worker", publication_id)
        finally:
            with self._lock:
                self._in_flight[network] -= 1
            self._wake.set()
