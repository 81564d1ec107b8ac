"""The composer, the post page and the proposals in a real Chromium: live counters that count as
the server does, a preview per network, saving and submitting; an agent's proposal with a photo."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlmodel import Session, col, select

from core.accounts.models import Network
from core.authorities.models import Authority, Role
from core.posts.models import Post, PostStatus
from core.rules import text as counting
from tests.conftest import assert_accessible
from tests.factories import make_account, make_authority, make_member, make_pillar
from tests.web.helpers import sign_in_browser, watch_errors

pytestmark = pytest.mark.browser

TRICKY = [
    "Fête de l'été à Val-de-Brume : réservez dès maintenant !",
    "Travaux 🚧 rue des Tilleuls 👷‍♀️ déviation 🇫🇷 ❤️ © 1️⃣",
    "Inscriptions : https://www.val-de-brume.fr/inscriptions?annee=2027&ok=1. Merci !",
    "Plus d'infos sur mairie-val-de-brume.fr/agenda et www.exemple.com, ou écrivez à "
    "contact@val-de-brume.fr",
    "Café ☕ — « Réunion » … ’ab\u0301 e\u0301té",
    "@maire@piaille.fr #ConseilMunicipal [ordre du jour] (salle_2) {vote} <ici> *important* ~~",
    "v1.2 Rdv à 10h.Merci 日本語のテキスト 한국어",
    "Lien http://localhost:8000/x et https://t.co/abc) fin",
]
COUNTERS = {
    "x": counting.x_length,
    "mastodon": counting.mastodon_length,
    "graphemes": counting.graphemes,
    "linkedin": counting.linkedin_length,
    "codepoints": len,
}


def _town(session: Session) -> Authority:
    return make_authority(session, name="Commune de Val-de-Brume", slug="val-de-brume")


def test_the_comms_team_plans_a_post_in_the_composer(
    browser: Any, live_server: str, session: Session, screenshots_dir: Path, database_url: str
) -> None:
    town = _town(session)
    editor = make_member(session, town, Role.editor, name="Claire Martin")
    make_member(session, town, Role.approver, name="Hélène Durand")
    x = make_account(session, town, network=Network.x, name="Val-de-Brume", handle="@valdebrume")
    masto = make_account(
        session, town, network=Network.mastodon, name="Val-de-Brume", handle="@mairie@piaille.fr"
    )
    linkedin = make_account(session, town, network=Network.linkedin, name="Val-de-Brume (LinkedIn)")
    make_pillar(session, town, name="Travaux", color="#c2410c")
    make_pillar(session, town, name="Culture", color="#2a9d8f")
    make_pillar(session, town, name="Alertes", color="#b3261e", urgent=True)

    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="fr-FR")
    page = context.new_page()
    errors = watch_errors(page)
    sign_in_browser(page, live_server, editor.email, "/a/val-de-brume/posts/new?date=2026-12-15")
    assert page.locator("h1").inner_text() == "Nouvelle publication"
    assert page.get_by_label("Jour").input_value() == "2026-12-15"

    text = "Travaux rue des Tilleuls du 3 au 7 décembre. Infos : https://val-de-brume.fr/travaux"
    page.get_by_label("Texte principal (utilisé sur chaque compte sans texte propre)").fill(text)
    page.locator(f'input[name="targets"][value="{x.id}"]').check()
    page.locator(f'input[name="targets"][value="{masto.id}"]').check()
    x_counter = page.locator(f"#count-{x.id} [data-count]")
    masto_counter = page.locator(f"#count-{masto.id} [data-count]")
    assert x_counter.inner_text() == str(counting.x_length(text))
    assert masto_counter.inner_text() == str(counting.mastodon_length(text))
    x_preview = page.locator(f'[data-preview="{x.id}"] [data-preview-text]')
    assert x_preview.inner_text() == text

    # A shorter text for X: its counter and its preview follow, Mastodon keeps the master text.
    short = "Travaux rue des Tilleuls du 3 au 7/12 : déviation par la place du Marché"
    page.locator(f"#variant-{x.id}").fill(short)
    assert x_counter.inner_text() == str(counting.x_length(short))
    assert x_preview.inner_text() == short
    assert page.locator(f'[data-preview="{masto.id}"] [data-preview-text]').inner_text() == text
    # Past X's limit the counter says so; Mastodon's 500 still hold.
    page.locator(f"#variant-{x.id}").fill("é" * 281)
    assert x_counter.inner_text() == "281"
    assert "counter-over" in (page.locator(f"#count-{x.id}").get_attribute("class") or "")
    page.locator(f"#variant-{x.id}").fill(short)
    assert "counter-over" not in (page.locator(f"#count-{x.id}").get_attribute("class") or "")
    # With the keyboard alone: Space on an account shows its own text field, and again hides it.
    page.locator(f'input[name="targets"][value="{linkedin.id}"]').focus()
    page.keyboard.press("Space")
    assert page.locator(f"#variant-{linkedin.id}").is_visible()
    page.keyboard.press("Space")
    assert not page.locator(f"#variant-{linkedin.id}").is_visible()
    # "Publier maintenant" is offered for an alert only.
    publish_now = page.get_by_role("button", name="Publier maintenant (alerte)")
    assert not publish_now.is_visible()
    page.get_by_label("Thématique").select_option(label="Alertes (alerte)")
    assert publish_now.is_visible()
    page.get_by_label("Thématique").select_option(label="Travaux")
    assert not publish_now.is_visible()
    page.get_by_label("Heure", exact=True).fill("10:30")
    assert_accessible(page)
    if database_url.startswith("sqlite"):
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(screenshots_dir / "redaction-1440.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(screenshots_dir / "redaction-390.png"), full_page=True)
        page.set_viewport_size({"width": 1440, "height": 900})

    page.get_by_role("button", name="Vérifier").click()
    page.wait_for_load_state()
    assert "la publication respecte les règles" in page.locator(".notice-success").inner_text()
    assert page.locator(f"#variant-{x.id}").input_value() == short  # kept as typed
    assert_accessible(page)

    page.get_by_role("button", name="Enregistrer le brouillon").click()
    page.wait_for_url(f"{live_server}/posts/*?done=save")
    assert page.locator(".status").inner_text() == "Brouillon"
    assert_accessible(page)
    page.get_by_role("button", name="Envoyer en validation").click()
    page.wait_for_url(f"{live_server}/posts/*?done=submit")
    assert page.locator(".status").inner_text() == "En validation"
    assert "Envoi en validation" in page.locator("#history-title + table").inner_text()
    assert_accessible(page)
    if database_url.startswith("sqlite"):
        page.screenshot(path=str(screenshots_dir / "publication-1440.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(screenshots_dir / "publication-390.png"), full_page=True)
    context.close()
    assert errors == []

    session.rollback()
    post = session.exec(select(Post).where(Post.authority_id == town.id)).one()
    assert post.status == PostStatus.in_review
    assert post.text == text


def test_the_browser_counts_as_the_server(browser: Any, live_server: str, session: Session) -> None:
    town = _town(session)
    editor = make_member(session, town, Role.editor)
    make_account(session, town, network=Network.x)
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    errors = watch_errors(page)
    sign_in_browser(page, live_server, editor.email, "/a/val-de-brume/posts/new")
    differences = []
    for text in TRICKY:
        for name, server in COUNTERS.items():
            browser_count = page.evaluate("([c, t]) => window.beffroiCount(c, t)", [name, text])
            if browser_count != server(text):
                differences.append((name, text, browser_count, server(text)))
    context.close()
    assert differences == []
    assert errors == []


def test_an_agent_proposes_a_post_with_a_photo(
    browser: Any, live_server: str, session: Session, screenshots_dir: Path, database_url: str,
    tmp_path: Path,
) -> None:  # fmt: skip
    town = _town(session)
    agent = make_member(session, town, Role.contributor, name="Marc Petit")
    make_pillar(session, town, name="Sport")
    photo = tmp_path / "gymnase.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (30, 110, 170)).save(buffer, "JPEG")
    photo.write_bytes(buffer.getvalue())

    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
    page = context.new_page()
    errors = watch_errors(page)
    sign_in_browser(page, live_server, agent.email, "/a/val-de-brume/proposals/new")
    assert page.locator("h1").inner_text() == "Proposer une publication"
    assert_accessible(page)
    page.get_by_label("Votre texte").fill("Le gymnase rénové rouvre lundi : venez le découvrir !")
    page.get_by_label("Photo (JPEG, PNG, WebP ou GIF)").set_input_files(str(photo))
    page.get_by_label("Thématique").select_option(label="Sport")
    page.get_by_label("Date suggérée").fill("2026-12-14")
    page.get_by_label("Heure suggérée").fill("09:00")

    # Without its description the photo is refused, and nothing typed is lost.
    page.get_by_role("button", name="Proposer à l'équipe communication").click()
    assert "texte alternatif" in page.get_by_role("alert").inner_text().lower()
    assert page.get_by_label("Votre texte").input_value().startswith("Le gymnase rénové")
    assert page.get_by_label("Date suggérée").input_value() == "2026-12-14"
    assert_accessible(page)
    page.get_by_label("Photo (JPEG, PNG, WebP ou GIF)").set_input_files(str(photo))
    page.get_by_label("Description de la photo", exact=False).fill(
        "La salle du gymnase rénové, parquet neuf et paniers de basket."
    )
    page.get_by_role("button", name="Proposer à l'équipe communication").click()
    page.wait_for_url(f"{live_server}/a/val-de-brume/proposals?saved=*")
    assert "Votre proposition est enregistrée" in page.get_by_role("status").inner_text()
    proposal = page.locator(".proposal").first
    assert "Le gymnase rénové rouvre lundi" in proposal.inner_text()
    assert "Brouillon" in proposal.inner_text()
    image = proposal.get_by_role("img")
    assert image.get_attribute("alt") == (
        "La salle du gymnase rénové, parquet neuf et paniers de basket."
    )
    # The photo is served to the agent (a broken image would never get a width).
    page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    assert_accessible(page)
    if database_url.startswith("sqlite"):
        page.screenshot(path=str(screenshots_dir / "propositions-390.png"), full_page=True)
    context.close()
    assert errors == []

    session.rollback()
    post = session.exec(select(Post).order_by(col(Post.id))).one()
    assert post.author_id == agent.id
    assert post.suggested_at is not None
