"""The one clock of the domain: timezone-aware UTC, and replaceable in tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_source: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    return _source()


@contextmanager
def frozen(at: datetime) -> Iterator[Callable[[datetime], None]]:
    """Freeze `now()` at `at`; the yielded function moves the frozen clock."""
    global _source
    if at.tzinfo is None:
        raise ValueError("frozen() needs a timezone-aware datetime")
    current = [at.astimezone(UTC)]
    previous = _source
    _source = lambda: current[0]  # noqa: E731

    def move_to(moment: datetime) -> None:
        current[0] = moment.astimezone(UTC)

    try:
        yield move_to
    finally:
        _source = previous
