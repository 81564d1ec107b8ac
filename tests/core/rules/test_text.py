from __future__ import annotations

import pytest

from core.accounts.models import Network
from core.rules import text
from networks.linkedin import little_text

URL = "https://www.mairie-exemple.fr/actualites/2026/travaux-de-la-rue-jean-jaures-phase-2"


@pytest.mark.parametrize(
    ("body", "weighted"),
    [
        ("é" * 280, 280),  # accented Latin counts 1
        ("😀" * 140, 280),  # an emoji counts 2
        ("👨‍👩‍👧" * 140, 280),  # a ZWJ family sequence is one emoji: 2
        ("市役所" * 46 + "市役", 280),  # CJK counts 2
        ("Lire " + URL, 5 + 23),  # every URL counts 23
    ],
)
def test_x_weighted_length(body: str, weighted: int) -> None:
    assert text.x_length(body) == weighted


def test_x_at_the_limit_passes_and_one_more_fails() -> None:
    assert text.check_text(Network.x, "é" * 280, account_id=1) == []
    (finding,) = text.check_text(Network.x, "é" * 279 + "😀", account_id=1)
    assert finding.code == "text_length"
    assert finding.figure == "281 / 280"
    assert finding.message == (
        "281 caractères sur 280 pour X : raccourcissez le texte de 1 caractères."
    )
    assert finding.account_id == 1


def test_mastodon_counts_graphemes_urls_as_23_and_remote_mentions_short() -> None:
    assert text.mastodon_length("e\u0301" * 10) == 10  # combining accents: one grapheme each
    assert text.mastodon_length("🇫🇷") == 1
    assert text.mastodon_length("Voir " + URL) == 5 + 23
    assert text.mastodon_length("Merci @mairie@piaille.fr !") == len("Merci @mairie !")
    body = "é" * 477 + " " + URL  # 478 + 23 = 501
    assert text.check_text(Network.mastodon, "é" * 476 + " " + URL, account_id=2) == []
    (finding,) = text.check_text(Network.mastodon, body, account_id=2)
    assert finding.figure == "501 / 500"
    # The instance's own limit.
    assert text.check_text(Network.mastodon, body, account_id=2, instance_limit=1000) == []
    (short,) = text.check_text(Network.mastodon, "a" * 11, account_id=2, instance_limit=10)
    assert short.figure == "11 / 10"


def test_bluesky_counts_300_graphemes_urls_in_full() -> None:
    assert text.check_text(Network.bluesky, "👍🏽" * 300, account_id=3) == []
    (finding,) = text.check_text(Network.bluesky, "é" * 301, account_id=3)
    assert finding.figure == "301 / 300"
    assert text.count(Network.bluesky, URL).value == len(URL)  # type: ignore[union-attr]


def test_linkedin_counts_after_escaping_like_the_adapter() -> None:
    body = "Réunion (salle B) : *ordre du jour* #ConseilMunicipal " + URL + " @mairie"
    assert text.linkedin_little_text(body) == little_text(body)
    assert text.linkedin_length("(a)") == 5
    assert text.check_text(Network.linkedin, "a" * 2998 + "()", account_id=4) != []
    assert text.check_text(Network.linkedin, "a" * 2998 + "é!", account_id=4) == []


def test_instagram_caption_hashtags_and_mentions() -> None:
    tags = " ".join(f"#Mot{i}" for i in range(30))
    assert text.check_text(Network.instagram, tags, account_id=5) == []
    (too_many,) = text.check_text(Network.instagram, tags + " #Encore", account_id=5)
    assert (too_many.code, too_many.figure) == ("instagram_hashtags", "31 / 30")
    people = " ".join(f"@compte{i}" for i in range(21))
    (mentions,) = text.check_text(Network.instagram, people, account_id=5)
    assert (mentions.code, mentions.figure) == ("instagram_mentions", "21 / 20")
    (long,) = text.check_text(Network.instagram, "é" * 2201, account_id=5)
    assert long.figure == "2201 / 2200"


def test_facebook_and_manual_channels() -> None:
    assert text.check_text(Network.facebook, "a" * 63_206, account_id=6) == []
    assert text.check_text(Network.facebook, "a" * 63_207, account_id=6)[0].figure == (
        "63207 / 63206"
    )
    assert text.check_text(Network.manual, "a" * 100_000, account_id=7) == []


def test_hashtags_not_in_camelcase_are_warned() -> None:
    found = text.check_hashtags(
        "#conseilmunicipal ce soir, #Culture, #travaux, #FETEDELAMUSIQUE et #brest2026",
        known=["ConseilMunicipal"],
    )
    assert [(x.code, x.severity.value, x.params["tag"]) for x in found] == [
        ("hashtag_camelcase", "warning", "conseilmunicipal"),
        ("hashtag_camelcase", "warning", "FETEDELAMUSIQUE"),
    ]
    assert found[0].message.startswith("Écrivez #ConseilMunicipal plutôt que #conseilmunicipal")
    assert text.check_hashtags("#ConseilMunicipal #Culture") == []
