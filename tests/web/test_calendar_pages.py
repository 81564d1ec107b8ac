"""The calendar pages: a planned month as the comms team sees it (mix against targets, empty days,
warnings), the week and list views, filters, and moving a post through the move form."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from core import clock
from core.accounts.models import Network
from core.authorities.models import Role
from core.calendar import feed
from core.editorial.models import Campaign
from core.posts.models import Post, PostEvent, PostStatus, Publication, PublicationStatus
from tests.conftest import reload
from tests.factories import (
    make_account,
    make_authority,
    make_election,
    make_member,
    make_pillar,
    make_post,
    make_slot,
)
from tests.web.helpers import csrf_of, sign_in, text_of

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # Tuesday 1 December 2026, 09:00 in Paris


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A December 2026 local time in Paris (UTC+1) as UTC."""
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC) - timedelta(hours=1)


@pytest.fixture
def frozen() -> object:
    with clock.frozen(NOW) as move_to:
        yield move_to


def plan(session: Session) -> dict[str, object]:
    """A town with an editorial line and a planned December."""
    town = make_authority(session, name="Commune de Val-de-Brume", slug="val-de-brume")
    editor = make_member(session, town, Role.editor, name="Camille Martin")
    created = datetime(2026, 10, 1, tzinfo=UTC)
    x = make_account(session, town, network=Network.x, name="X mairie", daily_quota=1,
                     created_at=created)  # fmt: skip
    mastodon = make_account(session, town, network=Network.mastodon, name="Mastodon mairie",
                            created_at=created)  # fmt: skip
    works = make_pillar(session, town, name="Travaux", target_share=50, color="#c0392b")
    culture = make_pillar(session, town, name="Culture", target_share=30, color="#2a9d8f")
    make_election(session, town, first_round=date(2027, 3, 14), second_round=date(2027, 3, 21))
    campaign = Campaign(authority_id=town.id, name="Fêtes de fin d'année",  # type: ignore[arg-type]
                        starts_on=date(2026, 12, 1), ends_on=date(2026, 12, 31))  # fmt: skip
    session.add(campaign)
    session.commit()
    approved = make_post(session, town, targets=[x, mastodon], pillar_id=works.id,
                         scheduled_at=at(3, 12, 15), status=PostStatus.approved,
                         text="Travaux rue des Tilleuls du 7 au 11 décembre.")  # fmt: skip
    draft = make_post(session, town, targets=[x], pillar_id=works.id, scheduled_at=at(3, 18),
                      text="Réunion publique sur la rénovation de l'école.")  # fmt: skip
    make_post(session, town, targets=[mastodon], pillar_id=culture.id, scheduled_at=at(15, 10),
              campaign_id=campaign.id, text="Marché de Noël sur la place du village.")  # fmt: skip
    make_post(session, town, targets=[mastodon], scheduled_at=at(20, 9),
              text="Horaires de la mairie pendant les fêtes.")  # fmt: skip
    make_slot(session, mastodon, weekday=3, local_time=time(12, 15))  # Thursdays
    return {
        "town": town,
        "editor": editor,
        "x": x,
        "mastodon": mastodon,
        "works": works,
        "culture": culture,
        "campaign": campaign,
        "approved": approved,
        "draft": draft,
    }


