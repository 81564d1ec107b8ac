"""Every adapter against its sandbox, over real HTTP on loopback, through the real library."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest

from core import clock
from core.accounts.models import Network
from networks import registry
from networks.base import (
    AuthExpired,
    Duplicate,
    Forbidden,
    NetworkError,
    PermanentError,
    Post,
    RateLimited,
    RemoteNotFound,
    RetryableError,
    Unsupported,
)
from tests.networks.conftest import Connected, ImageHost, image

PUBLISHING = [
    Network.x,
    Network.linkedin,
    Network.facebook,
    Network.instagram,
    Network.mastodon,
    Network.bluesky,
]
Connect = Callable[..., Connected]


def post_for(network: Network, host: ImageHost, text: str, count: int = 2) -> Post:
    """A post with `count` images and alt texts; Instagram's are public JPEG URLs."""
    images = [
        image(alt=f"Photo {n + 1} : le marché de Noël place du Beffroi", color=color)
        for n, color in zip(range(count), ["#1d4e89", "#f2a900", "#2e7d32"], strict=False)
    ]
    if network is Network.instagram:
        images = [host.public(image(alt=i.alt, kind="JPEG")) for i in images]
    return Post(text=text, images=images, link="https://www.val-de-brume.fr/noel")


@pytest.mark.parametrize("network", PUBLISHING)
def test_publish_with_images_read_back_and_delete(
    connect: Connect, image_host: ImageHost, network: Network
) -> None:
    account = connect(network)
    profile = account.adapter.verify()
    assert profile.remote_id == account.remote_id
    followers_before = account.adapter.followers()

    with clock.frozen(clock.now()) as move_to:
        started = clock.now()
        text = "Marché de Noël samedi 13 décembre, place du Beffroi ! #ValDeBrume"
        published = account.adapter.publish(
            post_for(network, image_host, text), idempotency_key="k-1"
        )
        assert published.remote_id
        assert published.url
        assert published.url.startswith("http")

        stored = account.posts()
        assert len(stored) == 1
        assert [i.alt for i in stored[0].images] == [
            "Photo 1 : le marché de Noël place du Beffroi",
            "Photo 2 : le marché de Noël place du Beffroi",
        ]
        assert "Marché de Noël" in stored[0].text
        if network is not Network.linkedin:  # LinkedIn gets the link in a card or the text
            assert "https://www.val-de-brume.fr/noel" in stored[0].text

        first = account.adapter.metrics(published.remote_id)
        move_to(started + timedelta(minutes=90))
        later = account.adapter.metrics(published.remote_id)
        assert (later.likes or 0) > (first.likes or 0)
        if network in {Network.x, Network.linkedin, Network.facebook, Network.instagram}:
            assert (later.impressions or 0) > (first.impressions or 0)

        assert account.adapter.followers() > followers_before
        recent = account.adapter.recent_posts(limit=5)
        assert recent[0].remote_id == published.remote_id
        assert "Marché de Noël" in recent[0].text

        # The sandbox shows the post as the network would, on the page its URL names.
        page = httpx.get(published.url)
        assert page.status_code == 200
        assert "Marché de Noël samedi 13 décembre" in page.text
        assert 'alt="Photo 2 : le marché de Noël place du Beffroi"' in page.text

    if network is Network.instagram:
        with pytest.raises(Unsupported, match="depuis l'application Instagram"):
            account.adapter.delete(published.remote_id)
        return
    account.adapter.delete(published.remote_id)
    assert account.posts() == []
    with pytest.raises(RemoteNotFound):
        account.adapter.metrics(published.remote_id)


@pytest.mark.parametrize(
    "network", [Network.x, Network.linkedin, Network.instagram, Network.bluesky]
)
def test_token_refresh_gives_working_credentials(connect: Connect, network: Network) -> None:
    account = connect(network)
    refreshed = account.adapter.refresh()
    assert refreshed is not None
    if network is not Network.bluesky:
        assert refreshed.credentials["access_token"] != account.grant.credentials["access_token"]
        assert refreshed.expires_at is not None
        assert refreshed.expires_at > clock.now()
    renewed = connect(network, credentials=refreshed.credentials)
    renewed.grant = account.grant
    assert renewed.adapter.verify().remote_id == account.remote_id


