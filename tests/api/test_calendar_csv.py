from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from core import clock
from core.accounts.models import Network
from core.authorities.models import Authority, Role
from core.posts.models import Post, PostEvent, PostStatus, Publication
from tests.factories import (
    bearer,
    make_account,
    make_authority,
    make_member,
    make_pillar,
    make_post,
)

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def _plan(session: Session, town: Authority) -> list[tuple[object, ...]]:
    """The plan as a person reads it: time, targets, pillar, text of each live post."""
    session.commit()  # a fresh snapshot: see what the application wrote
    posts = session.exec(
        select(Post)
        .where(Post.authority_id == town.id, col(Post.status) != PostStatus.cancelled)
        .order_by(col(Post.scheduled_at), col(Post.id))
    ).all()
    plan = []
    for post in posts:
        targets = sorted(
            p.account_id
            for p in session.exec(select(Publication).where(Publication.post_id == post.id))
        )
        plan.append((post.scheduled_at, tuple(targets), post.pillar_id, post.text))
    return plan


def _upload(client: TestClient, town: Authority, headers: dict[str, str], body: str, **form: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/authorities/{town.slug}/calendar/import",
        files={"file": ("planning.csv", body.encode("utf-8"), "text/csv")},
        data=form,
        headers=headers,
    )


def test_export_then_import_gives_the_same_plan(client: TestClient, session: Session) -> None:
    town = make_authority(session)
    editor = make_member(session, town, Role.editor)
    facebook = make_account(session, town, network=Network.facebook, name="Page de la ville")
    mastodon_1 = make_account(session, town, network=Network.mastodon, name="Ville")
    mastodon_2 = make_account(session, town, network=Network.mastodon, name="Médiathèque")
    culture = make_pillar(session, town, name="Culture")
    works = make_pillar(session, town, name="Travaux")
    make_post(
        session,
        town,
        targets=[facebook, mastodon_1],
        pillar_id=culture.id,
        text="Concert « Jazz ; soul » ce soir,\nentrée libre !",
        scheduled_at=datetime(2026, 12, 3, 17, 30, tzinfo=UTC),
    )
    make_post(
        session,
        town,
        targets=[mastodon_2],
        pillar_id=works.id,
        status=PostStatus.approved,
        text="Rue Jean-Jaurès fermée lundi.",
        scheduled_at=datetime(2026, 12, 7, 7, 0, tzinfo=UTC),
    )
    make_post(
        session,
        town,
        targets=[facebook],
        text="Hors période",
        scheduled_at=datetime(2027, 1, 2, 9, tzinfo=UTC),
    )
    with clock.frozen(NOW):
        headers = bearer(session, editor)
        exported = client.get(
            f"/api/v1/authorities/{town.slug}/calendar.csv?from=2026-12-01&to=2026-12-31",
            headers=headers,
        )
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    text = exported.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows == [
        ["date", "heure", "réseaux", "thématique", "texte", "état"],
        [
            "2026-12-03",
            "18:30",
            "Facebook, Ville",
            "Culture",
            "Concert « Jazz ; soul » ce soir,\nentrée libre !",
            "draft",
        ],
        [
            "2026-12-07",
            "08:00",
            "Médiathèque",
            "Travaux",
            "Rue Jean-Jaurès fermée lundi.",
            "approved",
        ],
    ]
    december = [p for p in _plan(session, town) if p[0].month == 12]  # type: ignore[union-attr]

    # Into another authority with the same accounts and pillars: the same plan.
    other = make_authority(session)
    other_editor = make_member(session, other, Role.editor)
    ids = {
        facebook.id: make_account(session, other, network=Network.facebook, name="Page").id,
        mastodon_1.id: make_account(session, other, network=Network.mastodon, name="Ville").id,
        mastodon_2.id: make_account(
            session, other, network=Network.mastodon, name="Médiathèque"
        ).id,
    }
    pillars = {
        culture.id: make_pillar(session, other, name="culture").id,
        works.id: make_pillar(session, other, name="Travaux").id,
    }
    with clock.frozen(NOW):
        imported = _upload(client, other, bearer(session, other_editor), text)
    assert imported.status_code == 201, imported.text
    assert imported.json()["imported"] == 2
    assert imported.json()["skipped"] == []
    expected = [
        (at, tuple(sorted(ids[a] for a in targets)), pillars[pillar], body)  # type: ignore[index]
        for at, targets, pillar, body in december
    ]
    assert _plan(session, other) == expected
    new_posts = session.exec(select(Post).where(Post.authority_id == other.id)).all()
    assert {p.status for p in new_posts} == {PostStatus.draft}
    assert {p.author_id for p in new_posts} == {other_editor.id}
    # Created like a typed-in post: the version's fingerprint is there for approval links.
    assert all(len(p.content_hash) == 64 for p in new_posts)
    events = session.exec(select(PostEvent).where(PostEvent.authority_id == other.id)).all()
    assert [(e.kind, e.data) for e in events] == [("created", {"source": "csv_import"})] * 2


