"""The one place where tenant isolation is written: every query on tenant data goes through here.

Every tenant table carries an `authority_id` column, so the filter is the same everywhere.
"""

from __future__ import annotations

from typing import Any, Protocol, Self, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, select

from core.errors import NotFound


class _Filterable(Protocol):
    @property
    def column_descriptions(self) -> Any: ...

    def where(self, *whereclause: Any) -> Self: ...


S = TypeVar("S", bound=_Filterable)
M = TypeVar("M")


def for_authority(stmt: S, authority_id: int | sa.BindParameter[int]) -> S:
    """Restrict `stmt` to the rows of one authority (the first selected entity's rows).
    `authority_id` may be a bind parameter, for a statement built once and run many times."""
    entity = stmt.column_descriptions[0]["entity"]
    column = getattr(entity, "authority_id", None)
    if column is None:
        raise TypeError(f"{entity!r} is not tenant data: it has no authority_id column")
    return stmt.where(column == authority_id)


def get_for_authority(session: Session, model: type[M], id: int, authority_id: int) -> M:
    """One row of an authority by id, or NotFound (also when it belongs to another authority)."""
    stmt = for_authority(select(model).where(model.id == id), authority_id)  # type: ignore[attr-defined]
    row = session.exec(stmt).first()
    if row is None:
        raise NotFound()
    return row
