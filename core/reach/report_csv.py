"""The monthly report's figures as CSV (separator « ; », UTF-8 with a BOM so that spreadsheets
open it as such), one row per figure: section, element, then the figures. Empty cells are the
figures a network does not provide ("non fourni"), never zeros. `valeur` is the posts for the
regularity rows, the published share (equilibre), the last follower count (abonnes), the value
reached (objectif); `cible` the target; `evolution` the change of followers or the progress of an
objective in percent."""

from __future__ import annotations

import csv
import io
from typing import Any

from core.reach.report import Figures, MonthlyReport

COLUMNS = [
    "section",
    "element",
    "publications",
    "impressions",
    "mentions_j_aime",
    "partages",
    "reponses",
    "clics",
    "interactions",
    "taux_interaction_pct",
    "valeur",
    "cible",
    "evolution",
]


def _cell(value: Any) -> Any:
    return "" if value is None else value


def _row(
    section: str,
    element: str,
    figures: Figures | None = None,
    *,
    publications: Any = None,
    impressions: Any = None,
    engagements: Any = None,
    value: Any = None,
    target: Any = None,
    change: Any = None,
) -> list[Any]:
    if figures is not None:
        numbers = [
            figures.publications,
            figures.impressions,
            figures.likes,
            figures.reposts,
            figures.replies,
            figures.clicks,
            figures.engagements,
            figures.engagement_rate,
        ]
    else:
        numbers = [publications, impressions, None, None, None, None, engagements, None]
    return [section, element, *(_cell(n) for n in [*numbers, value, target, change])]


def export(report: MonthlyReport) -> str:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerow(_row("total", report.month, report.reach.total))
    for group in report.reach.groups:
        writer.writerow(_row("reseau", group.label, group.figures))
    for group in report.by_pillar:
        writer.writerow(_row("thematique", group.label, group.figures))
    for mix in report.reach.pillar_mix:
        writer.writerow(
            _row(
                "equilibre",
                mix.name,
                publications=mix.posts,
                value=mix.share,
                target=mix.target_share,
            )
        )
    for account in report.reach.followers:
        writer.writerow(_row("abonnes", account.name, value=account.last, change=account.change))
    for objective in report.reach.objectives:
        writer.writerow(
            _row(
                "objectif",
                objective.name,
                value=objective.value,
                target=objective.target_for_period,
                change=objective.progress,
            )
        )
    for post in report.top_posts:
        writer.writerow(
            _row(
                "meilleure_publication",
                post.text[:200],
                impressions=post.impressions,
                engagements=post.engagements,
            )
        )
    for section, count in (
        ("regularite_mois", report.this_month),
        ("regularite_mois_precedent", report.previous_month),
        ("regularite_annee_precedente", report.a_year_before),
    ):
        writer.writerow(
            _row(section, count.month, publications=count.publications, value=count.posts)
        )
    return out.getvalue()
