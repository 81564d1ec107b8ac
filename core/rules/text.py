"""Text length counted the way each network counts it, and the hashtag rules.

Sources: shared/reference/networks.md, section 8 of each network.
- X: twitter-text's weighted length (config v3: most Latin and punctuation count 1, CJK and emoji
  count 2, every URL counts 23, NFC first), through the `twitter-text-parser` package.
- Mastodon: grapheme clusters, every URL as 23, a remote mention `@user@domain` as `@user`; the
  limit is the instance's (500 by default).
- Bluesky: 300 grapheme clusters (URLs count in full) and 3 000 bytes.
- LinkedIn: 3 000 characters of the "little" text format, after escaping its reserved characters
  (the same escaping as `networks.linkedin.little_text`).
- Instagram: 2 200 characters, 30 hashtags, 20 mentions. Facebook: 63 206 characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import regex
from twitter_text import parse_tweet

from core.accounts.models import Network
from core.i18n import N_
from core.rules import findings as f
from core.rules.findings import Finding

URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]'»]")
REMOTE_MENTION = re.compile(r"(?<![\w@])(@\w+)@[\w.-]+\w")
HASHTAG = re.compile(r"(?<![\w&#])#(\w+)")
MENTION = re.compile(r"(?<![\w.@])@([\w.]+\w|\w)")
GRAPHEME = regex.compile(r"\X")

# LinkedIn's "little" text format (see networks.linkedin).
LINKEDIN_RESERVED = re.compile(r"([\\|{}@\[\]()<>#*_~])")
LINKEDIN_KEEP = re.compile(r"https?://\S+|(?<!\w)#\w+")

MASTODON_DEFAULT_LIMIT = 500
MASTODON_URL_LENGTH = 23
X_LIMIT = 280
BLUESKY_LIMIT = 300
BLUESKY_MAX_BYTES = 3000
LINKEDIN_LIMIT = 3000
INSTAGRAM_LIMIT = 2200
INSTAGRAM_MAX_HASHTAGS = 30
INSTAGRAM_MAX_MENTIONS = 20
FACEBOOK_LIMIT = 63_206


def graphemes(text: str) -> int:
    return len(GRAPHEME.findall(text))


def x_length(text: str) -> int:
    return int(parse_tweet(text).weightedLength)


def mastodon_length(text: str) -> int:
    text = REMOTE_MENTION.sub(r"\1", text)
    urls = URL.findall(text)
    return graphemes(URL.sub("", text)) + MASTODON_URL_LENGTH * len(urls)


def linkedin_little_text(text: str) -> str:
    out, last = [], 0
    for match in LINKEDIN_KEEP.finditer(text):
        out.append(LINKEDIN_RESERVED.sub(r"\\\1", text[last : match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(LINKEDIN_RESERVED.sub(r"\\\1", text[last:]))
    return "".join(out)


def linkedin_length(text: str) -> int:
    return len(linkedin_little_text(text))


def hashtags(text: str) -> list[str]:
    return HASHTAG.findall(text)


def mentions(text: str) -> list[str]:
    return MENTION.findall(text)


@dataclass(frozen=True)
class Count:
    value: int
    limit: int


def count(network: Network, text: str, *, instance_limit: int | None = None) -> Count | None:
    """The length of `text` on `network` as the network counts it; None for manual channels."""
    if network is Network.x:
        return Count(x_length(text), X_LIMIT)
    if network is Network.mastodon:
        return Count(mastodon_length(text), instance_limit or MASTODON_DEFAULT_LIMIT)
    if network is Network.bluesky:
        return Count(graphemes(text), BLUESKY_LIMIT)
    if network is Network.linkedin:
        return Count(linkedin_length(text), LINKEDIN_LIMIT)
    if network is Network.instagram:
        return Count(len(text), INSTAGRAM_LIMIT)
    if network is Network.facebook:
        return Count(len(text), FACEBOOK_LIMIT)
    return None


def check_text(
    network: Network, text: str, *, account_id: int | None, instance_limit: int | None = None
) -> list[Finding]:
    found: list[Finding] = []
    measured = count(network, text, instance_limit=instance_limit)
    if measured is not None and measured.value > measured.limit:
        found.append(
            f.error(
                "text_length",
                N_(
                    "{count} caractères sur {limit} pour {network} : raccourcissez le texte de "
                    "{over} caractères."
                ),
                figure=f"{measured.value} / {measured.limit}",
                account_id=account_id,
                count=measured.value,
                limit=measured.limit,
                network=network.label,
                over=measured.value - measured.limit,
            )
        )
    if network is Network.bluesky:
        size = len(text.encode("utf-8"))
        if size > BLUESKY_MAX_BYTES:
            found.append(
                f.error(
                    "text_bytes",
                    N_("{size} octets sur {limit} pour Bluesky : raccourcissez le texte."),
                    figure=f"{size} / {BLUESKY_MAX_BYTES}",
                    account_id=account_id,
                    size=size,
                    limit=BLUESKY_MAX_BYTES,
                )
            )
    if network is Network.instagram:
        found += _instagram_counts(text, account_id)
    return found


def _instagram_counts(text: str, account_id: int | None) -> list[Finding]:
    found = []
    tags = len(hashtags(text))
    if tags > INSTAGRAM_MAX_HASHTAGS:
        found.append(
            f.error(
                "instagram_hashtags",
                N_("{count} hashtags sur {limit} pour Instagram : retirez-en {over}."),
                figure=f"{tags} / {INSTAGRAM_MAX_HASHTAGS}",
                account_id=account_id,
                count=tags,
                limit=INSTAGRAM_MAX_HASHTAGS,
                over=tags - INSTAGRAM_MAX_HASHTAGS,
            )
        )
    people = len(mentions(text))
    if people > INSTAGRAM_MAX_MENTIONS:
        found.append(
            f.error(
                "instagram_mentions",
                N_("{count} mentions (@) sur {limit} pour Instagram : retirez-en {over}."),
                figure=f"{people} / {INSTAGRAM_MAX_MENTIONS}",
                account_id=account_id,
                count=people,
                limit=INSTAGRAM_MAX_MENTIONS,
                over=people - INSTAGRAM_MAX_MENTIONS,
            )
        )
    return found


# A hashtag of this many letters or more, all lower case (or all capitals), is most likely several
# words run together: screen readers read it as one unknown word.
CAMELCASE_MIN_LETTERS = 10


def check_hashtags(
    text: str, *, known: Iterable[str] = (), account_id: int | None = None
) -> list[Finding]:
    """Hashtags not written in CamelCase (#ConseilMunicipal), a warning for accessibility. The
    editorial line's hashtags give the right spelling when they match."""
    spelled = {tag.lower(): tag for tag in known}
    found: list[Finding] = []
    for tag in dict.fromkeys(hashtags(text)):
        right = spelled.get(tag.lower())
        if right is not None and right != tag:
            suggestion = right
        elif (
            right is None
            and len(tag) >= CAMELCASE_MIN_LETTERS
            and tag.isalpha()
            and (tag.islower() or tag.isupper())
        ):
            suggestion = None
        else:
            continue
        found.append(_camelcase_warning(tag, suggestion, account_id))
    return found


def _camelcase_warning(tag: str, suggestion: str | None, account_id: int | None) -> Finding:
    if suggestion:
        return f.warning(
            "hashtag_camelcase",
            N_(
                "Écrivez #{suggestion} plutôt que #{tag} : une majuscule à chaque mot permet aux "
                "lecteurs d'écran de lire le hashtag."
            ),
            account_id=account_id,
            tag=tag,
            suggestion=suggestion,
        )
    return f.warning(
        "hashtag_camelcase",
        N_(
            "Le hashtag #{tag} n'est pas écrit en CamelCase : mettez une majuscule à chaque mot "
            "(#ConseilMunicipal) pour que les lecteurs d'écran puissent le lire."
        ),
        account_id=account_id,
        tag=tag,
    )
