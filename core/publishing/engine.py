"""Publishing one claimed publication, keeping DESIGN.md section 5's promises.

For each publication a worker claimed (core.publishing.claim):
1. read what to send, in a short transaction; refuse it in a pre-electoral silence window
   (unless urgent); a manual channel gets its prepared text e-mailed to its person instead;
2. if the last attempt's outcome is unknown (crash, timeout, error after sending), read the
   account back (`find`, else `recent_posts` by text and time): found means published, not
   found means it may be sent again;
3. commit an attempt row (with the publication's idempotency key) BEFORE the network call;
4. call the network, outside any transaction;
5. commit the result: published (remote id and link), retried later (backoff with jitter),
   parked with the whole account until the network's reset (rate limit), or failed with a
   French reason and what to do, and the editors are told by e-mail.

Every write is conditional on the publication still being claimed by this worker, so that a
worker that lost its lease cannot overwrite the one that took over.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import random
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op
from sqlmodel import Session, col, select

from core import clock, electoral
from core.accounts import manual
from core.accounts import service as accounts
from core.accounts.models import Account, AccountHealth, Network
from core.authorities.models import Authority
from core.config import Settings
from core.db import UTCDateTime, session_scope
from core.editorial.models import Election, Pillar
from core.errors import AppError
from core.i18n import N_
from core.media import service as media_service
from core.media import storage
from core.posts import content
from core.posts.models import Post, PostMedia, PostStatus, Publication, PublicationStatus
from core.publishing import claim as claims
from core.publishing import notify
from core.publishing.models import AccountPause, AttemptOutcome, PublicationAttempt
from networks import registry
from networks.base import (
    AuthExpired,
    Image,
    NetworkAdapter,
    NetworkError,
    RateLimited,
    RemotePost,
    RetryableError,
)
from networks.base import Post as OutgoingPost

log = logging.getLogger(__name__)

# How far before an attempt began a publication read back may have been created (clocks differ).
RECONCILE_SKEW = timedelta(minutes=5)
RECENT_LIMIT = 40


class Result(StrEnum):
    published = "published"
    failed = "failed"
    retry = "retry"
    parked = "parked"
    delivered = "delivered"  # manual channel: waiting for a person
    lost = "lost"  # no longer ours (lease passed, cancelled)


@dataclass(frozen=True)
class Job:
    """What one publication needs for its network call, read once."""

    publication_id: int
    authority_id: int
    post_id: int
    account_id: int
    network: Network
    attempt_number: int
    key: str
    outgoing: OutgoingPost
    adapter: NetworkAdapter | None
    reconcile_since: datetime | None  # set when the last attempt's outcome is unknown
    # The attempt row was committed with the preparation (nothing to reconcile first).
    attempt_recorded: bool = False
    # Where the bytes of `outgoing.images` are stored: they are read right before the call, so
    # that the publications prepared ahead, waiting their turn, hold none.
    image_paths: tuple[str, ...] = ()


# An adapter factory, replaceable for the benchmark's bare baseline; the default is the registry.
AdapterFactory = Callable[[Account, Settings], NetworkAdapter]


def idempotency_key(publication: Publication) -> str:
    """The same for every attempt of a publication: a network that keeps keys answers a repeated
    attempt with the first publication."""
    raw = f"beffroi:{publication.authority_id}:{publication.post_id}:{publication.id}"
    return "bf" + hashlib.sha256(raw.encode()).hexdigest()[:30]


def backoff(attempt: int, settings: Settings, *, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with jitter: base * 2^(attempt-1), at most the cap, then a random
    share between half and all of it, so that many publications failing together do not retry
    together."""
    rng = rng or random.Random()
    ceiling = min(
        settings.publish_backoff_cap_seconds,
        settings.publish_backoff_base_seconds * (2 ** max(0, attempt - 1)),
    )
    return timedelta(seconds=ceiling * (0.5 + rng.random() / 2))


class AdapterCache:
    """Adapters kept per account from one publication to the next, so that a burst reuses the
    client library's HTTP connection and session instead of building both for every publication.

    An entry is keyed on everything the adapter is built from (the encrypted credentials
    included), so a reconnected account or renewed tokens build a new one. An adapter is never
    used by two threads at once: an account has at most one publication in flight (the claim
    sees to it). After any network error the entry is dropped, so that the next try starts from
    a fresh client, as it did before adapters were kept."""

    def __init__(self, adapter_for: AdapterFactory = registry.adapter_for, size: int = 1024):
        self.adapter_for = adapter_for
        self.size = size
        self._lock = threading.Lock()
        self._adapters: OrderedDict[int, tuple[Hashable, NetworkAdapter]] = OrderedDict()

    def __call__(self, account: Account, settings: Settings) -> NetworkAdapter:
        assert account.id is not None
        key = (
            account.network,
            account.credentials_encrypted,
            account.instance_url,
            account.sandbox,
            account.remote_id,
            account.handle,
        )
        with self._lock:
            kept = self._adapters.get(account.id)
            if kept is not None and kept[0] == key:
                self._adapters.move_to_end(account.id)
                return kept[1]
        adapter = self.adapter_for(account, settings)
        with self._lock:
            self._adapters[account.id] = (key, adapter)
            while len(self._adapters) > self.size:
                self._adapters.popitem(last=False)
        return adapter

    def forget(self, account_id: int) -> None:
        with self._lock:
            self._adapters.pop(account_id, None)