def test_x_refresh_tokens_are_single_use(connect: Connect) -> None:
    account = connect(Network.x)
    assert account.adapter.refresh() is not None
    with pytest.raises(AuthExpired, match="reconnecter"):
        account.adapter.refresh()


@pytest.mark.parametrize("network", [Network.facebook, Network.mastodon])
def test_tokens_that_do_not_expire_need_no_refresh(connect: Connect, network: Network) -> None:
    assert connect(network).adapter.refresh() is None


# --- every error class --------------------------------------------------------------------------


@pytest.mark.parametrize("network", PUBLISHING)
@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, AuthExpired),
        (403, Forbidden),
        (404, RemoteNotFound),
        (500, RetryableError),
        (503, RetryableError),
    ],
)
def test_error_answers_become_domain_errors(
    connect: Connect, network: Network, status: int, expected: type[NetworkError]
) -> None:
    account = connect(network)
    account.knobs(fail_next=[status])
    with pytest.raises(expected) as raised:
        account.adapter.verify()
    assert raised.value.network is network
    assert raised.value.network_message  # the network's own words are kept
    assert 400 <= raised.value.status_code < 600
    # The fault was one-shot: the next call works.
    assert account.adapter.verify().remote_id == account.remote_id


@pytest.mark.parametrize("network", PUBLISHING)
def test_rate_limit_bursts_say_when_to_come_back(connect: Connect, network: Network) -> None:
    account = connect(network)
    account.knobs(rate_limited=1, rate_limit_reset=120)
    before = clock.now()
    with pytest.raises(RateLimited) as raised:
        account.adapter.verify()
    if network is not Network.linkedin:  # LinkedIn says nothing: its limits reset at midnight
        assert timedelta(seconds=100) < raised.value.reset_at - before < timedelta(seconds=200)
    assert raised.value.extra["retry_after"] > 0
    # The error crosses a process boundary whole (pickled, as a process pool sends it back).
    again = pickle.loads(pickle.dumps(raised.value))
    assert type(again) is RateLimited
    assert (again.message, again.network, again.reset_at, again.extra) == (
        raised.value.message,
        network,
        raised.value.reset_at,
        raised.value.extra,
    )
    assert account.adapter.verify().remote_id == account.remote_id


@pytest.mark.parametrize("network", PUBLISHING)
def test_revoked_tokens_are_auth_expired(connect: Connect, network: Network) -> None:
    account = connect(network)
    account.adapter.verify()
    subject = account.remote_id
    account.sandbox.revoke(network.value, subject)
    with pytest.raises(AuthExpired) as raised:
        account.adapter.verify()
    assert "reconnecter" in raised.value.message


@pytest.mark.parametrize("network", PUBLISHING)
def test_timeouts_are_retryable_with_unknown_outcome(
    connect: Connect, image_host: ImageHost, network: Network
) -> None:
    # Long enough that the calls before the committing one (Instagram's container, the image
    # fetched from the image host) answer in time on a loaded machine.
    account = connect(network, timeout=1.5)
    account.adapter.verify()
    account.knobs(fail_after_commit=1, fail_after_commit_mode="timeout", hang=3)
    with pytest.raises(RetryableError) as raised:
        account.adapter.publish(
            post_for(network, image_host, "Coupure d'eau rue Haute", 1), idempotency_key="t-1"
        )
    assert raised.value.outcome_unknown
    # It went out all the same: reading the account back tells.
    recent = account.adapter.recent_posts(limit=5)
    assert recent
    assert recent[0].text.startswith("Coupure d'eau rue Haute")


