"""The dispatcher: claims due publications and publishes them on a bounded thread pool.

It ticks at most every `publish_tick_seconds` (0.5 s) and wakes up exactly at the next due time it
knows of, so a publication goes out within a second of its time. The database work is done in
batches, off the sending threads: each tick claims what the free slots allow and prepares all of
it (attempt rows included) in one transaction, after committing in one transaction the results
of the publications that went out since the last tick (core.publishing.engine.ResultWriter). The
sending threads only call the networks (and write the rarer outcomes: errors, reconciliation).

Calls are bounded in total (`publish_concurrency`) and per network (`publish_network_concurrency`);
an account never has two publications in flight (the claim sees to it). A slow network fills only
its own slots: the others keep being claimed and published. The dispatcher claims and prepares up
to half as many publications again as it may send at once (`AHEAD`), kept ready in memory: a
sending thread that finishes starts the next ready one at once, instead of waiting for the next
tick. Right before each call, the account is checked against the rate-limit pauses as read from
the database about `PAUSES_MAX_AGE` earlier (the sending threads share one read of the small
pause table, and do not wait while one of them reads it again); a paused one is not sent, and its
attempt, not begun, is withdrawn.

No APScheduler job per post: the database is the source of truth, and any number of processes
run a dispatcher side by side.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy.engine import Engine

from core import clock
from core.accounts.models import Network
from core.config import Settings
from core.db import make_engine, session_scope, single_statements
from core.publishing import claim as claims
from core.publishing import engine as publishing
from core.workers.service import this_worker_name
from networks import registry

log = logging.getLogger(__name__)

# When woken by a publication that ended, wait this long since the last tick before claiming
# again, so that the slots freed meanwhile are claimed and prepared together.
GATHER_SECONDS = 0.02

PUBLISHED_NETWORKS = tuple(Network)

# How many publications are claimed and prepared ahead, as a share of the calls allowed at once.
AHEAD = 0.5
# How old the pauses checked right before a call may be (seconds), give or take one read of them.
PAUSES_MAX_AGE = 0.05


class Pauses:
    """The accounts a network asked to leave alone, read again whenever the last read is older
    than `max_age`. One thread reads while the others check against the previous read, so the
    sending threads never queue behind a read (under load, a read took the others' time too)."""

    def __init__(self, engine: Engine, *, max_age: float = PAUSES_MAX_AGE) -> None:
        self.engine = engine
        self.max_age = max_age
        self._reading = threading.Lock()
        self._read_at = float("-inf")
        self._paused: frozenset[int] = frozenset()

    def __contains__(self, account_id: int) -> bool:
        if time.monotonic() - self._read_at > self.max_age and self._reading.acquire(
            blocking=False
        ):
            try:
                read_at = time.monotonic()  # a pause committed after this is seen next time
                with session_scope(self.engine) as session:
                    paused = frozenset(publishing.paused_accounts(session, clock.now()))
                self._paused, self._read_at = paused, read_at
            finally:
                self._reading.release()
        # A pause this process has just decided (its 429, or the metric collection's) counts at
        # once, even before its transaction is committed.
        return account_id in self._paused or account_id in publishing.decided_pauses(
            self.engine, clock.now()
        )

    def forget(self) -> None:
        """Read them again at the next check (this worker has just paused an account)."""
        self._read_at = float("-inf")


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
        self.adapters = publishing.AdapterCache(adapter_for or registry.adapter_for)
        self.results = publishing.ResultWriter(engine, worker=self.worker)
        # The claim and the reads are single statements (no BEGIN and COMMIT on PostgreSQL).
        self.statements = single_statements(engine)
        self.reader = _reader(engine)
        self.pauses = Pauses(self.reader)
        self.pool = ThreadPoolExecutor(
            max_workers=settings.publish_concurrency, thread_name_prefix="publish"
        )
        self.lease = timedelta(seconds=settings.publish_lease_seconds)
        self.tick_seconds = settings.publish_tick_seconds
        # A publication that ends wakes the dispatcher when no more than this many are ready:
        # waking it at every end cost the sending threads more than it gained them.
        self._refill_at = int(settings.publish_concurrency * AHEAD) // 2
        self._lock = threading.Lock()
        # Claimed by this dispatcher and not finished (ready or being sent), and being sent.
        self._in_flight: Counter[Network] = Counter()
        self._sending: Counter[Network] = Counter()
        self._ready: dict[Network, deque[publishing.Job]] = {n: deque() for n in Network}
        self._free = 0  # the free slots at the last tick
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
        # What was claimed is sent: the ready publications start as the calls under way end.
        deadline = time.monotonic() + self.lease.total_seconds()
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.02)
        self.pool.shutdown(wait=True)
        with self._lock:
            ready = [job for jobs in self._ready.values() for job in jobs]
            for jobs in self._ready.values():
                jobs.clear()
        for job in ready:
            publishing.withdraw(self.engine, job, worker=self.worker)
        self.results.flush()
        released = claims.release(self.engine, worker=self.worker)
        if self.reader.pool is not self.engine.pool:
            self.reader.dispose()
        if released:
            log.info("%s publication(s) rendue(s) à la file.", released)

    @property
    def in_flight(self) -> int:
        with self._lock:
            return sum(self._in_flight.values())

    # --- the loop ---------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stopping.is_set():
            ticked = time.monotonic()
            try:
                # Every free slot taken: more may be due, and nothing could be sent before a
                # slot frees up (which wakes the loop). Otherwise, wake up at the next due time.
                wait = self.tick_seconds if self.tick() == self._free else self._until_next_due()
            except Exception:  # the database went away for a moment: try again next tick
                log.exception("Le répartiteur de publications a échoué ; nouvel essai.")
                wait = self.tick_seconds
            if self._wake.wait(wait) and not self._stopping.is_set():
                pause = ticked + GATHER_SECONDS - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
            self._wake.clear()

    def _until_next_due(self) -> float:
        with session_scope(self.statements) as session:
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
        """Write the results that came back, claim what the free slots allow and start
        publishing it; returns how many were claimed."""
        # First: an account whose publication went out is free for its next one.
        self.results.flush()
        total = self.settings.publish_concurrency
        per_network = self.settings.publish_network_concurrency
        with self._lock:
            free_total = total + int(total * AHEAD) - sum(self._in_flight.values())
            free = {
                network: per_network + int(per_network * AHEAD) - self._in_flight[network]
                for network in PUBLISHED_NETWORKS
            }
        self._free = free_total
        if free_total <= 0 or self._stopping.is_set():
            return 0
        open_networks = [n for n, slots in free.items() if slots > 0]
        if not open_networks:
            return 0
        if len(open_networks) == len(PUBLISHED_NETWORKS) and min(free.values()) >= free_total:
            # No network is near its own limit: one claim for all of them.
            claimed = claims.claim_with_networks(
                self.statements, worker=self.worker, lease=self.lease, limit=free_total
            )
        else:
            claimed = []
            for network in open_networks:
                limit = min(free[network], free_total - len(claimed))
                if limit <= 0:
                    break
                claimed += claims.claim_with_networks(
                    self.statements,
                    worker=self.worker,
                    lease=self.lease,
                    limit=limit,
                    network=network,
                )
        if claimed:
            self._start(claimed)
        return len(claimed)

    def _start(self, claimed: list[tuple[int, Network]]) -> None:
        with self._lock:
            self._in_flight.update(network for _, network in claimed)
        try:
            prepared = publishing.prepare(
                self.engine,
                self.settings,
                [publication_id for publication_id, _ in claimed],
                worker=self.worker,
                adapter_for=self.adapters,
            )
        except Exception:
            # Nothing was written: the claims stay until their lease passes.
            with self._lock:
                self._in_flight.subtract(network for _, network in claimed)
            raise
        with self._lock:
            for publication_id, network in claimed:
                job = prepared.get(publication_id)
                if isinstance(job, publishing.Job):
                    self._ready[network].append(job)
                else:
                    # Ended in the preparation (failed, delivered, parked, lost), or left claimed.
                    self._in_flight[network] -= 1
        self._send_ready()

    def _send_ready(self) -> None:
        """Start sending ready publications, as far as the limits on calls allow."""
        while True:
            with self._lock:
                job = self._next_ready()
            if job is None:
                return
            try:
                self.pool.submit(self._run, job)
            except RuntimeError:  # the pool is shutting down: stop() withdraws the others
                with self._lock:
                    self._sending[job.network] -= 1
                    self._in_flight[job.network] -= 1
                publishing.withdraw(self.engine, job, worker=self.worker)
                return

    def _next_ready(self) -> publishing.Job | None:
        if sum(self._sending.values()) >= self.settings.publish_concurrency:
            return None
        for network, jobs in self._ready.items():
            if jobs and self._sending[network] < self.settings.publish_network_concurrency:
                self._sending[network] += 1
                return jobs.popleft()
        return None

    def _run(self, job: publishing.Job) -> None:
        try:
            if job.account_id in self.pauses:
                # Paused since it was prepared (the metric collection or a login met the
                # network's limit): not sent before the reset.
                publishing.withdraw(self.engine, job, worker=self.worker)
                return
            result = publishing.send(
                self.engine,
                self.settings,
                job,
                worker=self.worker,
                writer=self.results,
                adapters=self.adapters,
            )
            if result == publishing.Result.published:
                with self._lock:
                    self.published += 1
            elif result == publishing.Result.parked:
                self.pauses.forget()
        except Exception:
            # Left claimed: the lease passes and another worker reconciles and takes over.
            log.exception("Publication %s : échec inattendu du worker", job.publication_id)
            self.adapters.forget(job.account_id)
        finally:
            with self._lock:
                self._sending[job.network] -= 1
                self._in_flight[job.network] -= 1
                running_low = sum(len(jobs) for jobs in self._ready.values()) <= self._refill_at
            self._send_ready()
            if running_low:
                self._wake.set()


def _reader(engine: Engine) -> Engine:
    """An engine for the sending threads' one read (the pause): on SQLite, transactions of the
    main engine begin IMMEDIATE, taking the write lock, which a read must not queue for; on
    PostgreSQL, the main engine's connections, one statement at a time."""
    database = engine.url.database
    if engine.dialect.name != "sqlite":
        return single_statements(engine)
    if not database or database == ":memory:":
        return engine
    return make_engine(engine.url.render_as_string(hide_password=False), sqlite_immediate=False)