class ResultWriter:
    """Holds the publications that went out until they are written, several to a transaction:
    the sending threads only `add`, and the dispatcher's thread `flush`es whatever has arrived
    before each claim, so that the database is written by one thread of the worker (on SQLite,
    the sending threads and the claim would otherwise queue for the one write lock).

    A result that is not written yet when the worker dies is not lost: its attempt row stays
    `started`, the lease passes, and the next worker reconciles it (reads the account back and
    finds the publication) before anything is sent again."""

    def __init__(self, engine: Engine, *, worker: str, max_batch: int = 256) -> None:
        self.engine = engine
        self.worker = worker
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[Job, str, str | None]] = queue.SimpleQueue()
        self._lock = threading.Lock()

    def add(self, job: Job, *, remote_id: str, url: str | None) -> None:
        self._queue.put((job, remote_id, url))

    def flush(self) -> int:
        """Write what was handed over before this call; returns how many. What comes back while
        it writes waits for the next call (the next tick): going round again for it took a
        second transaction at most ticks, and the tick's claim waited for it."""
        written = 0
        with self._lock:  # the only reader of the queue: what it holds now is there to take
            pending = self._queue.qsize()
            while written < pending:
                size = min(self.max_batch, pending - written)
                batch = [self._queue.get_nowait() for _ in range(size)]
                self._write(batch)
                written += size
        return written

    def _write(self, batch: list[tuple[Job, str, str | None]]) -> None:
        try:
            with session_scope(self.engine) as session:
                _record_successes(session, batch, self.worker)
        except Exception:
            log.exception("Écriture groupée des publications parties : une par une")
            for job, remote_id, url in batch:
                try:
                    _published(self.engine, job, self.worker, remote_id=remote_id, url=url)
                except Exception:
                    # Left claimed with its attempt `started`: reconciled after the lease.
                    log.exception("Publication %s partie mais non enregistrée", job.publication_id)


def publish(
    engine: Engine,
    settings: Settings,
    *,
    publication_id: int,
    worker: str,
    adapter_for: AdapterFactory = registry.adapter_for,
) -> Result:
    """Carry one claimed publication to its end (or to its next try)."""
    prepared = prepare(engine, settings, [publication_id], worker=worker, adapter_for=adapter_for)
    job = prepared.get(publication_id, Result.lost)
    if isinstance(job, Result):
        return job
    return send(engine, settings, job, worker=worker)


def prepare(
    engine: Engine,
    settings: Settings,
    publication_ids: list[int],
    *,
    worker: str,
    adapter_for: AdapterFactory = registry.adapter_for,
) -> dict[int, Job | Result]:
    """Read what each claimed publication needs, in one transaction for all of them, and put its
    attempt on record there (when nothing has to be read back first). A publication that ends
    here (failed, delivered to a person, parked) has its Result; one that raised is left
    claimed (its lease passes) and is missing from the answer.

    The common case (a network account, not paused, no election on record, nothing to read
    back) is read with two queries for the whole batch and its attempts are written with one
    statement; any other publication goes through the one-by-one path, in a savepoint."""
    prepared: dict[int, Job | Result] = {}
    with session_scope(engine) as session:
        ready = _Batch.read(session, publication_ids)
        plain: list[Job] = []
        for publication_id in publication_ids:
            try:
                job = ready.plain_job(session, settings, publication_id, worker, adapter_for)
            except Exception:  # the one-by-one path meets it again, in its savepoint
                job = None
            if job is not None:
                plain.append(job)
                continue
            try:
                with session.begin_nested():
                    prepared[publication_id] = _prepare_in(
                        session, settings, publication_id, worker, adapter_for
                    )
            except Exception:
                log.exception("Publication %s : préparation impossible", publication_id)
        if plain:
            _record_attempts(session, plain, worker)
            for job in plain:
                prepared[job.publication_id] = replace(job, attempt_recorded=True)
    return prepared


@dataclass
class _Batch:
    """What a batch of claimed publications needs, read with one query per table."""

    rows: dict[int, tuple[Publication, Post, Account, Authority]]
    paused: set[int]
    last: dict[int, tuple[int, AttemptOutcome]]  # publication id: (number, outcome)
    with_media: set[int]  # post ids
    urgent_pillars: set[int]
    with_elections: set[int]  # authority ids

    @classmethod
    def read(cls, session: Session, ids: list[int]) -> _Batch:
        # The worker serves every authority: this read spans them on purpose, by the ids the
        # claim gave this worker.
        rows: dict[int, tuple[Publication, Post, Account, Authority]] = {}
        last: dict[int, tuple[int, AttemptOutcome]] = {}
        with_media: set[int] = set()
        urgent_pillars: set[int] = set()
        with_elections: set[int] = set()
        now = clock.now()
        paused = _local_pauses.active(_database_of(session), now)
        found = session.execute(_BATCH, {"ids": ids, "now": now}).all()
        for (
            publication,
            post,
            account,
            authority,
            media,
            urgent,
            election,
            number,
            outcome,
            account_paused,
        ) in found:
            if publication.id is None:
                continue
            rows[publication.id] = (publication, post, account, authority)
            if account_paused:
                paused.add(publication.account_id)
            if number is not None:
                last[publication.id] = (int(number), AttemptOutcome(outcome))
            if media:
                with_media.add(post.id)
            if urgent:
                urgent_pillars.add(post.pillar_id)
            if election:
                with_elections.add(publication.authority_id)
        return cls(
            rows=rows,
            paused=paused,
            last=last,
            with_media=with_media,
            urgent_pillars=urgent_pillars,
            with_elections=with_elections,
        )

    def plain_job(
        self,
        session: Session,
        settings: Settings,
        publication_id: int,
        worker: str,
        adapter_for: AdapterFactory,
    ) -> Job | None:
        """The job of a publication in the common case, its attempt not yet written; None for
        any other (the one-by-one path decides)."""
        row = self.rows.get(publication_id)
        if row is None:
            return None
        publication, post, account, authority = row
        last = self.last.get(publication_id)
        if (
            publication.status != PublicationStatus.publishing
            or publication.claimed_by != worker
            or account.network == Network.manual
            or account.id in self.paused
            or (last is not None and last[1] in (AttemptOutcome.started, AttemptOutcome.unknown))
            or (
                post.authority_id in self.with_elections
                and post.pillar_id not in self.urgent_pillars
            )
        ):
            return None
        try:
            adapter = adapter_for(account, settings)
        except NetworkError:
            return None  # the one-by-one path meets it again and says why
        network = Network(account.network)
        if post.id in self.with_media:
            outgoing, paths = _outgoing(session, settings, post, publication, network, authority)
        else:
            outgoing, paths = OutgoingPost(text=publication.text or post.text, images=[]), ()
        return Job(
            publication_id=publication_id,
            authority_id=publication.authority_id,
            post_id=publication.post_id,
            account_id=publication.account_id,
            network=network,
            attempt_number=(last[0] if last else 0) + 1,
            key=idempotency_key(publication),
            outgoing=outgoing,
            adapter=adapter,
            reconcile_since=None,
            image_paths=paths,
        )


