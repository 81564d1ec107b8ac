from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image
from sqlmodel import Session

from core import clock, rules
from core.accounts.models import Network
from core.config import Settings
from core.posts.models import Post, PostMedia, PostStatus
from core.rules import RulesFailed
from tests.factories import (
    make_account,
    make_authority,
    make_election,
    make_media,
    make_pillar,
    make_post,
    make_published,
)

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _codes(findings: list[rules.Finding]) -> list[tuple[str, str, int | None]]:
    return [(x.code, x.severity.value, x.account_id) for x in findings]


def test_findings_per_target(session: Session, settings: Settings) -> None:
    town = make_authority(session)
    x = make_account(session, town, network=Network.x)
    mastodon = make_account(session, town, network=Network.mastodon)
    instagram = make_account(session, town, network=Network.instagram)
    post = make_post(
        session,
        town,
        targets=[x, mastodon, instagram],
        text="é" * 290 + " #conseilmunicipal",
        scheduled_at=datetime(2026, 12, 3, 11, 0, tzinfo=UTC),
    )
    with clock.frozen(NOW):
        found = rules.check_post(session, settings, post)
    assert _codes(found) == [
        ("text_length", "error", x.id),
        ("media_image_required", "error", instagram.id),
        ("hashtag_camelcase", "warning", None),
    ]
    assert found[0].figure == "308 / 280"
    assert found[1].message == (
        "Instagram ne publie pas de texte seul : ajoutez au moins une image."
    )


def test_per_target_text_and_images_without_alt_text(session: Session, settings: Settings) -> None:
    town = make_authority(session)
    bluesky = make_account(session, town, network=Network.bluesky)
    manual = make_account(session, town, network=Network.manual)
    post = make_post(session, town, targets=[bluesky, manual], text="Court.")
    media = make_media(session, settings, town, image=Image.new("RGB", (1200, 800), "white"))
    media.alt_text = " "
    session.add(media)
    session.add(PostMedia(post_id=post.id, media_id=media.id))  # type: ignore[arg-type]
    publication = next(p for p in _publications(session, post) if p.account_id == bluesky.id)
    publication.text = "a" * 301
    session.add(publication)
    session.commit()
    found = rules.check_post(session, settings, post)
    assert sorted(_codes(found), key=str) == sorted(
        [
            ("text_length", "error", bluesky.id),
            ("media_alt_text", "error", bluesky.id),
            ("media_alt_text", "error", manual.id),
        ],
        key=str,
    )


def _publications(session: Session, post: Post) -> list:  # type: ignore[type-arg]
    from sqlmodel import select

    from core.posts.models import Publication

    return list(session.exec(select(Publication).where(Publication.post_id == post.id)))


def test_time_in_the_past_and_no_target(session: Session, settings: Settings) -> None:
    town = make_authority(session)
    post = make_post(session, town, scheduled_at=NOW - timedelta(minutes=5))
    with clock.frozen(NOW):
        found = rules.check_post(session, settings, post)
    assert _codes(found) == [("no_target", "error", None), ("time_past", "error", None)]


def test_ambiguous_autumn_time_is_said(session: Session, settings: Settings) -> None:
    town = make_authority(session)
    account = make_account(session, town)
    post = make_post(
        session, town, targets=[account], scheduled_at=datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    )
    with clock.frozen(datetime(2026, 10, 1, tzinfo=UTC)):
        found = rules.check_post(session, settings, post)
    assert _codes(found) == [("ambiguous_time", "warning", None)]


