"""Reach across networks: aggregates over a period, per post metrics, the monthly report."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import MemberDep, SessionDep
from api.routers.posts import PostDep
from core.reach import report as reach
from core.reach import report_csv

router = APIRouter(prefix="/api/v1", tags=["portée"])


@router.get("/authorities/{slug}/reach", response_model=reach.ReachReport)
def get_reach(
    session: SessionDep,
    member: MemberDep,
    from_date: Annotated[date | None, Query(alias="from")] = None,
    to_date: Annotated[date | None, Query(alias="to")] = None,
    by: reach.GroupBy = reach.GroupBy.network,
) -> Response:
    """Ce que les publications parues entre `from` et `to` (dates locales, incluses ; par défaut
    les 30 derniers jours) ont obtenu, regroupées par réseau, thématique, objectif, cible,
    campagne ou compte : publications, impressions (`null` quand le réseau n'en fournit pas :
    Mastodon, Bluesky), interactions, taux d'interaction ; les abonnés de chaque compte jour par
    jour ; chaque objectif face à sa cible ramenée à la période ; l'équilibre des thématiques
    publié face aux parts cibles. Calculs détaillés : docs/portee.md."""
    first, last = reach.parse_period(member.authority, from_date, to_date)
    found = reach.reach(session, authority=member.authority, from_date=first, to_date=last, by=by)
    # Built from typed models already: serialised once, not validated again (a year holds
    # hundreds of follower counts).
    return Response(content=found.model_dump_json(), media_type="application/json")


@router.get("/authorities/{slug}/report", response_model=reach.MonthlyReport)
def get_monthly_report(
    session: SessionDep,
    member: MemberDep,
    month: Annotated[str | None, Query(description="AAAA-MM ; par défaut le mois en cours")] = None,
) -> reach.MonthlyReport:
    """Le bilan mensuel : portée par réseau et par thématique, meilleures publications,
    abonnés, objectifs, régularité face au même mois de l'année précédente."""
    first = reach.parse_month(month, member.authority)
    return reach.monthly(session, authority=member.authority, first=first)


@router.get(
    "/authorities/{slug}/report.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def get_monthly_report_csv(
    session: SessionDep,
    member: MemberDep,
    month: Annotated[str | None, Query(description="AAAA-MM ; par défaut le mois en cours")] = None,
) -> Response:
    """Les chiffres du bilan mensuel en CSV (séparateur « ; », UTF-8)."""
    first = reach.parse_month(month, member.authority)
    found = reach.monthly(session, authority=member.authority, first=first)
    return csv_response(report_csv.export(found), member.authority.slug, found.month)


def csv_response(body: str, slug: str, month: str) -> Response:
    return Response(
        content=body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="bilan-{slug}-{month}.csv"'},
    )


@router.get("/posts/{post_id}/metrics", response_model=list[reach.PublicationMetrics])
def get_post_metrics(post: PostDep, session: SessionDep) -> list[reach.PublicationMetrics]:
    """Chaque publication de la publication-mère avec ses relevés successifs (1 h, 6 h, 24 h,
    3 j, 7 j, 30 j après sa parution) ; `impressions` vaut `null` là où le réseau n'en fournit
    pas (`provides_impressions: false`)."""
    return reach.post_metrics(session, post=post)
