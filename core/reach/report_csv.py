"""The monthly report's figures as CSV (separator « ; », UTF-8 with a BOM so that spreadsheets
open it as such), one row per figure: section, element, then the figures. Empty cells are the
figures a network does not provide ("non fourni"), never zeros."""

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
]


def _figures(f: Figures) -> list[Any]:
    return [
        f.publications,
        "" if f.impressions is None else f.impressions,
        f.likes,
        f.reposts,
        f.replies,
        "" if f.clicks is None else f.clicks,
        f.engagements,
        "" if f.engagement_rate is None else f.engagement_rate,
    ]


def export(report: MonthlyReport) -> str:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    blank = [""] * 8
    writer.writerow(["total", report.month, *_figures(report.reach.total), "", ""])
    for group in report.reach.groups:
        writer.writerow(["reseau", group.label, *_figures(group.figures), "", ""])
    for group in report.by_pillar:
        writer.writerow(["thematique", group.label, *_figures(group.figures), "", ""])
    for mix in report.reach.pillar_mix:
        writer.writerow(["equilibre", mix.name, mix.posts, *blank[1:], mix.share, mix.target_share])
    for account in report.reach.followers:
        value = "" if account.last is None else account.last
        change = "" if account.change is None else account.change
        writer.writerow(["abonnes", account.name, *blank, value, change])
    for objective in report.reach.objectives:
        value = "" if objective.value is None else objective.value
        writer.writerow(["objectif", objective.name, *blank, value, objective.target_for_period])
    for post in report.top_posts:
        impressions = "" if post.impressions is None else post.impressions
        writer.writerow(
            [
                "meilleure_publication",
                post.text[:200],
                "",
                impressions,
                "",
                "",
                "",
                "",
                post.engagements,
                "",
                "",
                "",
            ]
        )
    for label, count in (
        ("regularite_mois", report.this_month),
        ("regularite_annee_precedente", report.a_year_before),
        ("regularite_mois_precedent", report.previous_month),
    ):
        writer.writerow([label, count.month, count.publications, *blank[1:], count.posts, ""])
    return out.getvalue()