def test_import_reports_every_bad_row_and_imports_nothing(
    client: TestClient, session: Session
) -> None:
    town = make_authority(session)
    editor = make_member(session, town, Role.editor)
    make_account(session, town, network=Network.x, name="Compte X")
    make_account(session, town, network=Network.mastodon, name="Ville")
    make_account(session, town, network=Network.mastodon, name="Médiathèque")
    make_pillar(session, town, name="Culture")
    body = "\n".join(
        [
            "Date,Heure,Réseaux,Thématique,Texte",
            "2026-12-03,12:15,X,Culture,Bon texte",
            "2026-13-03,12:15,X,,Date impossible",
            "2026-12-04,25:00,Snapchat,Sport,Heure et réseau inconnus",
            "2026-12-05,12h15,Mastodon,,Deux comptes Mastodon",
            "2026-11-19,12:15,X,,Dans le passé",
            "2027-03-28,02:30,X,,Heure d'été",
            "",
            "2026-12-06,09:00,X,," + "é" * 281,
            "2026-12-07,09:00,Ville,,",
            "03/12/2026,9h,X + Ville,culture,Format français",
        ]
    )
    with clock.frozen(NOW):
        headers = bearer(session, editor)
        refused = _upload(client, town, headers, body)
    assert refused.status_code == 422
    answer = refused.json()
    assert answer["error"] == "import_invalid"
    assert answer["detail"].startswith("7 ligne(s) du fichier ne sont pas valides")
    assert answer["rows"] == [
        {
            "line": 3,
            "errors": [
                "La date « 2026-13-03 » n'est pas lisible : écrivez-la 2026-12-03 ou 03/12/2026."
            ],
        },
        {
            "line": 4,
            "errors": [
                "L'heure « 25:00 » n'est pas lisible : écrivez-la 12:15 ou 12h15.",
                "Le réseau ou compte « Snapchat » n'est pas connecté à la collectivité.",
                "La thématique « Sport » n'existe pas : choisissez-en une de la ligne "
                "éditoriale ou laissez la case vide.",
            ],
        },
        {
            "line": 5,
            "errors": [
                "« Mastodon » désigne plusieurs comptes (Ville, Médiathèque) : écrivez le nom du "
                "compte."
            ],
        },
        {
            "line": 6,
            "errors": [
                "L'heure de publication (19 novembre 2026 à 12:15) est passée : choisissez une "
                "heure à venir."
            ],
        },
        {
            "line": 7,
            "errors": [
                "Le 28 mars 2027 à 02:30, cette heure n'existe pas à cause du passage à l'heure "
                "d'été : choisissez 03:00 par exemple."
            ],
        },
        {
            "line": 9,
            "errors": ["281 caractères sur 280 pour X : raccourcissez le texte de 1 caractères."],
        },
        {"line": 10, "errors": ["Le texte est vide."]},
    ]
    assert session.exec(select(Post).where(Post.authority_id == town.id)).all() == []

    with clock.frozen(NOW):
        partial = _upload(client, town, headers, body, only_valid="true")
    assert partial.status_code == 201, partial.text
    assert partial.json()["imported"] == 2
    assert [r["line"] for r in partial.json()["skipped"]] == [3, 4, 5, 6, 7, 9, 10]
    plan = _plan(session, town)
    assert [(p[0], len(p[1]), p[3]) for p in plan] == [
        (datetime(2026, 12, 3, 8, 0, tzinfo=UTC), 2, "Format français"),
        (datetime(2026, 12, 3, 11, 15, tzinfo=UTC), 1, "Bon texte"),
    ]


def test_import_refusals(client: TestClient, session: Session) -> None:
    town = make_authority(session)
    editor = make_member(session, town, Role.editor)
    contributor = make_member(session, town, Role.contributor)
    with clock.frozen(NOW):
        headers = bearer(session, editor)
        missing = _upload(client, town, headers, "date;texte\n2026-12-01;Bonjour")
        assert missing.status_code == 422
        assert missing.json()["detail"].startswith(
            "Colonnes manquantes dans la première ligne : heure, réseaux."
        )
        empty = _upload(client, town, headers, "")
        assert empty.status_code == 422
        only_header = _upload(client, town, headers, "date;heure;réseaux;texte\n")
        assert only_header.json()["detail"] == (
            "Le fichier ne contient aucune publication sous la ligne des colonnes."
        )
        forbidden = _upload(client, town, bearer(session, contributor), "date;heure;réseaux;texte")
        assert forbidden.status_code == 403
        no_file = client.post(
            f"/api/v1/authorities/{town.slug}/calendar/import", headers=headers, data={}
        )
        assert no_file.status_code == 422
        bad_range = client.get(
            f"/api/v1/authorities/{town.slug}/calendar.csv?from=2026-12-31&to=2026-12-01",
            headers=headers,
        )
        assert bad_range.status_code == 422
        no_range = client.get(f"/api/v1/authorities/{town.slug}/calendar.csv", headers=headers)
        assert no_range.status_code == 422
        assert "month=AAAA-MM" in no_range.json()["detail"]
