"""The calendar as a spreadsheet: CSV export of a month or a date range, and import of a planned
month in the format a comms team keeps (date, heure, réseaux, thématique, texte).

Import validates every row before writing anything and reports every bad row by its line number;
nothing is imported unless every row is valid, or the person explicitly asks for the valid rows
only. Each imported row becomes a draft post with one publication per target, created by the posts
service (`core.posts.service.create`) like a post typed in.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from core import clock
from core.accounts.models import NETWORK_LABELS, Account, Network
from core.authorities.models import Authority
from core.calendar import service as calendar
from core.config import Settings
from core.editorial.models import Pillar
from core.errors import AppError, InvalidInput
from core.i18n import N_
from core.posts import service as posts
from core.posts.access import Actor
from core.posts.models import (
    Post,
    Publication,
    PublicationStatus,
)
from core.posts.schemas import PostCreate, TargetIn
from core.rules import quotas, text, timing
from core.tenancy import for_authority

COLUMNS = ("date", "heure", "réseaux", "thématique", "texte", "état")
REQUIRED = ("date", "heure", "réseaux", "texte")
MAX_ROWS = 2000
MAX_BYTES = 2_000_000
MAX_RANGE_DAYS = 400


class ImportInvalid(AppError):
    status_code = 422
    code = "import_invalid"
    detail = N_(
        "{count} ligne(s) du fichier ne sont pas valides : rien n'a été importé. Corrigez-les, ou "
        "importez seulement les lignes valides (only_valid=true)."
    )


class BadFile(InvalidInput):
    code = "invalid_file"


# --- export ------------------------------------------------------------------------------------


def parse_range(*, month: str | None, start: str | None, end: str | None) -> tuple[date, date]:
    if month:
        first = calendar.parse_month(month)
        return first, calendar.month_end(first)
    if not start or not end:
        raise InvalidInput(
            N_(
                "Indiquez un mois (month=AAAA-MM) ou une période (from=AAAA-MM-JJ et "
                "to=AAAA-MM-JJ)."
            )
        )
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        raise InvalidInput(
            N_("Les dates « from » et « to » s'écrivent AAAA-MM-JJ, par exemple 2026-12-01.")
        ) from None
    if last < first or (last - first).days > MAX_RANGE_DAYS:
        raise InvalidInput(
            N_(
                "La période va du « from » au « to » inclus, dans cet ordre, et couvre au plus "
                "{max} jours."
            ),
            max=MAX_RANGE_DAYS,
        )
    return first, last


def export(
    session: Session,
    *,
    authority: Authority,
    first: date,
    last: date,
    author_id: int | None = None,
) -> str:
    """The posts planned from `first` to `last` (local days, included), one row per post, `;`
    separated with a BOM so that spreadsheets open it in UTF-8."""
    assert authority.id is not None
    tz = authority.timezone
    zone = ZoneInfo(tz)
    start, _ = quotas.day_bounds(first, tz)
    _, end = quotas.day_bounds(last, tz)
    stmt = (
        for_authority(select(Post), authority.id)
        .where(
            col(Post.scheduled_at) >= start,
            col(Post.scheduled_at) < end,
            col(Post.status).not_in(quotas.NOT_PLANNED),
        )
        .order_by(col(Post.scheduled_at), col(Post.id))
    )
    if author_id is not None:
        stmt = stmt.where(Post.author_id == author_id)
    posts = list(session.exec(stmt).all())
    pillars = {p.id: p.name for p in _pillars(session, authority.id)}
    accounts = {a.id: a for a in _accounts(session, authority.id)}
    targets = _targets(session, authority.id, [p.id for p in posts if p.id is not None])
    names = _target_names(list(accounts.values()))
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for post in posts:
        assert post.scheduled_at is not None
        local = post.scheduled_at.astimezone(zone)
        writer.writerow(
            [
                local.strftime("%Y-%m-%d"),
                local.strftime("%H:%M"),
                ", ".join(names[a] for a in targets.get(post.id or 0, []) if a in names),
                pillars.get(post.pillar_id, ""),
                post.text,
                str(post.status),
            ]
        )
    return out.getvalue()


def _target_names(accounts: Sequence[Account]) -> dict[int, str]:
    """How a target is written in the file: the network's name when the authority has one
    account on it, else the account's name (which the import also accepts)."""
    per_network: dict[str, int] = {}
    for a in accounts:
        per_network[a.network] = per_network.get(a.network, 0) + 1
    return {
        a.id: (NETWORK_LABELS[Network(a.network)] if per_network[a.network] == 1 else a.name)
        for a in accounts
        if a.id is not None
    }


