"""The media library through the API, as a town hall's team uses it."""

from __future__ import annotations

import io
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.engine import Engine
from sqlmodel import Session

from beffroi.app import create_app
from core.accounts.models import Network
from core.authorities.models import Authority, Role
from core.config import Settings
from core.media.rules import ImageProperties, check_image
from tests.conftest import make_settings
from tests.core.media import images
from tests.factories import bearer, make_authority, make_member

ALT = "Le maire coupe le ruban devant la nouvelle école."


def upload(
    client: TestClient,
    authority: Authority,
    headers: dict[str, str],
    data: bytes,
    *,
    filename: str = "photo.jpg",
    content_type: str = "image/jpeg",
    alt_text: str | None = ALT,
) -> dict:  # type: ignore[type-arg]
    fields = {"alt_text": alt_text} if alt_text is not None else {}
    response = client.post(
        f"/api/v1/authorities/{authority.slug}/media",
        headers=headers,
        files={"file": (filename, data, content_type)},
        data=fields,
    )
    return {"status": response.status_code, **response.json()}


def fetch(client: TestClient, url: str, headers: dict[str, str]) -> Image.Image:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


def stored_files(settings: Settings) -> set[Path]:
    root = settings.data_dir / "media"
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def test_a_phone_photo_is_stored_clean_upright_and_cut_for_every_network(
    client: TestClient, session: Session, settings: Settings
) -> None:
    town = make_authority(session)
    agent = bearer(session, make_member(session, town, Role.contributor))
    media = upload(client, town, agent, images.phone_photo(orientation=6), filename="IMG_2041.jpg")
    assert media["status"] == 201, media
    assert (media["width"], media["height"]) == (200, 400)  # turned upright
    assert media["alt_text"] == ALT
    assert media["mime"] == "image/jpeg"
    assert media["filename"] == "IMG_2041.jpg"
    assert media["notices"] == []
    assert media["url"] == f"/api/v1/authorities/{town.slug}/media/{media['id']}/file"

    response = client.get(media["url"], headers=agent)
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"].startswith("private")
    assert images.metadata_left(response.content) == []  # no GPS, no EXIF, no XMP, no ICC
    upright = Image.open(io.BytesIO(response.content))
    assert images.is_red(upright.convert("RGB").getpixel((100, 20)))
    etag = response.headers["etag"]
    again = client.get(media["url"], headers={**agent, "If-None-Match": etag})
    assert again.status_code == 304

    assert [r["network"] for r in media["renditions"]] == [
        "x",
        "linkedin",
        "facebook",
        "instagram",
        "mastodon",
        "bluesky",
    ]
    for rendition in media["renditions"]:
        response = client.get(rendition["url"], headers=agent)
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/jpeg"
        assert response.headers["cache-control"] == "private, no-cache"
        assert images.metadata_left(response.content) == []
        picture = Image.open(io.BytesIO(response.content))
        assert picture.size == (rendition["width"], rendition["height"])
        assert picture.height >= picture.width  # still upright
        props = ImageProperties(
            mime="image/jpeg",
            width=picture.width,
            height=picture.height,
            bytes=len(response.content),
            alt_text=media["alt_text"],
        )
        assert check_image(Network(rendition["network"]), props) == []
    manual = client.get(f"{media['url'].removesuffix('/file')}/renditions/manual", headers=agent)
    assert manual.status_code == 404
    assert "canaux manuels" in manual.json()["detail"]

    # A PNG named .jpg is a PNG; an animated GIF keeps its first frame, and the answer says so.
    png = upload(client, town, agent, images.encode(images.halves(), "PNG"), filename="x.jpg")
    assert png["mime"] == "image/png"
    gif = upload(client, town, agent, images.animated_gif(), filename="anim.gif")
    assert gif["mime"] == "image/png"
    assert "première image" in gif["notices"][0]

    library = client.get(f"/api/v1/authorities/{town.slug}/media", headers=agent).json()
    assert [m["id"] for m in library] == [gif["id"], png["id"], media["id"]]
    assert library[2]["alt_text"] == ALT
    assert library[2]["bytes"] > 0
    assert (library[2]["width"], library[2]["height"]) == (200, 400)
    root = settings.data_dir.resolve() / "media"
    for path in stored_files(settings):
        assert path.parent.parent == root  # media/<2 hex>/<sha256>.<ext>
        assert path.parent.name == path.name[:2]

    # Approvers read the library but do not upload.
    mayor = bearer(session, make_member(session, town, Role.approver))
    assert client.get(media["url"], headers=mayor).status_code == 200
    refused = upload(client, town, mayor, images.phone_photo())
    assert refused["status"] == 403