def test_daily_quota_default_and_override(session: Session, settings: Settings) -> None:
    town = make_authority(session)
    x = make_account(session, town, network=Network.x)
    strict = make_account(session, town, network=Network.mastodon, daily_quota=2)
    day = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    for n in range(17):
        make_post(
            session,
            town,
            targets=[x],
            scheduled_at=day + timedelta(minutes=n),
            status=PostStatus.approved if n % 2 else PostStatus.in_review,
        )
    # The strict account's posts of the day are drafts: over its quota only with them.
    make_post(session, town, targets=[strict], scheduled_at=day)
    make_post(session, town, targets=[strict], scheduled_at=day, status=PostStatus.cancelled)
    # The day is the authority's local day: 23:30 UTC on the 2nd is the 3rd in Paris.
    make_post(
        session, town, targets=[strict], scheduled_at=datetime(2026, 12, 2, 23, 30, tzinfo=UTC)
    )
    make_post(
        session, town, targets=[strict], scheduled_at=datetime(2026, 12, 3, 23, 30, tzinfo=UTC)
    )
    post = make_post(session, town, targets=[x, strict], scheduled_at=day + timedelta(hours=5))
    with clock.frozen(NOW):
        found = rules.check_post(session, settings, post)
    assert _codes(found) == [
        ("daily_quota", "error", x.id),
        ("daily_quota_drafts", "warning", strict.id),
    ]
    assert [x.figure for x in found] == ["18 / 17", "3 / 2"]
    assert found[0].message.endswith(
        "aurait 18 publications le 3 décembre 2026, pour 17 au plus par jour : choisissez un "
        "autre jour."
    )
    assert found[1].message.endswith(
        "aurait 3 publications le 3 décembre 2026 avec les brouillons prévus ce jour-là, pour 2 "
        "au plus par jour : certains devront changer de jour."
    )

    # Another post of the day submitted for approval: with it, the posts on their way out reach
    # the quota without passing it; with the drafts, the day is further over.
    draft = make_post(session, town, targets=[strict], scheduled_at=day + timedelta(hours=1))
    draft.status = PostStatus.in_review
    session.add(draft)
    session.commit()
    with clock.frozen(NOW):
        found = rules.check_post(session, settings, post)
    assert _codes(found) == [
        ("daily_quota", "error", x.id),
        ("daily_quota_drafts", "warning", strict.id),
    ]
    assert [x.figure for x in found] == ["18 / 17", "4 / 2"]


@pytest.fixture
def election_town(session: Session):  # type: ignore[no-untyped-def]
    town = make_authority(session)
    # Municipal elections on 14 and 21 March 2027: the period starts 1 September 2026.
    make_election(session, town, first_round=date(2027, 3, 14), second_round=date(2027, 3, 21))
    return town


def test_pre_electoral_period_first_and_last_day(
    session: Session,
    settings: Settings,
    election_town,  # type: ignore[no-untyped-def]
) -> None:
    account = make_account(session, election_town, created_at=datetime(2025, 1, 1, tzinfo=UTC))
    for n in range(120):  # about 2.3 a week in the twelve months before: no regularity warning
        make_published(
            session,
            election_town,
            targets=[account],
            at=datetime(2025, 9, 1, 10, tzinfo=UTC) + timedelta(days=3 * n),
        )
    before = datetime(2026, 8, 31, 21, 59, tzinfo=UTC)  # 31 August 23:59 in Paris
    first = datetime(2026, 8, 31, 22, 0, tzinfo=UTC)  # 1 September 00:00
    last = datetime(2027, 3, 21, 18, 59, tzinfo=UTC)  # 21 March 19:59
    after = datetime(2027, 3, 21, 19, 0, tzinfo=UTC)  # polls closed
    with clock.frozen(datetime(2026, 8, 1, tzinfo=UTC)):
        codes = {
            when: [
                x.code
                for x in rules.check_post(
                    session,
                    settings,
                    make_post(
                        session,
                        election_town,
                        targets=[account],
                        scheduled_at=when,
                        pillar_id=make_pillar(session, election_town, urgent=True).id,
                    ),
                )
            ]
            for when in (before, first, last, after)
        }
    assert codes[before] == []
    assert codes[first] == ["pre_electoral_period"]
    # The last day is also a round: the silence window, but the pillar is urgent.
    assert codes[last] == ["pre_electoral_period"]
    assert codes[after] == []


def test_achievements_need_an_acknowledgement_at_approval(
    session: Session,
    settings: Settings,
    election_town,  # type: ignore[no-untyped-def]
) -> None:
    account = make_account(session, election_town, created_at=datetime(2025, 1, 1, tzinfo=UTC))
    for n in range(60):
        make_published(
            session,
            election_town,
            targets=[account],
            at=datetime(2025, 9, 1, 10, tzinfo=UTC) + timedelta(days=6 * n),
        )
    pillar = make_pillar(session, election_town, promotes_achievements=True, name="Réalisations")
    post = make_post(
        session,
        election_town,
        targets=[account],
        pillar_id=pillar.id,
        scheduled_at=datetime(2026, 11, 10, 10, tzinfo=UTC),
    )
    with clock.frozen(NOW - timedelta(days=30)):
        warnings = rules.enforce(session, settings, post, stage="submit", acknowledged=set())
        assert [(x.code, x.acknowledgeable) for x in warnings] == [
            ("pre_electoral_period", False),
            ("pre_electoral_achievements", True),
        ]
        with pytest.raises(RulesFailed) as refused:
            rules.enforce(session, settings, post, stage="approve", acknowledged=set())
        assert refused.value.status_code == 422
        assert refused.value.code == "rules_failed"
        assert refused.value.extra["blocking"] == ["pre_electoral_achievements"]
        assert [x["code"] for x in refused.value.extra["findings"]] == [
            "pre_electoral_period",
            "pre_electoral_achievements",
        ]
        assert "Réalisations" in refused.value.extra["findings"][1]["message"]
        rules.enforce(
            session, settings, post, stage="approve", acknowledged={"pre_electoral_achievements"}
        )