def _batch_statement() -> sa.Select[Any]:
    """Everything `_Batch` needs, one row per publication (parameters `ids` and `now`): built
    once, the dispatcher runs it at every tick."""
    attempts = PublicationAttempt.__table__  # type: ignore[attr-defined]

    def of_last_attempt(column: Any, label: str) -> Any:
        return (
            sa.select(column)
            .where(attempts.c.publication_id == col(Publication.id))
            .order_by(attempts.c.number.desc())
            .limit(1)
            .scalar_subquery()
            .label(label)
        )

    return (
        sa.select(
            Publication,
            Post,
            Account,
            Authority,
            sa.exists().where(col(PostMedia.post_id) == col(Post.id)).label("with_media"),
            sa.exists()
            .where(col(Pillar.id) == col(Post.pillar_id), col(Pillar.urgent))
            .label("urgent"),
            sa.exists()
            .where(col(Election.authority_id) == col(Publication.authority_id))
            .label("with_elections"),
            of_last_attempt(attempts.c.number, "last_number"),
            of_last_attempt(attempts.c.outcome, "last_outcome"),
            sa.exists()
            .where(
                col(AccountPause.account_id) == col(Publication.account_id),
                col(AccountPause.until_at) > sa.bindparam("now", type_=UTCDateTime),
            )
            .label("paused"),
        )
        .join(Post, col(Post.id) == Publication.post_id)
        .join(Account, col(Account.id) == Publication.account_id)
        .join(Authority, col(Authority.id) == Publication.authority_id)
        .where(col(Publication.id).in_(sa.bindparam("ids", expanding=True)))
        # Held until the batch's attempts are on record (see `_record_attempts`).
        .with_for_update(of=Publication)
    )


_BATCH = _batch_statement()


def _record_attempts(session: Session, jobs: list[Job], worker: str) -> None:
    """`_record_attempt` for a batch, in one statement. Each publication was read in this
    transaction and seen claimed by `worker`, and cannot change hands before it commits: its
    row is locked (FOR UPDATE, PostgreSQL), or the transaction holds the write lock from its
    start (SQLite). The lease is the claim's, taken a moment ago; the publication's count of
    attempts is written with its outcome."""
    now = clock.now()
    if session.connection().dialect.name == "postgresql":
        # One statement whatever the batch's size (a list of rows is one statement per row).
        session.execute(
            _attempts_at_once(),
            {
                "aids": [job.authority_id for job in jobs],
                "pids": [job.publication_id for job in jobs],
                "ns": [job.attempt_number for job in jobs],
                "keys": [job.key for job in jobs],
                "worker": worker,
                "now": now,
            },
        )
        return
    session.execute(
        sa.insert(PublicationAttempt.__table__),  # type: ignore[attr-defined]
        [
            {
                "authority_id": job.authority_id,
                "publication_id": job.publication_id,
                "number": job.attempt_number,
                "idempotency_key": job.key,
                "worker": worker,
                "outcome": AttemptOutcome.started.value,
                "checks": 0,
                "started_at": now,
            }
            for job in jobs
        ],
    )


@cache
def _attempts_at_once() -> sa.Insert:
    """`_record_attempts` on PostgreSQL: the batch's attempts from one array per column (`aids`,
    `pids`, `ns`, `keys`), with the parameters `worker` and `now`."""
    attempt = PublicationAttempt.__table__  # type: ignore[attr-defined]
    rows = (
        sa.func.unnest(
            sa.bindparam("aids", type_=postgresql.ARRAY(sa.Integer)),
            sa.bindparam("pids", type_=postgresql.ARRAY(sa.Integer)),
            sa.bindparam("ns", type_=postgresql.ARRAY(sa.Integer)),
            sa.bindparam("keys", type_=postgresql.ARRAY(sa.Text)),
        )
        .table_valued("aid", "pid", "n", "key")
        .render_derived()
    )
    values = sa.select(
        rows.c.aid,
        rows.c.pid,
        rows.c.n,
        rows.c.key,
        sa.bindparam("worker", type_=sa.String),
        sa.literal(AttemptOutcome.started.value),
        sa.literal(0),
        sa.bindparam("now", type_=UTCDateTime),
    )
    columns = ["authority_id", "publication_id", "number", "idempotency_key", "worker"]
    return sa.insert(attempt).from_select([*columns, "outcome", "checks", "started_at"], values)


def send(
    engine: Engine,
    settings: Settings,
    job: Job,
    *,
    worker: str,
    writer: ResultWriter | None = None,
    adapters: AdapterCache | None = None,
) -> Result:
    """The network part of a prepared publication: read back an attempt of unknown outcome,
    put the attempt on record if it is not yet, call the network, record the result (through
    `writer` when given: several results to a transaction)."""
    result = _send(engine, settings, job, worker=worker, writer=writer)
    if adapters is not None and result != Result.published:
        adapters.forget(job.account_id)
    return result