def test_the_planned_month_as_the_comms_team_sees_it(
    client: TestClient, session: Session, frozen: object
) -> None:
    data = plan(session)
    sign_in(client, data["editor"].email)  # type: ignore[attr-defined]
    page = client.get("/a/val-de-brume/calendar?month=2026-12")
    assert page.status_code == 200, page.text
    text = text_of(page.text)
    assert "Calendrier : décembre 2026" in text
    # Monday first: 1 December 2026 is a Tuesday, in the second column; today is marked.
    assert 'class="cal-day cal-start-2 is-today' in page.text
    assert re.search(r'aria-current="date"[^>]*>\s*<h3 class="cal-day-title">.*?mardi 1er décembre',
                     page.text, re.S)  # fmt: skip
    # Posts by day, with time, pillar as text, networks and status.
    assert (
        "jeudi 3 décembre Quota dépassé : X mairie (X), 2 sur 1 12:15 Travaux Travaux rue des "
        "Tilleuls du 7 au 11 décembre. X Mastodon Validée"
    ) in text
    assert "18:00 Travaux Réunion publique sur la rénovation de l'école. X Brouillon" in text
    assert "09:00 Sans thématique Horaires de la mairie pendant les fêtes." in text
    assert "vendredi 25 décembre Férié : Noël" in text
    # The pillar's colour comes from the authority's stylesheet (no style attribute: strict CSP).
    assert f'class="cal-post pillar-{data["works"].id}' in page.text  # type: ignore[attr-defined]
    css = client.get(re.search(r'href="(/a/val-de-brume/calendar/pillars\.css[^"]*)"',
                               page.text).group(1).replace("&amp;", "&"))  # type: ignore[union-attr]  # fmt: skip
    assert css.status_code == 200
    assert f".pillar-{data['works'].id} {{ --pillar: #c0392b; }}" in css.text  # type: ignore[attr-defined]
    # The month's panel: the mix against the targets, in figures.
    assert "Culture 1 publication · 25 % du mois · cible 30 %" in text
    assert "Travaux 2 publications · 50 % du mois · cible 50 %" in text
    assert "Sans thématique 1 publication · 25 % du mois · cible 0 %" in text
    assert "4 publications prévues ce mois-ci." in text
    assert "28 jours sans publication : 1er–2 déc., 4–14 déc., 16–19 déc., 21–31 déc." in text
    assert "Quota dépassé le 3 décembre : X mairie (X), 2 publications pour 1 au plus." in text
    assert (
        "Compte délaissé : X mairie (X), aucune publication du 4 décembre au 31 décembre "
        "(28 jours d'affilée)."
    ) in text
    assert (
        "Période préélectorale (Élections municipales) du 1er septembre 2026 au 21 mars 2027 : "
        "chaque publication est signalée"
    ) in text
    # The whole month is in the period: said once in the panel, not on every day.
    assert (
        "Période préélectorale"
        not in text.split("Le mois de décembre 2026 en bref")[0].split("Les jours du mois")[1]
    )
    assert (
        "Régularité : X mairie (X) publie plus qu'avant la période (0 par semaine en moyenne). "
        "Semaines au-dessus du seuil de 120 % : du 30 nov. (2)."
    ) in text
    assert (
        "Régularité : Mastodon mairie (Mastodon) publie plus qu'avant la période (0 par semaine "
        "en moyenne). Semaines au-dessus du seuil de 120 % : du 30 nov. (1), du 14 déc. (2)."
    ) in text
    assert "jeudi 10 décembre 1 créneau libre 12:15 · Mastodon mairie (Mastodon)" in text
    assert "4 créneaux de publication libres à venir ce mois-ci." in text
    # Each day to come has its "add a post" link; past days do not.
    assert 'href="/a/val-de-brume/posts/new?date=2026-12-31"' in page.text
    assert "Ajouter une publication le jeudi 3 décembre" in text
    # Navigation and the private feed.
    assert 'href="/a/val-de-brume/calendar?month=2026-11"' in page.text
    assert 'href="/a/val-de-brume/calendar?month=2027-01"' in page.text
    assert "Vous n'avez pas encore de lien d'agenda privé. Gérer mon lien d'agenda" in text
    assert 'href="/a/val-de-brume/settings#agenda"' in page.text
    # Editors can move posts: a "move" link for each, and drag and drop.
    assert f'href="/posts/{data["draft"].id}/move?next=' in page.text  # type: ignore[attr-defined]
    assert 'draggable="true"' in page.text


def test_a_month_wholly_outside_any_period_and_an_empty_one(
    client: TestClient, session: Session, frozen: object
) -> None:
    town = make_authority(session, slug="petite-commune", settings={"school_zone": "A"})
    editor = make_member(session, town, Role.editor)
    sign_in(client, editor.email)
    page = client.get("/a/petite-commune/calendar?month=2027-02")
    text = text_of(page.text)
    assert page.status_code == 200
    assert "Calendrier : février 2027" in text
    assert "28 jours sans publication : 1er–28 févr." in text
    assert "Aucune thématique dans la ligne éditoriale." in text
    assert "Vacances d'hiver" in text  # zone A, February 2027
    # 1 February 2027 is a Monday: first column.
    assert 'class="cal-day cal-start-1 is-empty"' in page.text