def test_uploads_refused_with_a_reason_and_nothing_kept(
    client: TestClient, session: Session, settings: Settings
) -> None:
    town = make_authority(session)
    editor = bearer(session, make_member(session, town, Role.editor))
    jpeg = images.encode(images.noise((400, 300)), "JPEG")
    cases = [
        ({"data": jpeg, "alt_text": None}, 422, "alt_text_required", "texte alternatif"),
        ({"data": jpeg, "alt_text": "   "}, 422, "alt_text_required", "RGAA"),
        ({"data": jpeg, "alt_text": "x" * 1001}, 422, "alt_text_too_long", "1000 au plus"),
        ({"data": b"", "alt_text": ALT}, 422, "file_required", "« file »"),
        (
            {"data": b"MZ\x90\x00 un programme", "filename": "vacances.png"},
            415,
            "unsupported_format",
            "JPEG, PNG, WebP ou GIF",
        ),
        (
            {"data": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "filename": "a.heic"},
            415,
            "unsupported_format",
            "HEIC",
        ),
        ({"data": jpeg[: len(jpeg) // 2]}, 422, "corrupt_image", "endommagée"),
        ({"data": images.png_bomb()}, 422, "too_many_pixels", "50 mégapixels"),
    ]
    for kwargs, status, code, words in cases:
        data = kwargs.pop("data")
        answer = upload(client, town, editor, data, **kwargs)  # type: ignore[arg-type]
        assert (answer["status"], answer["error"]) == (status, code), answer
        assert words in answer["detail"], answer

    not_multipart = client.post(
        f"/api/v1/authorities/{town.slug}/media", headers=editor, json={"alt_text": ALT}
    )
    assert not_multipart.status_code == 415
    assert "multipart/form-data" in not_multipart.json()["detail"]
    assert client.get(f"/api/v1/authorities/{town.slug}/media", headers=editor).json() == []
    assert stored_files(settings) == set()


def test_the_byte_limit_stops_reading_the_upload(
    db: Engine, session: Session, database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, data_dir=tmp_path, media_max_bytes=100_000)
    app = create_app(settings, engine=db, run_mailer=False)
    town = make_authority(session)
    editor = bearer(session, make_member(session, town, Role.editor))
    url = f"/api/v1/authorities/{town.slug}/media"
    boundary = "frontiere"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="alt_text"\r\n\r\n{ALT}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    chunks = [head, *[b"\xff" * 65_536] * 200, f"\r\n--{boundary}--\r\n".encode()]  # 13 MB
    read = 0
    answer: dict[str, object] = {}

    # Straight through ASGI, chunk by chunk as a slow phone would send them (the test client
    # would read the whole body first).
    async def receive() -> dict[str, object]:
        nonlocal read
        read += 1
        if read > len(chunks):
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": chunks[read - 1], "more_body": read < len(chunks)}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] = bytes(answer.get("body", b"")) + bytes(message["body"])  # type: ignore[arg-type]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": url,
        "raw_path": url.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", editor["Authorization"].encode()),
            (b"content-type", f"multipart/form-data; boundary={boundary}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    # In a thread of its own: the browser tests may keep an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(anyio.run, app, scope, receive, send).result()
    assert answer["status"] == 413
    detail = json.loads(answer["body"])["detail"]  # type: ignore[arg-type]
    assert detail.startswith("Le fichier dépasse la taille maximale de 100 ko")
    assert read < 10  # refused while reading, not after 200 chunks

    with TestClient(app) as client:
        declared = client.post(
            url,
            headers={
                **editor,
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Content-Length": "50000000",
            },
            content=b"--frontiere--\r\n",
        )
        assert declared.status_code == 413
        small = upload(client, town, editor, images.encode(images.halves(), "JPEG"))
        assert small["status"] == 201


def test_the_focal_point_moves_the_crops(
    client: TestClient, session: Session, settings: Settings
) -> None:
    town = make_authority(session)
    agent_user = make_member(session, town, Role.contributor)
    agent = bearer(session, agent_user)
    colleague = bearer(session, make_member(session, town, Role.contributor))
    editor = bearer(session, make_member(session, town, Role.editor))
    wide = Image.new("RGB", (1800, 600), images.BLUE)
    wide.paste(images.RED, (1680, 240, 1770, 360))  # the mayor, at the far right
    media = upload(client, town, agent, images.encode(wide, "PNG"), filename="panorama.png")
    assert (media["focal_x"], media["focal_y"]) == (0.5, 0.5)
    url = f"/api/v1/authorities/{town.slug}/media/{media['id']}"

    def instagram(item: dict) -> dict:  # type: ignore[type-arg]
        return next(r for r in item["renditions"] if r["network"] == "instagram")

    def red_in(rendition: dict) -> bool:  # type: ignore[type-arg]
        return images.has_red(fetch(client, rendition["url"], agent))

    before = instagram(media)
    assert not red_in(before)
    before_files = stored_files(settings)

    assert client.patch(url, headers=colleague, json={"focal_x": 0.95}).status_code == 403
    moved = client.patch(url, headers=agent, json={"focal_x": 0.95, "focal_y": 0.5})
    assert moved.status_code == 200, moved.text
    after = instagram(moved.json())
    assert after["url"] != before["url"]  # a new version: browsers fetch it again
    assert red_in(after)
    assert after["width"] / after["height"] <= 1.91
    # The old crops are gone from the disk; the original is kept.
    gone = before_files - stored_files(settings)
    assert len(gone) >= 1
    assert all(path.suffix == ".jpg" for path in gone)

    described = client.patch(url, headers=editor, json={"alt_text": "  Panorama du bourg.  "})
    assert described.json()["alt_text"] == "Panorama du bourg."
    assert described.json()["focal_x"] == 0.95
    for body, field in [({"alt_text": None}, "alt_text"), ({"focal_x": 1.5}, "focal_x")]:
        refused = client.patch(url, headers=editor, json=body)
        assert refused.status_code == 422, refused.text
        assert field in refused.text


def test_the_logo_and_deleting_media(
    client: TestClient, session: Session, settings: Settings
) -> None:
    town = make_authority(session)
    admin = bearer(session, make_member(session, town, Role.admin))
    agent = bearer(session, make_member(session, town, Role.contributor))
    other = make_authority(session)
    other_admin = bearer(session, make_member(session, other, Role.admin))
    data = images.encode(images.halves(), "PNG")
    logo = upload(client, town, admin, data, alt_text="Logo de la commune")
    twin = upload(client, town, admin, data, alt_text="Le même fichier, envoyé deux fois")
    assert twin["url"] != logo["url"]
    assert twin["sha256"] == logo["sha256"]  # one file on disk for both

    set_logo = client.patch(
        f"/api/v1/authorities/{town.slug}", headers=admin, json={"logo_media_id": logo["id"]}
    )
    assert set_logo.status_code == 200
    assert set_logo.json()["logo_media_id"] == logo["id"]
    foreign = client.patch(
        f"/api/v1/authorities/{other.slug}",
        headers=other_admin,
        json={"logo_media_id": logo["id"]},
    )
    assert foreign.status_code == 422
    assert "médiathèque" in foreign.json()["detail"]

    media_url = f"/api/v1/authorities/{town.slug}/media/{logo['id']}"
    shown = client.get(media_url, headers=agent).json()
    assert shown["usage"] == [
        {"kind": "logo", "label": "Logo de la collectivité", "id": town.id, "blocks_deletion": True}
    ]
    assert client.delete(media_url, headers=agent).status_code == 403
    refused = client.delete(media_url, headers=admin)
    assert refused.status_code == 409
    assert "Logo de la collectivité" in refused.json()["detail"]
    assert client.get(media_url, headers=admin).status_code == 200

    client.patch(f"/api/v1/authorities/{town.slug}", headers=admin, json={"logo_media_id": None})
    files = stored_files(settings)
    assert client.delete(media_url, headers=admin).status_code == 204
    assert client.get(media_url, headers=admin).status_code == 404
    # The twin still uses the original file: only nothing is removed yet.
    assert stored_files(settings) == files
    assert client.get(twin["url"], headers=admin).status_code == 200
    twin_url = f"/api/v1/authorities/{town.slug}/media/{twin['id']}"
    assert client.delete(twin_url, headers=admin).status_code == 204
    assert stored_files(settings) == set()


def test_branded_visuals_in_the_authority_colours(
    client: TestClient, session: Session, settings: Settings
) -> None:
    town = make_authority(session, name="Commune de Saint-Père-sur-Loire")
    admin = bearer(session, make_member(session, town, Role.admin))
    agent = bearer(session, make_member(session, town, Role.contributor))
    mayor = bearer(session, make_member(session, town, Role.approver))
    slug = town.slug
    client.patch(
        f"/api/v1/authorities/{slug}",
        headers=admin,
        json={"brand_primary": "#7b1e3a", "brand_secondary": "#f7c8d0"},
    )
    logo = upload(client, town, admin, images.encode(images.halves(), "PNG"), alt_text="Logo")
    client.patch(f"/api/v1/authorities/{slug}", headers=admin, json={"logo_media_id": logo["id"]})

    card = {
        "template": "event",
        "title": "Marché de Noël et illuminations",
        "date": "2026-12-12",
        "place": "Place de l'Église",
    }
    response = client.post(f"/api/v1/authorities/{slug}/visuals", headers=agent, json=card)
    assert response.status_code == 201, response.text
    visual = response.json()
    assert visual["origin"] == "visual"
    assert visual["alt_text"] == (
        "Événement : Marché de Noël et illuminations. Samedi 12 décembre 2026. Place de l'Église."
    )
    assert (visual["width"], visual["height"], visual["mime"]) == (1080, 1080, "image/png")
    picture = fetch(client, visual["url"], agent).convert("RGB")
    found = {color for _count, color in picture.getcolors(1 << 20) or []}  # type: ignore[misc]
    assert {(0x7B, 0x1E, 0x3A), (0xF7, 0xC8, 0xD0)} <= found
    assert images.is_red(picture.getpixel((100, 1000)))  # the logo in the footer
    assert len(visual["renditions"]) == 6

    for body, words in [
        ({**card, "template": "affiche"}, "template"),
        ({"template": "event", "title": "Concert"}, "un lieu"),
        ({"template": "alert", "title": "Crue", "text": "x" * 201}, "200 caractères"),
        ({"template": "announcement", "title": "   ", "text": "Texte"}, "title"),
    ]:
        refused = client.post(f"/api/v1/authorities/{slug}/visuals", headers=agent, json=body)
        assert refused.status_code == 422, refused.text
        assert words in refused.json()["detail"], refused.json()
    forbidden = client.post(f"/api/v1/authorities/{slug}/visuals", headers=mayor, json=card)
    assert forbidden.status_code == 403
