"""The calendar in a real Chromium: the comms team drags a post to another day (and to another
hour in the week), moves one with the keyboard only, sees a refused move explained; the pages
pass axe and the month turns into an agenda on a phone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from core import clock
from core.accounts.models import Network
from core.posts.models import Post, PostStatus
from tests.conftest import assert_accessible, reload
from tests.factories import make_account, make_post
from tests.web.helpers import sign_in_browser, watch_errors
from tests.web.test_calendar_pages import NOW, at, plan

pytestmark = pytest.mark.browser


def busier(session: Session, data: dict[str, Any]) -> None:
    """More of a real month, for the screenshots."""
    town = data["town"]
    facebook = make_account(session, town, network=Network.facebook, name="Facebook mairie",
                            created_at=datetime(2026, 10, 1, tzinfo=UTC))  # fmt: skip
    texts = [
        (8, 9, data["culture"], "Exposition des écoles à la médiathèque jusqu'au 19 décembre."),
        (9, 17, data["works"], "Fermeture de la rue du Moulin mercredi pour la pose du réseau."),
        (11, 12, data["culture"], "Concert de la chorale à l'église samedi à 18 h."),
        (17, 8, data["works"], "Déneigement : les priorités de circulation cette semaine."),
        (22, 11, data["culture"], "Le Père Noël passe à la salle des fêtes mardi après-midi."),
    ]
    for day, hour, pillar, text in texts:
        make_post(session, town, targets=[facebook, data["mastodon"]], pillar_id=pillar.id,
                  scheduled_at=at(day, hour), text=text,
                  status=PostStatus.approved if day % 2 else PostStatus.in_review)  # fmt: skip


def day_cell(page: Any, iso: str) -> Any:
    return page.locator(f'.cal-month [data-drop-date="{iso}"]')


def test_the_comms_team_drags_a_post_to_another_day(
    browser: Any, live_server: str, session: Session, screenshots_dir: Path, database_url: str
) -> None:
    with clock.frozen(NOW):
        data = plan(session)
        busier(session, data)
        draft: Post = data["draft"]
        approved: Post = data["approved"]
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="fr-FR")
        page = context.new_page()
        errors = watch_errors(page)
        sign_in_browser(page, live_server, data["editor"].email)
        page.goto(f"{live_server}/a/val-de-brume/calendar?month=2026-12")
        assert page.locator("h1").inner_text() == "Calendrier : décembre 2026"
        assert_accessible(page)
        if database_url.startswith("sqlite"):
            page.screenshot(path=str(screenshots_dir / "calendrier-1440.png"), full_page=True)

        # Drag the draft of 3 December to 10 December.
        post = day_cell(page, "2026-12-03").locator(".cal-post", has_text="Réunion publique")
        post.drag_to(day_cell(page, "2026-12-10"))
        page.wait_for_url("**moved=*")
        assert (
            page.get_by_role("status")
            .first.inner_text()
            .startswith("Publication déplacée au jeudi 10 décembre 2026 à 18:00.")
        )
        assert day_cell(page, "2026-12-10").get_by_text("Réunion publique").is_visible()
        assert day_cell(page, "2026-12-03").get_by_text("Réunion publique").count() == 0
        reload(session, draft)
        assert draft.scheduled_at == at(10, 18)

        # A move the rules forbid is explained where the person looks, and nothing moves:
        # X allows one post a day here, and 10 December has one on its way out (the moved draft
        # alone would only warn).
        make_post(session, data["town"], targets=[data["x"]], scheduled_at=at(10, 8),
                  status=PostStatus.in_review)  # fmt: skip
        post = day_cell(page, "2026-12-03").locator(".cal-post", has_text="Travaux rue")
        post.drag_to(day_cell(page, "2026-12-10"))
        status = page.locator("#calendar-status")
        status.get_by_text("pour 1 au plus par jour").wait_for()
        assert "La publication n'a pas été déplacée" in status.inner_text()
        reload(session, approved)
        assert approved.scheduled_at == at(3, 12, 15)

        # The week: drag to another hour of another day.
        page.get_by_role("link", name="Semaine", exact=True).click()
        page.wait_for_url("**view=week**")
        assert page.locator("h1").inner_text() == (
            "Calendrier : semaine du 30 novembre au 6 décembre 2026"
        )
        assert page.locator(".cal-week").is_visible()
        assert not page.locator(".cal-week-agenda").is_visible()  # the phone's layout
        assert_accessible(page)
        if database_url.startswith("sqlite"):
            page.screenshot(path=str(screenshots_dir / "calendrier-semaine-1440.png"),
                            full_page=True)  # fmt: skip
        post = page.locator(".cal-week .cal-post", has_text="Travaux rue")
        post.drag_to(page.locator('.cal-week td[data-drop-date="2026-12-04"][data-drop-hour="16"]'))
        page.wait_for_url("**moved=*")
        assert "view=week" in page.url
        cell = page.locator('.cal-week td[data-drop-date="2026-12-04"][data-drop-hour="16"]')
        assert cell.get_by_text("Travaux rue").is_visible()
        reload(session, approved)
        assert approved.scheduled_at == at(4, 16, 15)  # the hour changes, the minutes stay
        assert approved.status == PostStatus.approved

        page.get_by_role("link", name="Liste", exact=True).click()
        page.wait_for_url("**view=list**")
        assert page.get_by_role("heading", name="vendredi 4 décembre").is_visible()
        assert_accessible(page)
        if database_url.startswith("sqlite"):
            page.screenshot(path=str(screenshots_dir / "calendrier-liste-1440.png"),
                            full_page=True)  # fmt: skip
        assert errors == []  # no CSP violation, no script error
        context.close()


def test_moving_a_post_with_the_keyboard_only(
    browser: Any, live_server: str, session: Session, database_url: str, screenshots_dir: Path
) -> None:
    with clock.frozen(NOW):
        data = plan(session)
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="fr-FR")
        page = context.new_page()
        errors = watch_errors(page)
        sign_in_browser(page, live_server, data["editor"].email)
        page.goto(f"{live_server}/a/val-de-brume/calendar?month=2026-12")
        # Tab to the post's "move" link, as a keyboard user would.
        target = "Déplacer la publication du 15 décembre à 10:00"
        for _ in range(200):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.textContent").split() == target.split():
                break
        else:
            pytest.fail("the move link was never reached with Tab")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/posts/\d+/move\?next="))
        assert page.locator("h1").inner_text() == "Déplacer une publication"
        assert_accessible(page)
        if database_url.startswith("sqlite"):
            page.screenshot(path=str(screenshots_dir / "deplacer-1440.png"), full_page=True)
        page.get_by_label("Nouvelle date").fill("2026-12-22")
        page.get_by_label("Nouvelle heure").fill("11:30")
        page.keyboard.press("Enter")
        page.wait_for_url("**moved=*")
        assert "month=2026-12" in page.url
        assert day_cell(page, "2026-12-22").get_by_text("Marché de Noël").is_visible()
        assert errors == []
        context.close()
    session.rollback()
    market = session.exec(select(Post).where(Post.text.startswith("Marché de Noël"))).one()  # type: ignore[attr-defined]
    assert market.scheduled_at == datetime(2026, 12, 22, 11, 30, tzinfo=UTC) - timedelta(hours=1)


def test_the_month_on_a_phone_is_an_agenda(
    browser: Any, live_server: str, session: Session, screenshots_dir: Path, database_url: str
) -> None:
    with clock.frozen(NOW):
        data = plan(session)
        busier(session, data)
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR",
                                      has_touch=True)  # fmt: skip
        page = context.new_page()
        sign_in_browser(page, live_server, data["editor"].email)
        page.goto(f"{live_server}/a/val-de-brume/calendar?month=2026-12")
        # One day under the other, with the day's full name; nothing wider than the screen.
        label = page.locator(".cal-day-label", has_text="jeudi 10 décembre")
        assert label.is_visible()
        assert not page.locator(".cal-weekdays").is_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        assert_accessible(page)
        if database_url.startswith("sqlite"):
            page.screenshot(path=str(screenshots_dir / "calendrier-390.png"), full_page=True)
        page.goto(f"{live_server}/a/val-de-brume/calendar?view=week&week=2026-W51")
        assert page.locator(".cal-week-agenda").is_visible()
        assert not page.locator(".cal-week").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert_accessible(page)
        context.close()