def test_week_and_list_views(client: TestClient, session: Session, frozen: object) -> None:
    data = plan(session)
    sign_in(client, data["editor"].email)  # type: ignore[attr-defined]
    week = client.get("/a/val-de-brume/calendar?view=week&week=2026-W49")
    assert week.status_code == 200, week.text
    text = text_of(week.text)
    assert "Calendrier : semaine du 30 novembre au 6 décembre 2026" in text
    # Monday 30 November belongs to November: both months are read.
    assert "lun. 30 nov." in text
    assert re.search(r'data-drop-date="2026-12-03"\s+data-drop-hour="12"', week.text)
    row = re.search(r'<th scope="row" class="cal-hour">12 h</th>(.*?)</tr>', week.text, re.S)
    assert row
    assert "Travaux rue des Tilleuls" in row.group(1)
    row = re.search(r'<th scope="row" class="cal-hour">18 h</th>(.*?)</tr>', week.text, re.S)
    assert row
    assert "Réunion publique" in row.group(1)
    assert 'href="/a/val-de-brume/calendar?view=week&amp;week=2026-W50"' in week.text

    listing = client.get("/a/val-de-brume/calendar?view=list&month=2026-12")
    text = text_of(listing.text)
    assert listing.status_code == 200
    days = re.findall(r'<section class="cal-agenda-day"[^>]*>\s*<h3 id="list-([0-9-]+)"',
                      listing.text)  # fmt: skip
    assert days == ["2026-12-03", "2026-12-15", "2026-12-20"]
    assert "Campagne : Fêtes de fin d'année" in text


def test_filters(client: TestClient, session: Session, frozen: object) -> None:
    data = plan(session)
    sign_in(client, data["editor"].email)  # type: ignore[attr-defined]
    base = "/a/val-de-brume/calendar?view=list&month=2026-12"

    def shown(query: str) -> list[str]:
        page = client.get(f"{base}&{query}")
        assert page.status_code == 200, page.text
        return [
            html.unescape(t) for t in re.findall(r'<a href="/posts/\d+">([^<]+)</a>', page.text)
        ]

    assert shown(f"pillar={data['culture'].id}") == ["Marché de Noël sur la place du village."]  # type: ignore[attr-defined]
    assert shown(f"account={data['x'].id}") == [  # type: ignore[attr-defined]
        "Travaux rue des Tilleuls du 7 au 11 décembre.",
        "Réunion publique sur la rénovation de l'école.",
    ]
    assert shown("status=approved") == ["Travaux rue des Tilleuls du 7 au 11 décembre."]
    assert shown(f"campaign={data['campaign'].id}") == ["Marché de Noël sur la place du village."]  # type: ignore[attr-defined]
    assert shown("pillar=&account=&status=&campaign=") == [
        "Travaux rue des Tilleuls du 7 au 11 décembre.",
        "Réunion publique sur la rénovation de l'école.",
        "Marché de Noël sur la place du village.",
        "Horaires de la mairie pendant les fêtes.",
    ]
    # Navigation keeps the filters.
    page = client.get(f"{base}&pillar={data['works'].id}")  # type: ignore[attr-defined]
    assert f"month=2027-01&amp;pillar={data['works'].id}" in page.text  # type: ignore[attr-defined]
    # A bad value is a sentence, not a crash.
    for query, message in [
        ("status=perdu", "Le filtre « status » n'est pas valide"),
        ("pillar=abc", "Le filtre « pillar » n'est pas valide"),
        ("month=2026-13", "Indiquez le mois sous la forme AAAA-MM"),
        ("view=year", "Choisissez l'affichage"),
    ]:
        page = client.get(f"/a/val-de-brume/calendar?{query}")
        assert page.status_code == 422, (query, page.status_code)
        assert message in text_of(page.text)
    page = client.get("/a/val-de-brume/calendar?view=week&week=2026-W60")
    assert page.status_code == 422
    assert "Indiquez la semaine sous la forme AAAA-Sss" in text_of(page.text)


