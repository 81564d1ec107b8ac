"""The pre-electoral rules applied to one post (core.electoral gives the windows).

- In a pre-electoral period (art. L52-1): a warning on every post; a post of a pillar promoting
  achievements needs the approver's explicit acknowledgement.
- In a silence window (art. L49): only posts of urgent pillars may be scheduled.
- Regularity: judges compare the communication during the period with the communication before
  it, so each target's posts planned in the week are compared with its weekly average over the
  twelve months before the period began; a new account connected during a period is presumed
  promotional.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from core import electoral
from core.accounts.models import Account
from core.config import Settings
from core.editorial.models import ELECTION_KIND_LABELS, ElectionKind, Pillar
from core.electoral import Window
from core.i18n import N_
from core.posts.models import Post
from core.rules import findings as f
from core.rules import quotas
from core.rules.findings import Finding
from core.rules.timing import day_label, time_label

BASELINE_DAYS = 365


def election_label(window: Window) -> str:
    return str(ELECTION_KIND_LABELS[ElectionKind(window.election.kind)])


def check(
    session: Session,
    settings: Settings,
    *,
    post: Post,
    instant: datetime,
    timezone: str,
    pillar: Pillar | None,
    accounts: Sequence[Account],
) -> list[Finding]:
    elections = electoral.elections_of(session, post.authority_id)
    if not elections:
        return []
    periods = electoral.containing(electoral.pre_electoral_periods(elections, timezone), instant)
    silences = electoral.containing(electoral.silence_windows(elections, timezone), instant)
    found: list[Finding] = []
    for window in periods:
        found += _period_findings(window, pillar, timezone)
    for window in silences:
        if not (pillar and pillar.urgent):
            found.append(_silence_error(window, timezone))
    if periods:
        found += _regularity(session, settings, post, instant, timezone, periods[0], accounts)
        all_periods = electoral.pre_electoral_periods(elections, timezone)
        for account in accounts:
            if electoral.containing(all_periods, account.created_at):
                found.append(
                    f.warning(
                        "new_account_in_period",
                        N_(
                            "Le compte « {account} » a été connecté pendant une période "
                            "préélectorale : un compte créé à ce moment est présumé servir la "
                            "promotion de l'équipe sortante. Gardez-lui un ton strictement "
                            "informatif."
                        ),
                        account_id=account.id,
                        account=account.name,
                    )
                )
    return found


def _period_findings(window: Window, pillar: Pillar | None, timezone: str) -> list[Finding]:
    zone = ZoneInfo(timezone)
    params: dict[str, Any] = {
        "election": election_label(window),
        "start": day_label(window.starts_at.astimezone(zone)),
        "first_round": day_label(datetime.combine(window.election.first_round, time(0))),
    }
    found = [
        f.warning(
            "pre_electoral_period",
            N_(
                "Période préélectorale ({election}, premier tour le {first_round}) depuis le "
                "{start} : la communication doit rester celle d'avant (même rythme, mêmes "
                "formats, ton neutre), sans mise en valeur des réalisations (art. L52-1 du code "
                "électoral)."
            ),
            **params,
        )
    ]
    if pillar is not None and pillar.promotes_achievements:
        found.append(
            f.warning(
                "pre_electoral_achievements",
                N_(
                    "La thématique « {pillar} » met en valeur les réalisations de la "
                    "collectivité : en période préélectorale ({election}), l'élu·e qui valide "
                    "doit en prendre acte explicitement (art. L52-1 du code électoral)."
                ),
                acknowledgeable=True,
                pillar=pillar.name,
                **params,
            )
        )
    return found


def _silence_error(window: Window, timezone: str) -> Finding:
    zone = ZoneInfo(timezone)
    starts = window.starts_at.astimezone(zone)
    ends = window.ends_at.astimezone(zone)
    return f.error(
        "silence_window",
        N_(
            "Du {start} à 00:00 au {end} à {end_time} (veille et jour du scrutin), seules les "
            "publications d'une thématique urgente peuvent partir (art. L49 du code électoral) : "
            "programmez-la après {end_time} le {end}."
        ),
        figure=f"{day_label(starts)} – {day_label(ends)} {time_label(ends)}",
        start=day_label(starts),
        end=day_label(ends),
        end_time=time_label(ends),
    )


def week_bounds(instant: datetime, timezone: str) -> tuple[datetime, datetime]:
    local = instant.astimezone(ZoneInfo(timezone)).date()
    monday = local - timedelta(days=local.weekday())
    start, _ = quotas.day_bounds(monday, timezone)
    end, _ = quotas.day_bounds(monday + timedelta(days=7), timezone)
    return start, end


def baseline_start(period_start: datetime, timezone: str) -> datetime:
    local = period_start.astimezone(ZoneInfo(timezone)).date()
    start, _ = quotas.day_bounds(_year_before(local), timezone)
    return start


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def weekly_baseline(
    session: Session,
    *,
    authority_id: int,
    account_ids: Sequence[int],
    period_start: datetime,
    timezone: str,
) -> dict[int, float]:
    """Each account's average posts per week over the twelve months before a period began: what
    actually went out (or was scheduled) then."""
    start = baseline_start(period_start, timezone)
    counts = quotas.gone_out_between(
        session, authority_id=authority_id, account_ids=account_ids, start=start, end=period_start
    )
    weeks = (period_start - start).days / 7
    return {account_id: counts.get(account_id, 0) / weeks for account_id in account_ids}


def over_threshold(planned: int, baseline: float, threshold_percent: int) -> bool:
    return planned > baseline * threshold_percent / 100


def _regularity(
    session: Session,
    settings: Settings,
    post: Post,
    instant: datetime,
    timezone: str,
    period: Window,
    accounts: Sequence[Account],
) -> list[Finding]:
    ids = [a.id for a in accounts if a.id is not None]
    start, end = week_bounds(instant, timezone)
    planned = quotas.planned_between(
        session,
        authority_id=post.authority_id,
        account_ids=ids,
        start=start,
        end=end,
        excluding_post_id=post.id,
    )
    baseline = weekly_baseline(
        session,
        authority_id=post.authority_id,
        account_ids=ids,
        period_start=period.starts_at,
        timezone=timezone,
    )
    threshold = settings.regularity_threshold_percent
    found = []
    for account in accounts:
        assert account.id is not None
        week = planned.get(account.id, 0) + 1
        usual = baseline[account.id]
        if over_threshold(week, usual, threshold):
            found.append(
                f.warning(
                    "regularity",
                    N_(
                        "« {account} » aurait {count} publications cette semaine, pour {usual} "
                        "par semaine en moyenne dans les douze mois avant la période "
                        "préélectorale (seuil : {threshold} %) : gardez le rythme habituel."
                    ),
                    figure=f"{week} / {_decimal(usual)}",
                    account_id=account.id,
                    account=account.name,
                    count=week,
                    usual=_decimal(usual),
                    threshold=threshold,
                )
            )
    return found


def _decimal(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")
