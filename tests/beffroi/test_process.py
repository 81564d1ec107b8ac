"""The heap freezing of served processes: it must not change what they answer."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlmodel import Session
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from beffroi.process import YOUNG_THRESHOLD, FreezeAfterWarmUp
from core.accounts.models import Network
from tests.factories import make_account, make_authority


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    thresholds = gc.get_threshold()
    yield
    # The test process keeps collecting everything, as usual.
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_the_heap_is_frozen_once_after_the_warm_up_requests(unfrozen: None) -> None:
    async def hello(_request: object) -> PlainTextResponse:
        return PlainTextResponse("bonjour")

    app = FreezeAfterWarmUp(Starlette(routes=[Route("/", hello)]), after=3)
    with TestClient(app) as client:
        for _ in range(2):
            assert client.get("/").text == "bonjour"
        assert gc.get_freeze_count() == 0
        assert client.get("/").text == "bonjour"
        frozen = gc.get_freeze_count()
        assert frozen > 0
        gc.unfreeze()
        # Once only: later requests leave the collector alone.
        for _ in range(5):
            assert client.get("/").text == "bonjour"
        assert gc.get_freeze_count() == 0


def test_a_served_process_loads_the_holiday_tables_then_freezes_and_collects_less_often(
    unfrozen: None,
) -> None:
    from beffroi.process import freeze_startup_heap
    from core.calendar import holidays

    holidays._public_year.cache_clear()
    holidays._school.cache_clear()
    freeze_startup_heap(serving=True)
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD
    assert holidays._public_year.cache_info().currsize == 2
    assert holidays._school.cache_info().currsize == 1
    assert any(name.startswith("holidays.countries.") for name in sys.modules)


def test_a_publishing_process_loads_the_libraries_of_the_networks_in_use(
    session: Session, database_url: str
) -> None:
    authority = make_authority(session)
    make_account(session, authority, network=Network.mastodon)
    make_account(session, authority, network=Network.manual)
    session.commit()
    # In a fresh interpreter: this test process has imported every adapter already.
    script = (
        "import sys\n"
        "from beffroi.process import preload_networks\n"
        f"preload_networks({database_url!r})\n"
        "print('networks.mastodon' in sys.modules, 'networks.bluesky' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == ["True", "False"]