def test_others_see_the_calendar_read_only(
    client: TestClient, session: Session, frozen: object
) -> None:
    data = plan(session)
    mayor = make_member(session, data["town"], Role.approver)  # type: ignore[arg-type]
    sign_in(client, mayor.email)
    page = client.get("/a/val-de-brume/calendar?month=2026-12")
    assert page.status_code == 200
    assert "Travaux rue des Tilleuls" in page.text
    assert "draggable" not in page.text
    assert "/move" not in page.text
    assert "/posts/new" not in page.text
    assert "data-can-move" not in page.text
    # A contributor sees only their own posts there, read-only too.
    agent = make_member(session, data["town"], Role.contributor)  # type: ignore[arg-type]
    make_post(session, data["town"], targets=[data["mastodon"]], author=agent,  # type: ignore[arg-type]
              scheduled_at=at(18, 14), text="Atelier compost au jardin partagé.")  # fmt: skip
    client.post("/logout", data={"csrf_token": csrf_of(client, "/")})
    sign_in(client, agent.email)
    page = client.get("/a/val-de-brume/calendar?month=2026-12&view=list")
    assert page.status_code == 200
    assert "Atelier compost" in page.text
    assert "Travaux rue des Tilleuls" not in page.text
    assert "/move" not in page.text
    outsider = make_member(session, make_authority(session), Role.admin)
    client.post("/logout", data={"csrf_token": csrf_of(client, "/")})
    sign_in(client, outsider.email)
    assert client.get("/a/val-de-brume/calendar").status_code == 404


def move_form(client: TestClient, post: Post, **fields: str):  # type: ignore[no-untyped-def]
    csrf = csrf_of(client, f"/posts/{post.id}/move")
    return client.post(
        f"/posts/{post.id}/move",
        data={"csrf_token": csrf, **fields},
        follow_redirects=False,
    )


def test_moving_a_post_with_the_form(client: TestClient, session: Session, frozen: object) -> None:
    data = plan(session)
    approved: Post = data["approved"]  # type: ignore[assignment]
    sign_in(client, data["editor"].email)  # type: ignore[attr-defined]
    form = client.get(f"/posts/{approved.id}/move?next=/a/val-de-brume/calendar%3Fmonth%3D2026-12")
    assert form.status_code == 200
    assert 'value="2026-12-03"' in form.text
    assert 'value="12:15"' in form.text
    text = text_of(form.text)
    assert "Déplacer une publication" in text
    assert "Validée" in text

    answer = move_form(client, approved, date="2026-12-10", time="14:30",
                       next=f"/a/val-de-brume/calendar?month=2026-12&account={data['x'].id}")  # type: ignore[attr-defined]  # fmt: skip
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == (
        f"/a/val-de-brume/calendar?month=2026-12&account={data['x'].id}&moved={approved.id}"  # type: ignore[attr-defined]
    )
    reload(session, approved)
    assert approved.scheduled_at == at(10, 14, 30)
    # Still approved (no electoral window entered), its publications moved with it.
    assert approved.status == PostStatus.approved
    dues = session.exec(
        Publication.__table__.select().where(Publication.post_id == approved.id)  # type: ignore[attr-defined]
    ).all()
    assert {(d.status, d.due_at.replace(tzinfo=UTC) if d.due_at.tzinfo is None else d.due_at)
            for d in dues} == {(PublicationStatus.scheduled, at(10, 14, 30))}  # fmt: skip
    moved = session.exec(
        PostEvent.__table__.select().where(
            PostEvent.post_id == approved.id,  # type: ignore[attr-defined]
            PostEvent.kind == "moved",
        )
    ).all()
    assert len(moved) == 1
    assert moved[0].channel == "web"

    page = client.get(answer.headers["location"])
    text = text_of(page.text)
    assert "Publication déplacée au jeudi 10 décembre 2026 à 14:30." in text
    assert "Période préélectorale" in text  # the new time's warning, told at once
    days = re.search(r'data-drop-date="2026-12-10"(.*?)</li>\s*<li', page.text, re.S)
    assert days
    assert "Travaux rue des Tilleuls" in days.group(1)


