"""The composer, the post page and the proposals, through the pages (server side), on SQLite and
PostgreSQL: what is saved, what is refused and how, and who may do what."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session, col, select

from core.accounts.models import Network
from core.authorities.models import Authority, Role
from core.config import Settings
from core.media.models import MediaAsset
from core.posts.models import (
    EventChannel,
    Post,
    PostEvent,
    PostObjective,
    PostStatus,
    Publication,
    PublicationStatus,
)
from core.rules import text as counting
from tests.conftest import reload
from tests.factories import (
    make_account,
    make_authority,
    make_editorial,
    make_media,
    make_member,
    make_pillar,
    make_post,
    make_published,
    make_slot,
)
from tests.web.helpers import csrf_of, sign_in, text_of

DAY = "2026-12-15"


@pytest.fixture
def town(session: Session) -> Authority:
    return make_authority(session, name="Commune de Val-de-Brume", slug="val-de-brume")


def _posts(session: Session, authority: Authority) -> list[Post]:
    session.rollback()  # the application committed meanwhile: end the test's read snapshot
    return list(
        session.exec(select(Post).where(Post.authority_id == authority.id).order_by(col(Post.id)))
    )


def _form(csrf: str, **values: object) -> dict[str, object]:
    return {"csrf_token": csrf, "when": "date", "day": DAY, "at": "10:30", **values}


def test_the_comms_team_saves_then_submits_a_post_with_a_variant_per_network(
    client: TestClient, session: Session, town: Authority
) -> None:
    editor = make_member(session, town, Role.editor, name="Claire Martin")
    make_member(session, town, Role.approver, name="Hélène Durand")
    x = make_account(session, town, network=Network.x, name="Val-de-Brume sur X")
    masto = make_account(session, town, network=Network.mastodon, name="Val-de-Brume Mastodon")
    pillar = make_pillar(session, town, name="Travaux")
    sign_in(client, editor.email)

    page = client.get(f"/a/{town.slug}/posts/new?date={DAY}")
    assert page.status_code == 200
    assert 'value="2026-12-15"' in page.text
    assert 'data-counting="x"' in page.text
    assert 'data-limit="280"' in page.text
    assert 'data-x-url-length="23"' in page.text

    csrf = csrf_of(client, f"/a/{town.slug}/posts/new")
    response = client.post(
        f"/a/{town.slug}/posts/new",
        data=_form(
            csrf,
            text="Travaux rue des Tilleuls du 3 au 7 décembre.",
            targets=[str(x.id), str(masto.id)],
            variant_account=[str(x.id), str(masto.id)],
            variant=["Travaux rue des Tilleuls 🚧 https://val-de-brume.fr/travaux", ""],
            pillar_id=str(pillar.id),
            action="save",
        ),
        follow_redirects=False,
    )
    assert response.status_code == 303, text_of(response.text)
    [post] = _posts(session, town)
    assert response.headers["location"] == f"/posts/{post.id}?done=save"
    assert post.status == PostStatus.draft
    assert post.pillar_id == pillar.id
    assert post.scheduled_at == datetime(2026, 12, 15, 9, 30, tzinfo=UTC)  # 10:30 in Paris
    session.rollback()
    pubs = {p.account_id: p.text for p in session.exec(select(Publication))}
    assert pubs == {
        x.id: "Travaux rue des Tilleuls 🚧 https://val-de-brume.fr/travaux",
        masto.id: None,
    }
    created = session.exec(select(PostEvent).where(PostEvent.post_id == post.id)).one()
    assert (created.kind, created.channel) == ("created", EventChannel.web)

    page = client.get(f"/posts/{post.id}")
    shown = text_of(page.text)
    assert "Brouillon" in shown
    assert "Val-de-Brume sur X" in shown
    assert "Envoyer en validation" in shown
    # The edit page shows the variant and the count as X counts it.
    edit = client.get(f"/posts/{post.id}/edit")
    x_count = counting.x_length("Travaux rue des Tilleuls 🚧 https://val-de-brume.fr/travaux")
    assert f"<output data-count>{x_count}</output>" in edit.text

    response = client.post(
        f"/posts/{post.id}/submit", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert response.status_code == 303
    reload(session, post)
    assert post.status == PostStatus.in_review
    submitted = session.exec(
        select(PostEvent).where(PostEvent.post_id == post.id, PostEvent.kind == "submitted")
    ).one()
    assert submitted.channel == EventChannel.web


def test_check_shows_the_rules_findings_and_saves_nothing(
    client: TestClient, session: Session, town: Authority
) -> None:
    editor = make_member(session, town, Role.editor)
    x = make_account(session, town, network=Network.x, name="Compte X")
    sign_in(client, editor.email)
    csrf = csrf_of(client, f"/a/{town.slug}/posts/new")
    long_text = "Conseil municipal " * 20  # 360 characters: too long for X
    response = client.post(
        f"/a/{town.slug}/posts/new",
        data=_form(csrf, text=long_text, targets=[str(x.id)], action="check"),
    )
    assert response.status_code == 200
    shown = text_of(response.text)
    assert "Erreur (X · Compte X)" in shown
    assert "caractères sur 280 pour X" in shown
    assert long_text.strip() in response.text  # the input is kept
    assert _posts(session, town) == []


def test_errors_keep_the_persons_input_and_write_nothing(
    client: TestClient, session: Session, town: Authority
) -> None:
    editor = make_member(session, town, Role.editor)
    account = make_account(session, town, name="Page de la mairie")
    sign_in(client, editor.email)
    csrf = csrf_of(client, f"/a/{town.slug}/posts/new")

    past = client.post(
        f"/a/{town.slug}/posts/new",
        data=_form(
            csrf,
            text="Fête de la musique place du marché",
            day="2020-06-21",
            targets=[str(account.id)],
            action="save",
        ),
    )
    assert past.status_code == 422
    assert "est déjà passée" in text_of(past.text)
    assert "Fête de la musique place du marché" in past.text
    assert 'value="2020-06-21"' in past.text
    assert re.search(
        rf'name="targets"\s+value="{account.id}"\s+data-target="\d+"\s+checked', past.text
    )

    # Submitting a post without any account: the rules refuse, nothing is written.
    empty = client.post(
        f"/a/{town.slug}/posts/new",
        data=_form(csrf, text="Marché de Noël samedi", action="submit"),
    )
    assert empty.status_code == 422
    assert "Choisissez au moins un compte" in text_of(empty.text)
    assert "Marché de Noël samedi" in empty.text

    # An image without alt text is refused; the text stays.
    picture = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(picture, "PNG")
    no_alt = client.post(
        f"/a/{town.slug}/posts/new",
        data=_form(csrf, text="Marché de Noël samedi", action="save"),
        files={"file": ("marche.png", picture.getvalue(), "image/png")},
    )
    assert no_alt.status_code == 422
    assert "texte alternatif" in text_of(no_alt.text).lower()
    assert "Marché de Noël samedi" in no_alt.text

    nothing = client.post(
        f"/a/{town.slug}/posts/new",
        data=_form(csrf, text="Marché de Noël samedi", alt_text="Le marché", action="upload"),
    )
    assert nothing.status_code == 422
    assert "Choisissez d'abord l'image à ajouter" in text_of(nothing.text)
    assert "Marché de Noël samedi" in nothing.text

    bad_date = client.post(
        f"/a/{town.slug}/posts/new",
        data=_form(csrf, text="Marché", day="15/12/2026", action="save"),
    )
    assert bad_date.status_code == 422
    assert "n'est pas valide" in text_of(bad_date.text)
    assert _posts(session, town) == []
    assert session.exec(select(MediaAsset)).all() == []


def test_upload_with_alt_text_and_next_free_slot(
    client: TestClient, session: Session, town: Authority
) -> None:
    editor = make_member(session, town, Role.editor)
    account = make_account(session, town, name="Page de la mairie")
    make_slot(session, account)
    sign_in(client, editor.email)
    csrf = csrf_of(client, f"/a/{town.slug}/posts/new")
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 60)).save(picture, "PNG")
    uploaded = client.post(
        f"/a/{town.slug}/posts/new",
        data=_form(
            csrf,
            text="Le nouveau parc est ouvert",
            targets=[str(account.id)],
            alt_text="Des enfants jouent dans le nouveau parc.",
            action="upload",
        ),
        files={"file": ("parc.png", picture.getvalue(), "image/png")},
    )
    assert uploaded.status_code == 200
    assert "L'image a été ajoutée" in text_of(uploaded.text)
    session.rollback()
    media = session.exec(select(MediaAsset)).one()
    assert media.alt_text == "Des enfants jouent dans le nouveau parc."
    assert re.search(rf'name="media_ids"\s+value="{media.id}"\s+checked', uploaded.text)
    assert _posts(session, town) == []

    saved = client.post(
        f"/a/{town.slug}/posts/new",
        data=_form(
            csrf,
            text="Le nouveau parc est ouvert",
            targets=[str(account.id)],
            media_ids=[str(media.id)],
            when="slot",
            action="save",
        ),
        follow_redirects=False,
    )
    assert saved.status_code == 303, text_of(saved.text)
    [post] = _posts(session, town)
    assert post.scheduled_at is not None
    assert post.scheduled_at > datetime.now(UTC)
    page = client.get(f"/posts/{post.id}").text
    assert 'alt="Des enfants jouent dans le nouveau parc."' in page
    # The preview shows the image as the network will: its rendition for Mastodon.
    crop = f"/api/v1/authorities/{town.slug}/media/{media.id}/renditions/mastodon"
    assert f'src="{crop}"' in page
    served = client.get(crop)
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"


def test_visual_from_a_template(client: TestClient, session: Session, town: Authority) -> None:
    editor = make_member(session, town, Role.editor)
    sign_in(client, editor.email)
    csrf = csrf_of(client, f"/a/{town.slug}/posts/new")
    response = client.post(
        f"/a/{town.slug}/posts/new",
        data=_form(
            csrf,
            text="Concert de Noël",
            visual_template="event",
            visual_title="Concert de Noël",
            visual_date="Samedi 19 décembre, 20 h",
            visual_place="Église Saint-Martin",
            action="visual",
        ),
    )
    assert response.status_code == 200, text_of(response.text)
    session.rollback()
    visual = session.exec(select(MediaAsset)).one()
    assert "Concert de Noël" in visual.alt_text
    assert re.search(rf'name="media_ids"\s+value="{visual.id}"\s+checked', response.text)

    missing = client.post(
        f"/a/{town.slug}/posts/new",
        data=_form(csrf, text="Concert", visual_template="event", visual_title="Concert",
                   action="visual"),
    )  # fmt: skip
    assert missing.status_code == 422
    assert "besoin d'une date" in text_of(missing.text)


def test_urgent_publication_from_the_composer(
    client: TestClient, session: Session, town: Authority
) -> None:
    editor = make_member(session, town, Role.editor)
    account = make_account(session, town)
    alerts = make_pillar(session, town, name="Alertes", urgent=True)
    roads = make_pillar(session, town, name="Voirie")
    sign_in(client, editor.email)
    csrf = csrf_of(client, f"/a/{town.slug}/posts/new")
    refused = client.post(
        f"/a/{town.slug}/posts/new",
        data=_form(csrf, text="Route coupée", targets=[str(account.id)], pillar_id=str(roads.id),
                   when="none", action="urgent"),
    )  # fmt: skip
    assert refused.status_code == 409
    assert "thématique urgente" in text_of(refused.text)
    assert _posts(session, town) == []
    done = client.post(
        f"/a/{town.slug}/posts/new",
        data=_form(csrf, text="Route coupée", targets=[str(account.id)],
                   pillar_id=str(alerts.id), when="none", action="urgent"),
        follow_redirects=False,
    )  # fmt: skip
    assert done.status_code == 303, text_of(done.text)
    [post] = _posts(session, town)
    assert post.status == PostStatus.approved
    assert post.urgent_without_approval


def test_contributor_proposes_and_cannot_publish(
    client: TestClient, session: Session, town: Authority, settings: Settings
) -> None:
    agent = make_member(session, town, Role.contributor, name="Marc Petit")
    editor = make_member(session, town, Role.editor, name="Claire Martin")
    alerts = make_pillar(session, town, name="Alertes", urgent=True)
    account = make_account(session, town)
    sign_in(client, agent.email)

    # The composer sends agents to the short form.
    page = client.get(f"/a/{town.slug}/posts/new", follow_redirects=False)
    assert page.headers["location"] == f"/a/{town.slug}/proposals/new"
    csrf = csrf_of(client, f"/a/{town.slug}/proposals/new")
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 60, 160)).save(picture, "JPEG")
    response = client.post(
        f"/a/{town.slug}/proposals/new",
        data={
            "csrf_token": csrf,
            "text": "Les travaux du gymnase sont finis !",
            "alt_text": "Le gymnase rénové, vu de l'entrée.",
            "pillar_id": str(alerts.id),
            "suggested_day": DAY,
            "suggested_at": "18:00",
            "action": "save",
        },
        files={"file": ("gymnase.jpg", picture.getvalue(), "image/jpeg")},
        follow_redirects=False,
    )
    assert response.status_code == 303, text_of(response.text)
    [post] = _posts(session, town)
    assert post.author_id == agent.id
    assert post.status == PostStatus.draft
    assert post.scheduled_at is None
    assert post.suggested_at == datetime(2026, 12, 15, 17, 0, tzinfo=UTC)

    listing = text_of(client.get(response.headers["location"]).text)
    assert "Les travaux du gymnase sont finis !" in listing
    assert "Brouillon" in listing
    assert "Pas encore de retour." in listing

    # An agent cannot publish, not even an alert of their own.
    urgent = client.post(
        f"/posts/{post.id}/publish-urgent", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert urgent.status_code == 403
    reload(session, post)
    assert post.status == PostStatus.draft

    # The comms team comments; the agent sees it in their list.
    client.post("/logout", data={"csrf_token": csrf})
    sign_in(client, editor.email)
    csrf = csrf_of(client, f"/posts/{post.id}")
    client.post(
        f"/posts/{post.id}/comments",
        data={"csrf_token": csrf, "comment": "Merci ! Ajoutez les horaires d'ouverture."},
    )
    client.post("/logout", data={"csrf_token": csrf})
    sign_in(client, agent.email)
    listing = text_of(client.get(f"/a/{town.slug}/proposals").text)
    assert "Claire Martin" in listing
    assert "Merci ! Ajoutez les horaires d'ouverture." in listing
    # Another person's post is unknown to an agent.
    session.rollback()
    other = make_post(session, town, targets=[account], author=editor)
    assert client.get(f"/posts/{other.id}").status_code == 404


def test_post_page_shows_history_comments_and_approver_actions(
    client: TestClient, session: Session, town: Authority
) -> None:
    mayor = make_member(session, town, Role.approver, name="Hélène Durand")
    account = make_account(session, town, name="Page de la mairie")
    post = make_post(
        session, town, targets=[account], status=PostStatus.in_review,
        scheduled_at=datetime(2026, 12, 15, 9, 0, tzinfo=UTC), text="Vœux du maire",
    )  # fmt: skip
    sign_in(client, mayor.email)
    page = client.get(f"/posts/{post.id}")
    shown = text_of(page.text)
    assert "En validation" in shown
    assert "Approuver" in shown
    assert "Modifier" not in shown  # an approver does not edit
    csrf = csrf_of(client, f"/posts/{post.id}")
    empty = client.post(f"/posts/{post.id}/request-changes", data={"csrf_token": csrf})
    assert empty.status_code == 422
    assert "Expliquez votre décision" in text_of(empty.text)
    done = client.post(
        f"/posts/{post.id}/request-changes",
        data={"csrf_token": csrf, "comment": "Ajoutez la date de la cérémonie."},
        follow_redirects=False,
    )
    assert done.status_code == 303
    reload(session, post)
    assert post.status == PostStatus.draft
    shown = text_of(client.get(f"/posts/{post.id}").text)
    assert "Modifications demandées" in shown
    assert "Ajoutez la date de la cérémonie." in shown
    assert "pages de Beffroi" in shown


def test_other_authority_gets_404_and_csrf_is_required(
    client: TestClient, session: Session, town: Authority
) -> None:
    other = make_authority(session, slug="autre-ville")
    stranger = make_member(session, other, Role.admin, Role.editor, Role.approver)
    editor = make_member(session, town, Role.editor)
    post = make_post(session, town, author=editor)
    sign_in(client, stranger.email)
    csrf = csrf_of(client, "/")
    for path in (f"/posts/{post.id}", f"/posts/{post.id}/edit", f"/a/{town.slug}/posts/new",
                 f"/a/{town.slug}/proposals", f"/a/{town.slug}/proposals/new"):  # fmt: skip
        assert client.get(path).status_code == 404, path
    for action in ("submit", "cancel", "publish-urgent", "comments", "edit", "approve"):
        response = client.post(f"/posts/{post.id}/{action}", data={"csrf_token": csrf})
        assert response.status_code == 404, action
    sign_in(client, editor.email)
    no_csrf = client.post(f"/posts/{post.id}/cancel", data={})
    assert no_csrf.status_code == 403
    reload(session, post)
    assert post.status == PostStatus.draft


def test_editing_a_post_keeps_unchanged_fields(
    client: TestClient, session: Session, town: Authority, settings: Settings
) -> None:
    editor = make_member(session, town, Role.editor)
    account = make_account(session, town)
    image = make_media(session, settings, town, by=editor)
    post = make_post(session, town, targets=[account], author=editor, text="Premier texte")
    sign_in(client, editor.email)
    csrf = csrf_of(client, f"/posts/{post.id}/edit")
    response = client.post(
        f"/posts/{post.id}/edit",
        data=_form(csrf, text="Second texte", targets=[str(account.id)],
                   media_ids=[str(image.id)], when="none", action="save"),
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303, text_of(response.text)
    reload(session, post)
    assert post.text == "Second texte"
    assert post.version == 2
    shown = text_of(client.get(f"/posts/{post.id}").text)
    assert "Modification du contenu" in shown


def test_post_page_links_published_posts_and_says_what_to_do_after_a_failure(
    client: TestClient, session: Session, town: Authority
) -> None:
    editor = make_member(session, town, Role.editor)
    sent = make_account(session, town, network=Network.mastodon, name="Mastodon de la mairie")
    broken = make_account(session, town, network=Network.bluesky, name="Bluesky de la mairie")
    post = make_published(
        session, town, targets=[sent, broken], at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    )
    by_account = {p.account_id: p for p in session.exec(select(Publication))}
    by_account[sent.id].remote_url = "https://piaille.example/@mairie/1"  # type: ignore[index]
    failed = by_account[broken.id]  # type: ignore[index]
    failed.status = PublicationStatus.failed
    failed.published_at = None
    failed.error = "Le jeton de ce compte a expiré."
    session.add_all(by_account.values())
    session.commit()
    sign_in(client, editor.email)
    page = client.get(f"/posts/{post.id}")
    assert 'href="https://piaille.example/@mairie/1"' in page.text
    shown = text_of(page.text)
    assert "Voir sur Mastodon" in shown
    assert "Erreur : Le jeton de ce compte a expiré." in shown
    assert "Que faire : vérifiez ce compte dans « Comptes »" in shown
    assert "Modifier" not in shown  # a published post is not edited any more


def test_an_approver_approves_from_the_post_page_in_english(
    client: TestClient, session: Session, town: Authority
) -> None:
    mayor = make_member(session, town, Role.approver, name="Hélène Durand", locale="en")
    account = make_account(session, town)
    post = make_post(
        session, town, targets=[account], status=PostStatus.in_review,
        scheduled_at=datetime(2026, 12, 15, 9, 0, tzinfo=UTC),
    )  # fmt: skip
    sign_in(client, mayor.email)
    page = text_of(client.get(f"/posts/{post.id}").text)
    assert "Approve" in page
    assert "History" in page
    csrf = csrf_of(client, f"/posts/{post.id}")
    done = client.post(f"/posts/{post.id}/approve", data={"csrf_token": csrf})
    assert done.status_code == 200  # followed the redirect to the post page
    assert "Thank you: the post is approved." in text_of(done.text)
    reload(session, post)
    assert post.status == PostStatus.approved
    assert post.approved_by_id == mayor.id


def test_an_agent_editing_their_proposal_keeps_what_the_comms_team_set(
    client: TestClient, session: Session, town: Authority
) -> None:
    agent = make_member(session, town, Role.contributor)
    ids = make_editorial(session, town, author=agent)
    post = session.get(Post, ids["post_id"])
    assert post is not None
    post.campaign_id = ids["campaign_id"]
    session.add(post)
    session.add(PostObjective(post_id=post.id, objective_id=ids["objective_id"]))
    session.commit()
    sign_in(client, agent.email)
    page = client.get(f"/posts/{post.id}/edit")
    assert "Modifier ma proposition" in text_of(page.text)
    csrf = csrf_of(client, f"/posts/{post.id}/edit")
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page.text))
    form.update({"csrf_token": csrf, "text": "Texte repris par l'agent", "action": "save"})
    form["pillar_id"] = str(ids["pillar_id"])
    response = client.post(f"/posts/{post.id}/edit", data=form, follow_redirects=False)
    assert response.status_code == 303, text_of(response.text)
    reload(session, post)
    assert post.text == "Texte repris par l'agent"
    assert post.campaign_id == ids["campaign_id"]
    session.rollback()
    objectives = session.exec(select(PostObjective).where(PostObjective.post_id == post.id))
    assert [o.objective_id for o in objectives] == [ids["objective_id"]]


def test_the_composer_refuses_a_missing_csrf_token_and_a_too_large_image(
    client: TestClient, session: Session, town: Authority, settings: Settings
) -> None:
    editor = make_member(session, town, Role.editor)
    sign_in(client, editor.email)
    csrf = csrf_of(client, f"/a/{town.slug}/posts/new")
    forged = client.post(
        f"/a/{town.slug}/posts/new",
        data={"text": "Sans jeton", "action": "save"},
        files={"file": ("vide.png", b"", "image/png")},
    )
    assert forged.status_code == 403
    settings.media_max_bytes = 100_000
    huge = client.post(
        f"/a/{town.slug}/posts/new",
        data=_form(csrf, text="Une très grande image", alt_text="Une image", action="upload"),
        files={"file": ("grande.png", b"\x89PNG" + b"0" * 400_000, "image/png")},
    )
    assert huge.status_code == 413
    assert "Le fichier dépasse la taille maximale" in text_of(huge.text)
    long_form = client.post(
        f"/a/{town.slug}/posts/new", data=_form(csrf, text="x" * 3_000_000, action="save")
    )
    assert long_form.status_code == 413
    assert "Le formulaire envoyé est trop volumineux" in text_of(long_form.text)
    assert _posts(session, town) == []
    assert session.exec(select(MediaAsset)).all() == []


def test_editing_a_post_in_review_says_what_a_change_does(
    client: TestClient, session: Session, town: Authority
) -> None:
    editor = make_member(session, town, Role.editor)
    agent = make_member(session, town, Role.contributor)
    account = make_account(session, town)
    post = make_post(
        session, town, targets=[account], author=agent, status=PostStatus.in_review,
        suggested_at=datetime(2026, 12, 14, 8, 0, tzinfo=UTC),
    )  # fmt: skip
    sign_in(client, editor.email)
    shown = text_of(client.get(f"/posts/{post.id}/edit").text)
    assert "Cette publication est « En validation » : changer son texte" in shown
    assert "Date suggérée par l'auteur : lundi 14 décembre 2026, 09:00." in shown