def test_errors_block_submission(session: Session, settings: Settings) -> None:
    town = make_authority(session)
    x = make_account(session, town, network=Network.x)
    post = make_post(session, town, targets=[x], text="a" * 281)
    with pytest.raises(RulesFailed) as refused:
        rules.enforce(session, settings, post, stage="submit", acknowledged={"text_length"})
    assert refused.value.extra["blocking"] == ["text_length"]
    assert refused.value.extra["findings"][0] == {
        "code": "text_length",
        "severity": "error",
        "message": "281 caractères sur 280 pour X : raccourcissez le texte de 1 caractères.",
        "figure": "281 / 280",
        "account_id": x.id,
        "acknowledgeable": False,
    }


def test_silence_window_only_urgent_pillars(
    session: Session,
    settings: Settings,
    election_town,  # type: ignore[no-untyped-def]
) -> None:
    account = make_account(session, election_town, created_at=datetime(2025, 1, 1, tzinfo=UTC))
    urgent = make_pillar(session, election_town, urgent=True)
    normal = make_pillar(session, election_town)
    eve_midnight = datetime(2027, 3, 12, 23, 0, tzinfo=UTC)  # 13 March 00:00 in Paris
    just_before = eve_midnight - timedelta(minutes=1)
    with clock.frozen(NOW):

        def codes(when: datetime, pillar_id: int | None) -> list[str]:
            post = make_post(
                session, election_town, targets=[account], scheduled_at=when, pillar_id=pillar_id
            )
            return [x.code for x in rules.check_post(session, settings, post)]

        assert "silence_window" in codes(eve_midnight, normal.id)
        assert "silence_window" in codes(eve_midnight, None)
        assert "silence_window" not in codes(eve_midnight, urgent.id)
        assert "silence_window" not in codes(just_before, normal.id)
        polls_closed = datetime(2027, 3, 14, 19, 0, tzinfo=UTC)
        assert "silence_window" not in codes(polls_closed, normal.id)
        post = make_post(
            session,
            election_town,
            targets=[account],
            scheduled_at=eve_midnight,
            pillar_id=normal.id,
        )
        (silence,) = [
            x for x in rules.check_post(session, settings, post) if x.code == "silence_window"
        ]
    assert silence.message == (
        "Du 13 mars 2027 à 00:00 au 14 mars 2027 à 20:00 (veille et jour du scrutin), seules les "
        "publications d'une thématique urgente peuvent partir (art. L49 du code électoral) : "
        "programmez-la après 20:00 le 14 mars 2027."
    )


def test_regularity_and_new_accounts_in_the_period(
    session: Session,
    settings: Settings,
    election_town,  # type: ignore[no-untyped-def]
) -> None:
    old = make_account(session, election_town, created_at=datetime(2025, 1, 1, tzinfo=UTC))
    new = make_account(session, election_town, created_at=datetime(2026, 10, 1, tzinfo=UTC))
    # 104 posts in the twelve months before 1 September 2026: 2 a week on average.
    start = datetime(2025, 9, 1, 8, tzinfo=UTC)
    for n in range(104):
        make_published(
            session,
            election_town,
            targets=[old],
            at=start + timedelta(hours=84 * n),
        )
    week = datetime(2026, 11, 9, 9, tzinfo=UTC)  # a Monday
    make_post(session, election_town, targets=[old], scheduled_at=week)
    post = make_post(session, election_town, targets=[old], scheduled_at=week + timedelta(days=2))
    with clock.frozen(NOW - timedelta(days=30)):
        assert "regularity" not in [x.code for x in rules.check_post(session, settings, post)]
        # A third post that week: 3 > 2 × 120 %.
        third = make_post(
            session, election_town, targets=[old, new], scheduled_at=week + timedelta(days=4)
        )
        found = rules.check_post(session, settings, third)
    by_code = {(x.code, x.account_id): x for x in found}
    regularity = by_code[("regularity", old.id)]
    assert regularity.figure == "3 / 2,0"
    assert ("new_account_in_period", new.id) in by_code
    assert ("new_account_in_period", old.id) not in by_code