def test_refused_moves_change_nothing(client: TestClient, session: Session, frozen: object) -> None:
    data = plan(session)
    approved: Post = data["approved"]  # type: ignore[assignment]
    draft: Post = data["draft"]  # type: ignore[assignment]
    published = make_post(session, data["town"], targets=[data["mastodon"]],  # type: ignore[arg-type]
                          scheduled_at=at(1, 7), status=PostStatus.published)  # fmt: skip
    # Submitted for approval: on its way out, so it takes X's one post of 15 December.
    make_post(session, data["town"], targets=[data["x"]], scheduled_at=at(15, 18),  # type: ignore[arg-type]
              status=PostStatus.in_review)  # fmt: skip
    sign_in(client, data["editor"].email)  # type: ignore[attr-defined]

    cases = [
        (approved, {"date": "2026-11-30", "time": "10:00"}, 422, "est déjà passée"),
        (approved, {"date": "2027-03-28", "time": "02:30"}, 422, "n'existe pas à l'heure locale"),
        (approved, {"date": "2026-12-32", "time": "10:00"}, 422, "Indiquez la nouvelle date"),
        (approved, {"date": "", "time": "10:00"}, 422, "Indiquez la nouvelle date"),
        (approved, {"date": "2026-12-10", "time": "25:00"}, 422, "Indiquez la nouvelle date"),
        # X allows one post a day here; a draft does not take it (a warning, not a refusal).
        (draft, {"date": "2026-12-16", "time": "18:00"}, 200, None),
        (approved, {"date": "2026-12-16", "time": "09:00"}, 200, None),
        (approved, {"date": "2026-12-03", "time": "12:15"}, 200, None),
        (approved, {"date": "2026-12-15", "time": "09:00"}, 409,
         "« X mairie » (X) aurait 2 publications le 15 décembre 2026, pour 1 au plus par jour"),
        (published, {"date": "2026-12-10", "time": "10:00"}, 409, "ne peut plus être modifiée"),
    ]  # fmt: skip
    for post, fields, status, message in cases:
        answer = move_form(client, post, **fields)
        if status == 200:
            assert answer.status_code == 303
            continue
        assert answer.status_code == status, (fields, answer.status_code, answer.text)
        text = text_of(answer.text)
        assert message in text, text
        # The form is shown again with what the person typed.
        if post is approved:
            assert f'value="{fields["date"]}"' in answer.text
    reload(session, approved)
    assert approved.scheduled_at == at(3, 12, 15)
    assert approved.status == PostStatus.approved
    reload(session, published)
    assert published.scheduled_at == at(1, 7)
    refused = text_of(move_form(client, approved, date="2026-12-15", time="09:00").text)
    assert "La publication n'a pas été déplacée au 15/12/2026 09:00" in refused

    # The drag and drop asks for JSON: same refusal, as a sentence.
    csrf = csrf_of(client, f"/posts/{approved.id}/move")
    answer = client.post(
        f"/posts/{approved.id}/move",
        data={"csrf_token": csrf, "date": "2026-12-15", "time": "09:00"},
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 409
    assert answer.json()["error"] == "move_refused"
    assert "pour 1 au plus par jour" in answer.json()["detail"]
    # Without the CSRF token: refused.
    answer = client.post(f"/posts/{approved.id}/move", data={"date": "2026-12-10", "time": "10:00"})
    assert answer.status_code == 403
    reload(session, approved)
    assert approved.scheduled_at == at(3, 12, 15)


def test_only_editors_move(client: TestClient, session: Session, frozen: object) -> None:
    data = plan(session)
    draft: Post = data["draft"]  # type: ignore[assignment]
    mayor = make_member(session, data["town"], Role.approver)  # type: ignore[arg-type]
    sign_in(client, mayor.email)
    page = client.get(f"/posts/{draft.id}/move")
    assert page.status_code == 200
    assert "Seules les chargées et chargés de communication" in text_of(page.text)
    assert 'name="date"' not in page.text
    answer = move_form(client, draft, date="2026-12-10", time="10:00")
    assert answer.status_code == 403
    assert "réservée aux chargé·es de communication" in text_of(answer.text)
    reload(session, draft)
    assert draft.scheduled_at == at(3, 18)
    # Another authority's post is unknown.
    stranger = make_member(session, make_authority(session), Role.editor)
    client.post("/logout", data={"csrf_token": csrf_of(client, "/")})
    sign_in(client, stranger.email)
    assert client.get(f"/posts/{draft.id}/move").status_code == 404
    assert move_form_status(client, draft) == 404


def move_form_status(client: TestClient, post: Post) -> int:
    csrf = csrf_of(client, "/")
    answer = client.post(
        f"/posts/{post.id}/move",
        data={"csrf_token": csrf, "date": "2026-12-10", "time": "10:00"},
        follow_redirects=False,
    )
    return answer.status_code


def test_moving_into_the_silence_window_is_refused_but_an_alert_may(
    client: TestClient, session: Session, frozen: object
) -> None:
    town = make_authority(session, slug="urne")
    editor = make_member(session, town, Role.editor)
    account = make_account(session, town, network=Network.mastodon)
    make_election(session, town, first_round=date(2026, 12, 13), second_round=date(2026, 12, 20))
    alerts = make_pillar(session, town, name="Alertes", urgent=True)
    post = make_post(session, town, targets=[account], scheduled_at=at(8, 10),
                     status=PostStatus.approved)  # fmt: skip
    alert = make_post(session, town, targets=[account], scheduled_at=at(8, 11),
                      pillar_id=alerts.id)  # fmt: skip
    sign_in(client, editor.email)
    answer = move_form(client, post, date="2026-12-13", time="10:00")
    assert answer.status_code == 409
    assert "silence" in text_of(answer.text).lower()
    reload(session, post)
    assert post.scheduled_at == at(8, 10)
    assert post.status == PostStatus.approved
    answer = move_form(client, alert, date="2026-12-13", time="10:00")
    assert answer.status_code == 303


def test_the_private_feed_link_is_told(
    client: TestClient, session: Session, frozen: object
) -> None:
    data = plan(session)
    feed.create_token(session, authority=data["town"], user_id=data["editor"].id)  # type: ignore[arg-type,attr-defined]
    session.commit()
    sign_in(client, data["editor"].email)  # type: ignore[attr-defined]
    text = text_of(client.get("/a/val-de-brume/calendar").text)
    assert "Votre lien d'agenda privé est actif depuis le 1er décembre 2026." in text


def test_the_calendar_in_english(client: TestClient, session: Session, frozen: object) -> None:
    data = plan(session)
    sign_in(client, data["editor"].email)  # type: ignore[attr-defined]
    client.post("/language", data={"locale": "en", "csrf_token": csrf_of(client, "/")})
    text = text_of(client.get("/a/val-de-brume/calendar?month=2026-12").text)
    assert "Calendar: December 2026" in text
    assert "Travaux 2 posts · 50 % of the month · target 50 %" in text
    assert "4 posts planned this month." in text
    assert "Thursday 3 December" in text
    assert "Quota exceeded on 3 December: X mairie (X), 2 posts for 1 at most." in text


def test_a_busy_day_shows_its_first_posts_and_links_to_the_others(
    client: TestClient, session: Session, frozen: object
) -> None:
    data = plan(session)
    for hour in range(8, 16):
        make_post(session, data["town"], targets=[data["mastodon"]],  # type: ignore[arg-type]
                  scheduled_at=at(9, hour), text=f"Annonce de {hour} heures.")  # fmt: skip
    sign_in(client, data["editor"].email)  # type: ignore[attr-defined]
    page = client.get("/a/val-de-brume/calendar?month=2026-12")
    day = re.search(r'data-drop-date="2026-12-09"(.*?)</li>\s*<li class="cal-day', page.text, re.S)
    assert day
    text = text_of(day.group(1))
    assert [f"Annonce de {h} heures." in text for h in range(8, 16)] == [True] * 6 + [False] * 2
    assert "+ 2 autres publications le mercredi 9 décembre" in text
    assert 'href="/a/val-de-brume/calendar?view=list&amp;month=2026-12#list-2026-12-09"' in (
        day.group(1)
    )
    listing = client.get("/a/val-de-brume/calendar?view=list&month=2026-12")
    assert "Annonce de 15 heures." in listing.text