# --- import ------------------------------------------------------------------------------------


@dataclass
class Row:
    line: int
    scheduled_at: datetime | None = None
    account_ids: list[int] = field(default_factory=list)
    pillar_id: int | None = None
    text: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors


@dataclass
class ImportResult:
    imported: list[int]
    skipped: list[dict[str, Any]]


def decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise BadFile(N_("Le fichier dépasse 2 Mo : découpez le planning en plusieurs fichiers."))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Spreadsheets on Windows save "CSV" in Windows-1252.
        return data.decode("cp1252", errors="replace")


def read_rows(session: Session, *, authority: Authority, content: str) -> list[Row]:
    """Every data row checked (line numbers as a spreadsheet shows them: the header is line 1)."""
    assert authority.id is not None
    lines = content.splitlines()
    if not lines or not lines[0].strip():
        raise BadFile(
            N_(
                "Le fichier est vide : la première ligne doit nommer les colonnes date, heure, "
                "réseaux, thématique et texte."
            )
        )
    delimiter = ";" if lines[0].count(";") >= lines[0].count(",") else ","
    reader = csv.reader(io.StringIO(content), delimiter=delimiter)
    header = [_key(h) for h in next(reader)]
    missing = [c for c in REQUIRED if _key(c) not in header]
    if missing:
        raise BadFile(
            N_(
                "Colonnes manquantes dans la première ligne : {missing}. Les colonnes attendues "
                "sont date, heure, réseaux, thématique (facultative) et texte."
            ),
            missing=", ".join(missing),
        )
    index = {name: header.index(_key(name)) for name in COLUMNS if _key(name) in header}
    context = _Context(session, authority)
    rows: list[Row] = []
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(rows) >= MAX_ROWS:
            raise BadFile(
                N_("Le fichier a plus de {max} lignes : découpez le planning."), max=MAX_ROWS
            )
        cells = {name: (values[i] if i < len(values) else "") for name, i in index.items()}
        rows.append(context.check(line, cells))
    if not rows:
        raise BadFile(N_("Le fichier ne contient aucune publication sous la ligne des colonnes."))
    return rows


def import_rows(
    session: Session,
    settings: Settings,
    *,
    actor: Actor,
    rows: Sequence[Row],
    only_valid: bool,
) -> ImportResult:
    """Drafts from the checked rows, created by the posts service like any other post."""
    bad = [r for r in rows if not r.valid]
    report = [{"line": r.line, "errors": r.errors} for r in bad]
    if bad and not only_valid:
        raise ImportInvalid(count=len(bad), extra={"rows": report})
    imported = []
    for row in rows:
        if not row.valid:
            continue
        assert row.scheduled_at is not None
        data = PostCreate(
            text=row.text,
            pillar_id=row.pillar_id,
            scheduled_at=row.scheduled_at,
            targets=[TargetIn(account_id=account_id) for account_id in row.account_ids],
        )
        post = posts.create(session, settings, actor=actor, data=data, source="csv_import")
        assert post.id is not None
        imported.append(post.id)
    return ImportResult(imported=imported, skipped=report)