@pytest.mark.parametrize("network", PUBLISHING)
def test_a_server_error_after_commit_is_reconciled_without_duplicate(
    connect: Connect, image_host: ImageHost, network: Network
) -> None:
    account = connect(network)
    post = post_for(network, image_host, "Conseil municipal jeudi à 19 h", 1)
    account.knobs(fail_after_commit=1)
    with pytest.raises(RetryableError) as raised:
        account.adapter.publish(post, idempotency_key="attempt-7")
    assert raised.value.outcome_unknown
    assert len(account.posts()) == 1
    if network in {Network.mastodon, Network.bluesky}:
        # The same attempt again: the network recognises its key and publishes nothing new.
        again = account.adapter.publish(post, idempotency_key="attempt-7")
        assert again.remote_id == account.posts()[0].id or again.remote_id.endswith(
            account.posts()[0].id
        )
        assert len(account.posts()) == 1
    elif network in {Network.x, Network.linkedin}:
        with pytest.raises(Duplicate) as duplicate:
            account.adapter.publish(post, idempotency_key="attempt-8")
        if network is Network.linkedin:
            assert duplicate.value.existing_id == account.posts()[0].id
        assert len(account.posts()) == 1


def test_x_duplicate_text_is_refused_with_the_networks_words(connect: Connect) -> None:
    account = connect(Network.x)
    account.adapter.publish(Post(text="Bonne année à toutes et à tous !"), idempotency_key="a")
    with pytest.raises(Duplicate) as raised:
        account.adapter.publish(Post(text="Bonne année à toutes et à tous !"), idempotency_key="b")
    assert raised.value.network_message == (
        "You are not allowed to create a Tweet with duplicate content."
    )
    assert raised.value.status_code == 422
    assert "Modifiez le texte" in raised.value.message


@pytest.mark.parametrize(
    ("network", "text"),
    [
        (Network.mastodon, "é" * 501),
        (Network.bluesky, "é" * 301),
        (Network.linkedin, "a" * 3001),
    ],
)
def test_content_the_network_refuses_is_permanent(
    connect: Connect, network: Network, text: str
) -> None:
    account = connect(network)
    with pytest.raises(PermanentError) as raised:
        account.adapter.publish(Post(text=text), idempotency_key="long")
    assert not isinstance(raised.value, RetryableError)
    assert account.posts() == []


def test_the_x_daily_quota_is_a_rate_limit(connect: Connect) -> None:
    account = connect(Network.x)
    account.knobs(daily_quota=1)
    account.adapter.publish(Post(text="Première"), idempotency_key="1")
    with pytest.raises(RateLimited) as raised:
        account.adapter.publish(Post(text="Deuxième"), idempotency_key="2")
    assert raised.value.reset_at > clock.now() + timedelta(hours=23)


# --- network specifics ----------------------------------------------------------------------------


def test_instagram_needs_public_jpeg_images_and_counts_its_quota(
    connect: Connect, image_host: ImageHost
) -> None:
    account = connect(Network.instagram)
    with pytest.raises(PermanentError, match="au moins une image"):
        account.adapter.publish(Post(text="Texte seul"), idempotency_key="a")
    with pytest.raises(PermanentError, match="adresse publique"):
        account.adapter.publish(Post(text="Sans URL", images=[image()]), idempotency_key="b")
    png = image_host.public(image(kind="PNG"))
    with pytest.raises(PermanentError) as refused:
        account.adapter.publish(Post(text="PNG", images=[png]), idempotency_key="c")
    assert "photo" in refused.value.network_message

    account.knobs(daily_quota=1)
    jpeg = image_host.public(image(kind="JPEG"))
    account.adapter.publish(Post(text="Une", images=[jpeg]), idempotency_key="d")
    with pytest.raises(RateLimited):
        account.adapter.publish(Post(text="Deux", images=[jpeg]), idempotency_key="e")
    assert len(account.posts()) == 1