def withdraw(engine: Engine, job: Job, *, worker: str) -> Result:
    """A prepared publication that is not sent after all (its account was paused meanwhile, or
    the worker is stopping): its attempt, not begun, is taken back, and it is due again (at
    once, or after the pause)."""
    with session_scope(engine) as session:
        publication = _mine(session, job.publication_id, worker)
        if publication is None:
            return Result.lost
        if job.attempt_recorded:
            session.execute(
                sa.delete(PublicationAttempt)
                .where(
                    col(PublicationAttempt.publication_id) == job.publication_id,
                    col(PublicationAttempt.number) == job.attempt_number,
                    col(PublicationAttempt.outcome) == AttemptOutcome.started,
                )
                .execution_options(synchronize_session=False)
            )
            publication.attempts = job.attempt_number - 1
        _back_to_queue(session, publication, due_at=publication.due_at)
    return Result.parked


def _send(
    engine: Engine,
    settings: Settings,
    job: Job,
    *,
    worker: str,
    writer: ResultWriter | None,
) -> Result:
    lease = timedelta(seconds=settings.publish_lease_seconds)
    assert job.adapter is not None
    if job.reconcile_since is not None:
        try:
            found = reconcile(
                job.adapter,
                key=job.key,
                text=job.outgoing.text,
                since=job.reconcile_since,
                exclude=_known_remote_ids(engine, job),
            )
        except NetworkError as error:
            return _reconcile_failed(engine, settings, job, worker, error)
        with session_scope(engine) as session:
            attempt = claims.last_attempt(session, job.publication_id)
            if attempt is not None:
                attempt.outcome = AttemptOutcome.found if found else AttemptOutcome.absent
                attempt.remote_id = found.remote_id if found else attempt.remote_id
                attempt.finished_at = clock.now()
                session.add(attempt)
        if found is not None:
            return _published(engine, job, worker, remote_id=found.remote_id, url=found.url)
        if job.attempt_number > settings.publish_max_attempts:
            return _tired(engine, settings, job, worker, None)
    # The attempt is on record before anything is sent.
    if not job.attempt_recorded:
        with session_scope(engine) as session:
            if not _record_attempt(session, job, worker, lease):
                return Result.lost
    try:
        done = job.adapter.publish(_with_image_bytes(settings, job), idempotency_key=job.key)
    except NetworkError as error:
        return _after_error(engine, settings, job, worker, error, before_sending=False)
    except Exception as error:  # a library bug must not leave the attempt "started" for ever
        log.exception("Publication %s : erreur inattendue", job.publication_id)
        unknown = RetryableError(
            network=job.network, network_message=str(error), outcome_unknown=True
        )
        return _after_error(engine, settings, job, worker, unknown, before_sending=False)
    _save_renewed_credentials(engine, settings, job)
    if writer is not None:
        writer.add(job, remote_id=done.remote_id, url=done.url)
        return Result.published
    return _published(engine, job, worker, remote_id=done.remote_id, url=done.url)


def _record_attempt(session: Session, job: Job, worker: str, lease: timedelta) -> bool:
    if not claims.extend(session, publication_id=job.publication_id, worker=worker, lease=lease):
        return False
    session.execute(
        sa.update(Publication)
        .where(col(Publication.id) == job.publication_id)
        .values(attempts=job.attempt_number)
        .execution_options(synchronize_session=False)
    )
    session.add(
        PublicationAttempt(
            authority_id=job.authority_id,
            publication_id=job.publication_id,
            number=job.attempt_number,
            idempotency_key=job.key,
            worker=worker,
        )
    )
    return True


def reconcile(
    adapter: NetworkAdapter,
    *,
    key: str,
    text: str,
    since: datetime,
    exclude: set[str] = frozenset(),  # type: ignore[assignment]
) -> RemotePost | None:
    """The publication an attempt of unknown outcome made, if the network holds it: by its
    idempotency marker where the network keeps one, else by its text within the time window."""
    found = adapter.find(key)
    if found is not None:
        return found
    wanted = _normal(text)
    for remote in adapter.recent_posts(limit=RECENT_LIMIT):
        if remote.remote_id in exclude:
            continue
        if remote.created_at is not None and remote.created_at < since - RECONCILE_SKEW:
            continue
        if remote.marker is not None and remote.marker == key:
            return remote
        got = _normal(remote.text)
        if wanted and (got == wanted or got.startswith(wanted)):
            return remote
    return None


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _prepare_in(
    session: Session,
    settings: Settings,
    publication_id: int,
    worker: str,
    adapter_for: AdapterFactory,
) -> Job | Result:
    publication = session.get(Publication, publication_id)
    if (
        publication is None
        or publication.status != PublicationStatus.publishing
        or publication.claimed_by != worker
    ):
        return Result.lost
    post = session.get(Post, publication.post_id)
    account = session.get(Account, publication.account_id)
    authority = session.get(Authority, publication.authority_id)
    assert post is not None
    assert account is not None
    assert authority is not None
    network = Network(account.network)
    refusal = _silence(session, post, authority)
    if refusal is not None:
        _fail(session, settings, publication, post, account, refusal)
        return Result.failed
    if account.id in paused_accounts(session, clock.now()):
        # Paused since the claim (another worker or the metric collection got a 429).
        _back_to_queue(session, publication, due_at=publication.due_at)
        return Result.parked
    key = idempotency_key(publication)
    outgoing, paths = _outgoing(session, settings, post, publication, network, authority)
    if network == Network.manual:
        _deliver_manually(session, settings, publication, post, account, key, outgoing)
        return Result.delivered
    last = claims.last_attempt(session, publication_id)
    reconcile_since = last.started_at if last is not None and claims.outcome_unknown(last) else None
    try:
        adapter = adapter_for(account, settings)
    except RateLimited as error:
        assert account.id is not None
        pause_account(session, account_id=account.id, until=error.reset_at, reason=error.message)
        _back_to_queue(session, publication, due_at=publication.due_at)
        return Result.parked
    except NetworkError as error:
        _handle_refusal(session, settings, publication, post, account, error)
        return Result.failed
    job = Job(
        publication_id=publication_id,
        authority_id=publication.authority_id,
        post_id=publication.post_id,
        account_id=publication.account_id,
        network=network,
        attempt_number=(last.number if last else 0) + 1,
        key=key,
        outgoing=outgoing,
        adapter=adapter,
        reconcile_since=reconcile_since,
        image_paths=paths,
    )
    if reconcile_since is None:
        # Nothing to read back first: the attempt goes on record in this same transaction.
        lease = timedelta(seconds=settings.publish_lease_seconds)
        if not _record_attempt(session, job, worker, lease):
            return Result.lost
        job = replace(job, attempt_recorded=True)
    return job