class _Context:
    """What the rows are checked against: the authority's accounts and pillars, and now."""

    def __init__(self, session: Session, authority: Authority) -> None:
        assert authority.id is not None
        self.timezone = authority.timezone
        self.now = clock.now()
        accounts = _accounts(session, authority.id)
        self.accounts = {a.id: a for a in accounts}
        self.by_name: dict[str, list[Account]] = {}
        for a in accounts:
            self.by_name.setdefault(_key(a.name), []).append(a)
            self.by_name.setdefault(_key(NETWORK_LABELS[Network(a.network)]), []).append(a)
            self.by_name.setdefault(_key(a.network), []).append(a)
        for key in list(self.by_name):
            self.by_name[key] = list({a.id: a for a in self.by_name[key]}.values())
        self.pillars = {_key(p.name): p for p in _pillars(session, authority.id)}

    def check(self, line: int, cells: dict[str, str]) -> Row:
        row = Row(line=line, text=cells.get("texte", "").strip())
        day = _parse_date(cells.get("date", ""), row)
        at = _parse_time(cells.get("heure", ""), row)
        if day is not None and at is not None:
            self._when(datetime.combine(day, at), row)
        self._targets(cells.get("réseaux", ""), row)
        self._pillar(cells.get("thématique", ""), row)
        if not row.text:
            row.errors.append("Le texte est vide.")
        else:
            for account_id in row.account_ids:
                account = self.accounts[account_id]
                for finding in text.check_text(
                    Network(account.network),
                    row.text,
                    account_id=account_id,
                    instance_limit=account.max_characters,
                ):
                    row.errors.append(finding.message)
        return row

    def _when(self, wall: datetime, row: Row) -> None:
        resolved = timing.resolve(wall, self.timezone)
        if resolved.instant is None:
            row.errors += [x.message for x in timing.check_wall_time(wall, self.timezone)]
            return
        if resolved.instant < self.now:
            row.errors += [
                x.message for x in timing.check_past(resolved.instant, self.now, self.timezone)
            ]
            return
        row.scheduled_at = resolved.instant

    def _targets(self, cell: str, row: Row) -> None:
        names = [n.strip() for n in re.split(r"[,|+/]", cell) if n.strip()]
        if not names:
            row.errors.append(
                "Aucun réseau : indiquez au moins un compte (Facebook, X, Mastodon…)."
            )
            return
        for name in names:
            found = self.by_name.get(_key(name), [])
            if not found:
                row.errors.append(
                    f"Le réseau ou compte « {name} » n'est pas connecté à la collectivité."
                )
            elif len(found) > 1:
                row.errors.append(
                    f"« {name} » désigne plusieurs comptes "
                    f"({', '.join(a.name for a in found)}) : écrivez le nom du compte."
                )
            elif found[0].id not in row.account_ids:
                row.account_ids.append(found[0].id)  # type: ignore[arg-type]

    def _pillar(self, cell: str, row: Row) -> None:
        name = cell.strip()
        if not name:
            return
        pillar = self.pillars.get(_key(name))
        if pillar is None:
            row.errors.append(
                f"La thématique « {name} » n'existe pas : choisissez-en une de la ligne "
                "éditoriale ou laissez la case vide."
            )
        else:
            row.pillar_id = pillar.id


def _parse_date(value: str, row: Row) -> date | None:
    value = value.strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(value, pattern).replace(tzinfo=None).date()  # noqa: DTZ007
        except ValueError:
            continue
    row.errors.append(
        f"La date « {value} » n'est pas lisible : écrivez-la 2026-12-03 ou 03/12/2026."
    )
    return None


TIME = re.compile(r"^(\d{1,2})\s*[:hH]\s*(\d{2})?$")


def _parse_time(value: str, row: Row) -> time | None:
    match = TIME.match(value.strip())
    if match:
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if hour < 24 and minute < 60:
            return time(hour, minute)
    row.errors.append(f"L'heure « {value.strip()} » n'est pas lisible : écrivez-la 12:15 ou 12h15.")
    return None


def _key(value: str) -> str:
    """Names compared without case, accents or surrounding spaces."""
    decomposed = unicodedata.normalize("NFKD", value.strip().lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _accounts(session: Session, authority_id: int) -> list[Account]:
    return list(
        session.exec(for_authority(select(Account), authority_id).order_by(col(Account.id))).all()
    )


def _pillars(session: Session, authority_id: int) -> list[Pillar]:
    return list(session.exec(for_authority(select(Pillar), authority_id)).all())


def _targets(session: Session, authority_id: int, post_ids: list[int]) -> dict[int, list[int]]:
    if not post_ids:
        return {}
    stmt = (
        for_authority(select(Publication.post_id, Publication.account_id), authority_id)
        .where(
            col(Publication.post_id).in_(post_ids),
            col(Publication.status) != PublicationStatus.cancelled,
        )
        .order_by(col(Publication.id))
    )
    found: dict[int, list[int]] = {}
    for post_id, account_id in session.exec(stmt).all():
        found.setdefault(post_id, []).append(account_id)
    return found