def test_linkedin_escapes_reserved_characters_and_keeps_the_token_out_of_urls(
    connect: Connect,
) -> None:
    from networks.linkedin import little_text

    assert little_text("Réunion (salle B) #Travaux https://x.fr/a_b") == (
        "Réunion \\(salle B\\) #Travaux https://x.fr/a_b"
    )
    account = connect(Network.linkedin)
    account.adapter.publish(Post(text="Vœux du maire (vendredi)"), idempotency_key="a")
    assert account.posts()[0].text == "Vœux du maire \\(vendredi\\)"
    assert account.adapter.recent_posts()[0].text == "Vœux du maire (vendredi)"
    received = account.sandbox.received("linkedin", account.remote_id)
    assert received
    assert all("oauth2_access_token" not in r.query for r in received)


def test_bluesky_posts_in_french_with_facets_and_beffroi_record_keys(connect: Connect) -> None:
    from networks.bluesky import record_key

    account = connect(Network.bluesky)
    text = "Réunion à 18h : https://www.val-de-brume.fr/conseil #ConseilMunicipal"
    published = account.adapter.publish(Post(text=text), idempotency_key="pub-42-1")
    assert published.remote_id.endswith("/" + record_key("pub-42-1"))
    record = account.posts()[0].extra["record"]
    assert record["langs"] == ["fr"]
    features = {f["features"][0]["$type"]: f["index"] for f in record["facets"]}
    assert features["app.bsky.richtext.facet#link"]["byteStart"] == len("Réunion à 18h : ".encode())
    assert "app.bsky.richtext.facet#tag" in features
    assert account.adapter.recent_posts()[0].marker == record_key("pub-42-1")
    found = account.adapter.find("pub-42-1")
    assert found is not None
    assert found.remote_id == published.remote_id
    assert account.adapter.find("pub-42-2") is None


def test_bluesky_keeps_its_session_instead_of_logging_in_each_time(connect: Connect) -> None:
    account = connect(Network.bluesky)
    account.adapter.verify()
    session = account.adapter.updated_credentials()
    assert session is not None
    assert session["session"]
    again = connect(Network.bluesky, credentials=session)
    again.grant = account.grant
    again.adapter.verify()
    logins = [
        r
        for r in account.sandbox.received("bluesky", account.remote_id)
        if r.path.endswith("createSession")
    ]
    assert len(logins) == 1


def test_mastodon_sends_idempotency_key_language_and_alt_text(connect: Connect) -> None:
    account = connect(Network.mastodon)
    published = account.adapter.publish(
        Post(text="Fermeture de la médiathèque lundi", images=[image(alt="La médiathèque")]),
        idempotency_key="m-1",
    )
    stored = account.posts()[0]
    assert stored.idempotency_key == "m-1"
    assert stored.extra["language"] == "fr"
    assert stored.images[0].alt == "La médiathèque"
    assert published.url
    assert published.url.endswith(stored.id)


def test_no_secret_reaches_the_logs(
    connect: Connect, image_host: ImageHost, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = []
    for network in PUBLISHING:
        account = connect(network)
        secrets += [
            str(value)
            for key, value in account.grant.credentials.items()
            if any(word in key for word in ("token", "password", "secret"))
        ]
        account.adapter.publish(
            post_for(network, image_host, f"Test {network}", 1), idempotency_key="s"
        )
        account.adapter.refresh()
        account.knobs(fail_next=[401])
        with pytest.raises(AuthExpired) as raised:
            account.adapter.verify()
        secrets_in_error = [s for s in secrets if s in raised.value.message]
        assert not secrets_in_error
    assert caplog.records  # the libraries did log their requests…
    leaked = [s[:12] for s in secrets if s in caplog.text]
    assert not leaked  # …without the credentials


def test_the_sandbox_must_be_switched_on_for_sandbox_accounts(net_settings: object) -> None:
    from core.config import Settings

    assert isinstance(net_settings, Settings)
    off = net_settings.model_copy(update={"sandbox": False})
    with pytest.raises(registry.SandboxDisabled):
        registry.config_for(Network.x, off, sandbox=True)