def _silence(session: Session, post: Post, authority: Authority) -> AppError | None:
    """Art. L49: from midnight on the eve of a round until polls close, only urgent posts go out,
    whatever was approved before."""
    pillar = session.get(Pillar, post.pillar_id) if post.pillar_id else None
    if pillar is not None and pillar.urgent:
        return None
    elections = electoral.elections_of(session, post.authority_id)
    if not elections:
        return None
    windows = electoral.containing(
        electoral.silence_windows(elections, authority.timezone), clock.now()
    )
    if not windows:
        return None
    return AppError(
        N_(
            "Publication bloquée : la période de silence électoral (veille et jour du scrutin, "
            "article L49 du code électoral) a commencé, et seules les alertes urgentes peuvent "
            "partir. Reprogrammez-la après la fermeture des bureaux de vote, puis relancez-la."
        ),
        code="electoral_silence",
    )


def _outgoing(
    session: Session,
    settings: Settings,
    post: Post,
    publication: Publication,
    network: Network,
    authority: Authority,
) -> tuple[OutgoingPost, tuple[str, ...]]:
    """The post as it goes to `network`, its images without their bytes, and where those are
    stored (`_with_image_bytes` reads them)."""
    images = []
    paths = []
    for item in content.media_of(session, post):
        rendition = (
            media_service.rendition_for(session, settings, media=item, network=network)
            if network != Network.manual
            else None
        )
        source: Any = rendition or item
        paths.append(source.path)
        images.append(
            Image(
                data=b"",
                mime=source.mime,
                alt=item.alt_text,
                url=settings.public_url + media_service.file_url(authority, item),
                width=source.width,
                height=source.height,
            )
        )
    return OutgoingPost(text=publication.text or post.text, images=images), tuple(paths)


def _with_image_bytes(settings: Settings, job: Job) -> OutgoingPost:
    if not job.image_paths:
        return job.outgoing
    images = [
        replace(image, data=storage.read(settings, path) or b"")
        for image, path in zip(job.outgoing.images, job.image_paths, strict=True)
    ]
    return replace(job.outgoing, images=images)


def _deliver_manually(
    session: Session,
    settings: Settings,
    publication: Publication,
    post: Post,
    account: Account,
    key: str,
    outgoing: OutgoingPost,
) -> None:
    """The person assigned to the channel gets the prepared text; the publication stays claimed,
    without a lease, until someone marks it published."""
    last = claims.last_attempt(session, publication.id)  # type: ignore[arg-type]
    manual.deliver(
        session,
        account=account,
        post=outgoing,
        due_at=publication.due_at or clock.now(),
        idempotency_key=key,
        mark_url=f"{settings.public_url}/posts/{post.id}",
    )
    now = clock.now()
    publication.claimed_by = claims.MANUAL_CLAIM
    publication.lease_until = None
    publication.attempts = (last.number if last else 0) + 1
    publication.updated_at = now
    session.add(publication)
    session.add(
        PublicationAttempt(
            authority_id=publication.authority_id,
            publication_id=publication.id,  # type: ignore[arg-type]
            number=publication.attempts,
            idempotency_key=key,
            worker=claims.MANUAL_CLAIM,
            outcome=AttemptOutcome.delivered,
            finished_at=now,
        )
    )


def _known_remote_ids(engine: Engine, job: Job) -> set[str]:
    """Remote ids other publications of the account already hold: never matched again."""
    with session_scope(engine) as session:
        rows = session.exec(
            select(Publication.remote_id).where(
                Publication.account_id == job.account_id,
                col(Publication.remote_id).is_not(None),
                Publication.id != job.publication_id,
            )
        ).all()
    return {r for r in rows if r}


def _mine(session: Session, publication_id: int, worker: str) -> Publication | None:
    publication = session.get(Publication, publication_id, with_for_update=False)
    if (
        publication is None
        or publication.status != PublicationStatus.publishing
        or publication.claimed_by != worker
    ):
        return None
    return publication


def _finish_attempt(
    session: Session,
    job: Job,
    outcome: AttemptOutcome,
    *,
    remote_id: str | None = None,
    error: NetworkError | None = None,
) -> None:
    attempt = session.exec(
        select(PublicationAttempt).where(
            PublicationAttempt.publication_id == job.publication_id,
            PublicationAttempt.number == job.attempt_number,
        )
    ).first()
    if attempt is None:
        return
    attempt.outcome = outcome
    attempt.remote_id = remote_id
    attempt.finished_at = clock.now()
    if error is not None:
        attempt.error_code = error.code
        attempt.error = f"{error.message} [{error.network_message}]"[:2000]
    session.add(attempt)


