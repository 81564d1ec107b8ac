"""The settings page: the admin changes name, timezone, colours, school zone and logo (from the
library or uploaded); French errors keep the input; each member manages their iCal feed link."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session, select

from core.authorities.models import Authority, Role
from core.config import Settings
from core.media.models import MediaAsset
from core.users.models import User
from tests.factories import make_authority, make_media, make_member
from tests.web.helpers import csrf_of, sign_in, text_of


@pytest.fixture
def town(session: Session) -> tuple[Authority, User]:
    authority = make_authority(session, name="Commune de Najac", slug="najac")
    admin = make_member(session, authority, Role.admin, name="Anne Admin")
    return authority, admin


def fresh(session: Session, authority: Authority) -> Authority:
    session.rollback()
    session.refresh(authority)
    return authority


def form(**overrides: str) -> dict[str, str]:
    return {
        "name": "Commune de Najac",
        "timezone": "Europe/Paris",
        "brand_primary": "#1d4e89",
        "brand_secondary": "#f2a900",
        "school_zone": "",
        "logo_media_id": "",
        **overrides,
    }


def test_the_admin_changes_the_authority_settings(
    client: TestClient, session: Session, settings: Settings, town: tuple[Authority, User]
) -> None:
    authority, admin = town
    logo = make_media(session, settings, authority, alt_text="Le blason de Najac")
    sign_in(client, admin.email)
    csrf = csrf_of(client, "/a/najac/settings")
    page = client.post(
        "/a/najac/settings",
        data={
            **form(
                name="Najac",
                timezone="America/Cayenne",
                brand_primary="#006a4e",
                school_zone="C",
                logo_media_id=str(logo.id),
            ),
            "csrf_token": csrf,
        },
    )
    assert page.status_code == 200
    assert "Paramètres enregistrés." in text_of(page.text)
    fresh(session, authority)
    assert (authority.name, authority.timezone, authority.brand_primary) == (
        "Najac",
        "America/Cayenne",
        "#006a4e",
    )
    assert authority.settings["school_zone"] == "C"
    assert authority.logo_media_id == logo.id
    assert 'alt="Le blason de Najac"' in page.text

    bad = client.post(
        "/a/najac/settings",
        data={
            **form(name="Najac", timezone="Europe/Najac", brand_primary="bleu"),
            "csrf_token": csrf,
        },
    )
    assert bad.status_code == 422
    text = text_of(bad.text)
    assert "« Europe/Najac » n'est pas un fuseau horaire connu" in text
    assert "« Couleur principale » : « bleu » n'est pas une couleur" in text
    assert 'value="Europe/Najac"' in bad.text
    fresh(session, authority)
    assert authority.timezone == "America/Cayenne"
    assert authority.brand_primary == "#006a4e"


def test_another_authoritys_image_cannot_be_the_logo(
    client: TestClient, session: Session, settings: Settings, town: tuple[Authority, User]
) -> None:
    authority, admin = town
    other = make_authority(session, slug="villefranche")
    theirs = make_media(session, settings, other)
    sign_in(client, admin.email)
    page = client.post(
        "/a/najac/settings",
        data={
            **form(name="Najac renommée", logo_media_id=str(theirs.id)),
            "csrf_token": csrf_of(client, "/a/najac/settings"),
        },
    )
    assert page.status_code == 422
    assert "n'est pas dans la médiathèque de la collectivité" in text_of(page.text)
    assert 'value="Najac renommée"' in page.text
    fresh(session, authority)
    assert authority.name == "Commune de Najac"
    assert authority.logo_media_id is None


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), (0, 106, 78)).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_logo_uploaded_here_goes_to_the_library_and_becomes_the_logo(
    client: TestClient, session: Session, town: tuple[Authority, User]
) -> None:
    authority, admin = town
    sign_in(client, admin.email)
    csrf = csrf_of(client, "/a/najac/settings")
    page = client.post(
        "/a/najac/settings/logo",
        data={"csrf_token": csrf, "alt_text": "Blason de Najac : un château d'argent"},
        files={"file": ("blason.png", png(), "image/png")},
    )
    assert page.status_code == 200
    assert "Nouveau logo enregistré." in text_of(page.text)
    session.rollback()
    [asset] = session.exec(select(MediaAsset)).all()
    fresh(session, authority)
    assert authority.logo_media_id == asset.id
    assert asset.alt_text == "Blason de Najac : un château d'argent"

    missing_alt = client.post(
        "/a/najac/settings/logo",
        data={"csrf_token": csrf, "alt_text": ""},
        files={"file": ("blason.png", png(), "image/png")},
    )
    assert missing_alt.status_code == 422
    assert "texte alternatif" in text_of(missing_alt.text).lower()
    no_csrf = client.post(
        "/a/najac/settings/logo",
        data={"alt_text": "Blason"},
        files={"file": ("blason.png", png(), "image/png")},
    )
    assert no_csrf.status_code == 403
    session.rollback()
    assert len(session.exec(select(MediaAsset)).all()) == 1


def test_each_member_creates_replaces_and_revokes_their_ical_link(
    client: TestClient, session: Session, town: tuple[Authority, User]
) -> None:
    authority, _ = town
    editor = make_member(session, authority, Role.editor)
    sign_in(client, editor.email)
    page = client.get("/a/najac/settings")
    assert page.status_code == 200
    assert "Aucun lien actif." in text_of(page.text)
    assert "La collectivité" not in text_of(page.text)  # the authority's settings: admins only
    csrf = csrf_of(client, "/a/najac/settings")
    created = client.post("/a/najac/settings/feed", data={"csrf_token": csrf})
    url = re.search(r'id="feed-url">([^<]+)<', created.text)
    assert url is not None
    path = url.group(1).replace("http://testserver", "").replace("&amp;", "&")
    ics = client.get(path)
    assert ics.status_code == 200
    assert ics.text.startswith("BEGIN:VCALENDAR")
    again = client.get("/a/najac/settings")
    assert "Un lien est actif depuis le" in text_of(again.text)
    assert url.group(1) not in again.text  # shown once only

    client.post("/a/najac/settings/feed/revoke", data={"csrf_token": csrf})
    assert client.get(path).status_code == 404


def test_non_admins_and_other_authorities_are_refused(
    client: TestClient, session: Session, town: tuple[Authority, User]
) -> None:
    authority, _ = town
    editor = make_member(session, authority, Role.editor)
    sign_in(client, editor.email)
    csrf = csrf_of(client, "/a/najac/settings")
    refused = client.post("/a/najac/settings", data={**form(name="Piraté"), "csrf_token": csrf})
    assert refused.status_code == 403
    assert "réservée aux administrateurs" in text_of(refused.text)
    upload: Any = client.post(
        "/a/najac/settings/logo",
        data={"csrf_token": csrf, "alt_text": "Blason"},
        files={"file": ("blason.png", png(), "image/png")},
    )
    assert upload.status_code == 403
    fresh(session, authority)
    assert authority.name == "Commune de Najac"

    other = make_authority(session, slug="villefranche")
    stranger = make_member(session, other, Role.admin)
    client.post("/logout", data={"csrf_token": csrf_of(client, "/")})
    sign_in(client, stranger.email)
    assert client.get("/a/najac/settings").status_code == 404
    answer = client.post(
        "/a/najac/settings",
        data={**form(name="Piraté"), "csrf_token": csrf_of(client, "/a/villefranche/settings")},
    )
    assert answer.status_code == 404
    fresh(session, authority)
    assert authority.name == "Commune de Najac"