def record_published(
    session: Session, publication_id: int, *, remote_id: str | None, url: str | None
) -> bool:
    """Mark a publication that was waiting or being sent as published now (by the engine, or by
    the person of a manual channel); False when it was neither any more."""
    now = clock.now()
    result = session.execute(
        sa.update(Publication)
        .where(
            col(Publication.id) == publication_id,
            col(Publication.status).in_(
                (PublicationStatus.publishing, PublicationStatus.scheduled)
            ),
        )
        .values(**_published_values(remote_id=remote_id, url=url, now=now))
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _published_values(*, remote_id: Any, url: Any, now: Any) -> dict[str, Any]:
    """What a publication that went out holds (values, or the columns they are read from)."""
    return {
        "status": PublicationStatus.published.value,
        "remote_id": remote_id,
        "remote_url": url,
        "published_at": now,
        "error": None,
        "error_code": None,
        "claimed_by": None,
        "lease_until": None,
        "updated_at": now,
    }


def _published(engine: Engine, job: Job, worker: str, *, remote_id: str, url: str | None) -> Result:
    with session_scope(engine) as session:
        _record_success(session, job, worker, remote_id=remote_id, url=url)
    return Result.published


def _record_success(
    session: Session, job: Job, worker: str, *, remote_id: str, url: str | None
) -> None:
    _record_successes(session, [(job, remote_id, url)], worker)


def _record_successes(
    session: Session, done: list[tuple[Job, str, str | None]], worker: str
) -> None:
    """Attempts and publications that went out, and their posts, for the whole batch at once:
    on PostgreSQL one statement for the attempts and publications, on SQLite one per table.
    (One statement per row cost a round trip to the database each, and the dispatcher's thread
    waited for the interpreter's lock after every one of them while the sending threads held
    it: 3 ms a publication.)"""
    connection = session.connection()
    dialect = connection.dialect.name
    params: dict[str, Any] = {"now": clock.now()}
    if dialect == "postgresql":
        params["pids"] = [job.publication_id for job, _, _ in done]
        params["ns"] = [job.attempt_number for job, _, _ in done]
        params["rids"] = [rid for _, rid, _ in done]
        params["urls"] = [url for _, _, url in done]
        # One statement, one round trip: on a busy worker, every round trip of the dispatcher's
        # thread is a wait for the interpreter's lock, behind the sending threads.
        updated, post_ids = connection.execute(_published_at_once(), params).one()
        settle_posts(session, set(post_ids), locked=True)
    else:
        params["rows"] = json.dumps(
            [
                {"pid": job.publication_id, "n": job.attempt_number, "rid": rid, "url": url}
                for job, rid, url in done
            ]
        )
        attempts, publications = _published_statements(dialect)
        connection.execute(attempts, params)
        updated = connection.execute(publications, params).rowcount
        settle_posts(session, {job.post_id for job, _, _ in done})
    if updated != len(done):
        log.warning(
            "%s publication(s) publiée(s) mais plus réservée(s) par %s",
            len(done) - updated,
            worker,
        )


@cache
def _published_at_once() -> sa.Select[Any]:
    """`_published_statements` on PostgreSQL as one statement, which also locks the posts of
    the publications it marks published (see `settle_posts`); it returns how many publications
    it marked, and the ids of those posts."""
    attempts, publications = _published_statements("postgresql")
    attempt = PublicationAttempt.__table__  # type: ignore[attr-defined]
    publication = Publication.__table__  # type: ignore[attr-defined]
    post = Post.__table__  # type: ignore[attr-defined]
    # Data-modifying CTEs run whether or not the statement reads them (PostgreSQL's rule).
    marked_attempts = attempts.returning(attempt.c.id).cte("marked_attempts")
    marked = publications.returning(publication.c.post_id).cte("marked")
    posts = (
        sa.select(post.c.id)
        .where(post.c.id.in_(sa.select(marked.c.post_id)))
        .order_by(post.c.id)
        .with_for_update()
        .cte("locked_posts")
    )
    return sa.select(
        sa.select(sa.func.count()).select_from(marked).scalar_subquery(),
        sa.func.array(sa.select(posts.c.id).scalar_subquery()),
    ).add_cte(marked_attempts)


@cache
def _published_statements(dialect: str) -> tuple[sa.Update, sa.Update]:
    """The two updates of `_record_successes`, built once per database kind, with the
    parameter `now` and the batch's rows: on PostgreSQL, one array per column (`pids`, `ns`,
    `rids`, `urls`), on SQLite one JSON array of {pid, n, rid, url} (`rows`).

    Each table must be reached from the batch's rows, by key: joined to them alone, the
    planners read every attempt, or every publication waiting (a year of them included). So
    PostgreSQL is also given the ids (`= ANY`), and SQLite is kept from its index on the
    status (a unary `+`, the way SQLite documents)."""
    attempt = PublicationAttempt.__table__  # type: ignore[attr-defined]
    publication = Publication.__table__  # type: ignore[attr-defined]
    rows: Any
    if dialect == "postgresql":
        arrays: list[Any] = [
            sa.bindparam("pids", type_=postgresql.ARRAY(sa.Integer)),
            sa.bindparam("ns", type_=postgresql.ARRAY(sa.Integer)),
            sa.bindparam("rids", type_=postgresql.ARRAY(sa.Text)),
            sa.bindparam("urls", type_=postgresql.ARRAY(sa.Text)),
        ]
        rows = sa.func.unnest(*arrays).table_valued("pid", "n", "rid", "url").render_derived()
        ids = sa.any_(arrays[0])
        of_batch = [attempt.c.publication_id == ids], [publication.c.id == ids]
        status: Any = publication.c.status
    else:
        each = sa.func.json_each(sa.bindparam("rows", type_=sa.Text)).table_valued("value")
        rows = sa.select(
            *(
                sa.func.json_extract(each.c.value, f"$.{key}").label(key)
                for key in ("pid", "n", "rid", "url")
            )
        ).subquery("done")
        of_batch = [], []
        status = UnaryExpression(
            publication.c.status, operator=custom_op("+"), type_=publication.c.status.type
        )
    now = sa.bindparam("now", type_=UTCDateTime)
    attempts = (
        sa.update(attempt)
        .where(
            *of_batch[0],
            attempt.c.publication_id == rows.c.pid,
            attempt.c.number == rows.c.n,
        )
        .values(outcome=AttemptOutcome.published.value, remote_id=rows.c.rid, finished_at=now)
    )
    # Conditional on the status only: even if the lease passed meanwhile, what went out is
    # recorded (the worker that took over would find it by reconciling anyway).
    publications = (
        sa.update(publication)
        .where(
            *of_batch[1],
            publication.c.id == rows.c.pid,
            sa.or_(
                status == PublicationStatus.publishing.value,
                status == PublicationStatus.scheduled.value,
            ),
        )
        .values(
            attempts=rows.c.n, **_published_values(remote_id=rows.c.rid, url=rows.c.url, now=now)
        )
    )
    return attempts, publications


def _after_error(
    engine: Engine,
    settings: Settings,
    job: Job,
    worker: str,
    error: NetworkError,
    *,
    before_sending: bool,
) -> Result:
    with session_scope(engine) as session:
        publication = _mine(session, job.publication_id, worker)
        if publication is not None and not before_sending:
            # A batch's attempts are counted with their outcome (see `_record_attempts`).
            publication.attempts = max(publication.attempts, job.attempt_number)
        if isinstance(error, RateLimited):
            if not before_sending:
                _finish_attempt(session, job, AttemptOutcome.rate_limited, error=error)
            pause_account(
                session, account_id=job.account_id, until=error.reset_at, reason=error.message
            )
            if publication is not None:
                _back_to_queue(session, publication, due_at=publication.due_at)
            return Result.parked
        if isinstance(error, RetryableError):
            unknown = error.outcome_unknown and not before_sending
            if not before_sending:
                _finish_attempt(
                    session,
                    job,
                    AttemptOutcome.unknown if unknown else AttemptOutcome.retry,
                    error=error,
                )
            if publication is None:
                return Result.lost
            tired = job.attempt_number >= settings.publish_max_attempts
            if tired and not unknown and not before_sending:
                _fail(
                    session,
                    settings,
                    publication,
                    *_post_and_account(session, publication),
                    _tired_error(job, error),
                )
                return Result.failed
            delay = backoff(job.attempt_number, settings)
            _back_to_queue(session, publication, due_at=clock.now() + delay)
            return Result.retry
        if not before_sending:
            _finish_attempt(session, job, AttemptOutcome.failed, error=error)
        if publication is None:
            return Result.lost
        post, account = _post_and_account(session, publication)
        _handle_refusal(session, settings, publication, post, account, error)
        return Result.failed


def _reconcile_failed(
    engine: Engine, settings: Settings, job: Job, worker: str, error: NetworkError
) -> Result:
    """The account could not be read back: the outcome stays unknown. Try again later; after
    as many failures as attempts allowed, fail and say that it may be online."""
    with session_scope(engine) as session:
        attempt = claims.last_attempt(session, job.publication_id)
        checks = 0
        if attempt is not None:
            attempt.checks += 1
            checks = attempt.checks
            session.add(attempt)
        if checks < settings.publish_max_attempts or isinstance(error, RateLimited):
            session.flush()
    if checks < settings.publish_max_attempts or isinstance(error, RateLimited):
        return _after_error(engine, settings, job, worker, error, before_sending=True)
    with session_scope(engine) as session:
        publication = _mine(session, job.publication_id, worker)
        if publication is None:
            return Result.lost
        unknown = AppError(
            N_(
                "{network} ne répond plus ({message}) et Beffroi ne peut pas vérifier si la "
                "publication est partie. Regardez sur le compte si elle est en ligne : si non, "
                "cliquez sur « Réessayer »."
            ),
            code="outcome_unknown",
            network=job.network.label,
            message=error.network_message or "—",
        )
        _fail(session, settings, publication, *_post_and_account(session, publication), unknown)
    return Result.failed


def _tired_error(job: Job, error: NetworkError | None) -> AppError:
    return AppError(
        N_(
            "{network} n'a pas répondu après {attempts} essais ({message}). "
            "Vérifiez l'état du réseau, puis cliquez sur « Réessayer »."
        ),
        code="network_unavailable",
        network=job.network.label,
        attempts=job.attempt_number - (0 if error is not None else 1),
        message=(error.network_message if error is not None else "") or "—",
    )


def _tired(
    engine: Engine, settings: Settings, job: Job, worker: str, error: NetworkError | None
) -> Result:
    with session_scope(engine) as session:
        publication = _mine(session, job.publication_id, worker)
        if publication is None:
            return Result.lost
        _fail(
            session,
            settings,
            publication,
            *_post_and_account(session, publication),
            _tired_error(job, error),
        )
    return Result.failed


def _handle_refusal(
    session: Session,
    settings: Settings,
    publication: Publication,
    post: Post,
    account: Account,
    error: NetworkError,
) -> None:
    if isinstance(error, AuthExpired):
        accounts.record_health(
            session, account=account, health=AccountHealth.unhealthy, message=error.message
        )
    _fail(session, settings, publication, post, account, error)


def _post_and_account(session: Session, publication: Publication) -> tuple[Post, Account]:
    post = session.get(Post, publication.post_id)
    account = session.get(Account, publication.account_id)
    assert post is not None
    assert account is not None
    return post, account


def _back_to_queue(session: Session, publication: Publication, *, due_at: datetime | None) -> None:
    publication.status = PublicationStatus.scheduled
    publication.due_at = due_at or clock.now()
    publication.claimed_by = None
    publication.lease_until = None
    publication.updated_at = clock.now()
    session.add(publication)


def _fail(
    session: Session,
    settings: Settings,
    publication: Publication,
    post: Post,
    account: Account,
    error: AppError,
) -> None:
    publication.status = PublicationStatus.failed
    publication.error = error.message[:2000]
    publication.error_code = error.code
    publication.claimed_by = None
    publication.lease_until = None
    publication.updated_at = clock.now()
    session.add(publication)
    session.flush()
    settle_post(session, post.id)  # type: ignore[arg-type]
    notify.failed(
        session,
        settings,
        post=post,
        account=account,
        reason=error.message,
        reconnect=isinstance(error, AuthExpired),
    )


class _LocalPauses:
    """The pauses this process has decided, known at once to its other threads: the
    transaction that records one may wait for SQLite's write lock (or a busy PostgreSQL) while
    this process's dispatcher is about to send to the same account. Kept per database."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until: dict[tuple[str, int], datetime] = {}

    def note(self, database: str, account_id: int, until: datetime) -> None:
        with self._lock:
            key = (database, account_id)
            if key not in self._until or self._until[key] < until:
                self._until[key] = until

    def active(self, database: str, now: datetime) -> set[int]:
        if not self._until:  # nearly always: no lock to take
            return set()
        with self._lock:
            for key in [k for k, until in self._until.items() if until <= now]:
                del self._until[key]
            return {account for (db, account) in self._until if db == database}

    def clear(self) -> None:
        with self._lock:
            self._until.clear()

    def __bool__(self) -> bool:
        return bool(self._until)


_local_pauses = _LocalPauses()


def forget_local_pauses() -> None:
    """Forget the pauses this process decided (the database they were recorded in was emptied)."""
    _local_pauses.clear()


def _database_of(session: Session) -> str:
    return str(session.get_bind().engine.url)


def decided_pauses(engine: Engine, now: datetime) -> set[int]:
    """The accounts this process has paused and that are still paused at `now`, committed or
    not yet."""
    if not _local_pauses:  # asked before every call: spares rendering the engine's URL
        return set()
    return _local_pauses.active(str(engine.url), now)


def pause_account(session: Session, *, account_id: int, until: datetime, reason: str) -> None:
    """No request goes to this account before `until` (the network's reset time): neither a
    publication nor a metric reading (core.reach.collect reads the same pause). This process
    knows it at once; the others when the caller commits."""
    _local_pauses.note(_database_of(session), account_id, until)
    for _ in range(2):
        try:
            with session.begin_nested():
                pause = session.get(AccountPause, account_id)
                if pause is None:
                    session.add(
                        AccountPause(account_id=account_id, until_at=until, reason=reason[:1000])
                    )
                elif pause.until_at < until:
                    pause.until_at = until
                    pause.reason = reason[:1000]
                    session.add(pause)
            return
        except sa.exc.IntegrityError:
            # Another worker paused it at the same moment: keep the later of the two resets.
            continue


_PAUSED = select(AccountPause.account_id).where(
    col(AccountPause.until_at) > sa.bindparam("now", type_=UTCDateTime)
)


def paused_accounts(session: Session, now: datetime) -> set[int]:
    """The accounts paused at `now`: as recorded, and as this process has just decided."""
    recorded = set(session.exec(_PAUSED, params={"now": now}).all())
    return recorded | _local_pauses.active(_database_of(session), now)


def settle_post(session: Session, post_id: int) -> PostStatus | None:
    """The post's status follows its publications once none is waiting any more."""
    return settle_posts(session, {post_id}).get(post_id)


def settle_posts(
    session: Session, post_ids: set[int], *, locked: bool = False
) -> dict[int, PostStatus]:
    """`settle_post` for many posts, in one query and one update per new status. The caller has
    just changed some of their publications, in this transaction.

    On PostgreSQL the posts are locked first (unless the caller did, `locked`), and their
    publications read in the next statement. Two transactions ending the last two publications
    of a post would otherwise each read the other's as still being sent, and neither would
    settle the post; the second to take the lock reads the first's, committed."""
    if not post_ids:
        return {}
    if not locked and session.get_bind().dialect.name == "postgresql":
        session.execute(_LOCK_POSTS, {"ids": sorted(post_ids)})
    statuses: dict[int, list[str]] = {post_id: [] for post_id in post_ids}
    for post_id, status in session.execute(_STATUSES_OF_POSTS, {"ids": list(post_ids)}).all():
        statuses[int(post_id)].append(status)
    waiting = (PublicationStatus.pending, PublicationStatus.scheduled, PublicationStatus.publishing)
    settled: dict[int, PostStatus] = {}
    for post_id, of_post in statuses.items():
        if not of_post or any(s in waiting for s in of_post):
            continue
        published = sum(1 for s in of_post if s == PublicationStatus.published)
        failed = sum(1 for s in of_post if s == PublicationStatus.failed)
        if published and not failed:
            settled[post_id] = PostStatus.published
        elif published:
            settled[post_id] = PostStatus.partially_published
        elif failed:
            settled[post_id] = PostStatus.failed
        # every publication cancelled: the post's own cancel says so
    now = clock.now()
    for status in set(settled.values()):
        ids = [i for i, s in settled.items() if s == status]
        session.execute(_SETTLE_POSTS, {"ids": ids, "status": status.value, "now": now})
    return settled


_LOCK_POSTS = (
    sa.select(col(Post.id))
    .where(col(Post.id).in_(sa.bindparam("ids", expanding=True)))
    .order_by(col(Post.id))  # always in the same order: two batches may wait, never deadlock
    .with_for_update()
)
_STATUSES_OF_POSTS = sa.select(col(Publication.post_id), col(Publication.status)).where(
    col(Publication.post_id).in_(sa.bindparam("ids", expanding=True))
)
_SETTLE_POSTS = (
    sa.update(Post.__table__)  # type: ignore[attr-defined]
    .where(
        Post.__table__.c.id.in_(sa.bindparam("ids", expanding=True)),  # type: ignore[attr-defined]
        Post.__table__.c.status.in_(  # type: ignore[attr-defined]
            [
                PostStatus.approved.value,
                PostStatus.failed.value,
                PostStatus.partially_published.value,
                PostStatus.published.value,
            ]
        ),
    )
    .values(status=sa.bindparam("status"), updated_at=sa.bindparam("now", type_=UTCDateTime))
)


def _save_renewed_credentials(engine: Engine, settings: Settings, job: Job) -> None:
    assert job.adapter is not None
    renewed = job.adapter.updated_credentials()
    if renewed is None:
        return
    with session_scope(engine) as session:
        account = session.get(Account, job.account_id)
        if account is not None:
            accounts.store_credentials(
                session,
                settings,
                account=account,
                credentials=renewed,
                expires_at=account.token_expires_at,
            )
