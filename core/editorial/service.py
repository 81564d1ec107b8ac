"""The editorial line of an authority: its mission and tone, objectives, audiences, pillars (with
their designated approvers and shares of the mix), campaigns and elections."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Session, SQLModel, col, select

from core import clock
from core.authorities import service as authorities
from core.authorities.models import Authority, Role
from core.editorial import schemas
from core.editorial.models import (
    Audience,
    Campaign,
    EditorialLine,
    Election,
    Objective,
    Pillar,
    PillarApprover,
)
from core.errors import Conflict, InvalidInput, NotFound
from core.i18n import N_
from core.posts.models import Post, PostAudience, PostObjective
from core.tenancy import for_authority
from core.users.models import User

T = TypeVar("T", bound=SQLModel)

NOT_FOUND = {
    Objective: N_("Cet objectif n'existe pas dans cette collectivité."),
    Audience: N_("Cette cible n'existe pas dans cette collectivité."),
    Pillar: N_("Cette thématique n'existe pas dans cette collectivité."),
    Campaign: N_("Cette campagne n'existe pas dans cette collectivité."),
    Election: N_("Cette élection n'existe pas dans cette collectivité."),
}


# --- the line itself ----------------------------------------------------------------------------


def line_of(session: Session, *, authority: Authority) -> EditorialLine | None:
    return session.exec(for_authority(select(EditorialLine), _id(authority))).first()


def read_line(session: Session, *, authority: Authority) -> schemas.EditorialLineRead:
    line = line_of(session, authority=authority)
    if line is None:
        return schemas.EditorialLineRead()
    return schemas.EditorialLineRead.model_validate(line, from_attributes=True)


def write_line(
    session: Session, *, authority: Authority, data: schemas.EditorialLineWrite, by: User
) -> schemas.EditorialLineRead:
    line = line_of(session, authority=authority) or EditorialLine(authority_id=_id(authority))
    values = data.model_dump(mode="json")
    for field, value in values.items():
        setattr(line, field, value)
    line.updated_at = clock.now()
    line.updated_by_id = by.id
    session.add(line)
    session.flush()
    return schemas.EditorialLineRead.model_validate(line, from_attributes=True)


# --- the lists: objectives, audiences, pillars, campaigns, elections ---------------------------


def list_items(session: Session, model: type[T], *, authority: Authority) -> list[T]:
    stmt = for_authority(select(model), _id(authority)).order_by(col(model.id))  # type: ignore[attr-defined]
    return list(session.exec(stmt))


def get_item(session: Session, model: type[T], *, authority: Authority, item_id: int) -> T:
    stmt = for_authority(select(model), _id(authority)).where(model.id == item_id)  # type: ignore[attr-defined]
    item = session.exec(stmt).first()
    if item is None:
        raise NotFound(NOT_FOUND.get(model, NotFound.detail))
    return item


def create_item(session: Session, model: type[T], *, authority: Authority, data: BaseModel) -> T:
    values = data.model_dump(exclude={"approver_ids"})
    item = model(authority_id=_id(authority), **values)
    _check(session, item, authority=authority, exclude_id=None)
    session.add(item)
    session.flush()
    if isinstance(item, Pillar):
        set_approvers(session, authority=authority, pillar=item, user_ids=data.approver_ids)  # type: ignore[attr-defined]
    return item


def update_item(session: Session, item: T, *, authority: Authority, data: BaseModel) -> T:
    values = data.model_dump(exclude_unset=True, exclude={"approver_ids"})
    nullable = {"description", "objective_id", "second_round"}
    for field, value in values.items():
        if value is None and field not in nullable:
            continue
        if value is None and field == "description":
            value = ""
        setattr(item, field, value)
    with session.no_autoflush:  # check before the changed row is written
        _check(session, item, authority=authority, exclude_id=item.id)  # type: ignore[attr-defined]
    session.add(item)
    approver_ids = getattr(data, "approver_ids", None)
    if isinstance(item, Pillar) and approver_ids is not None:
        set_approvers(session, authority=authority, pillar=item, user_ids=approver_ids)
    session.flush()
    return item


def delete_item(session: Session, item: SQLModel, *, authority: Authority) -> None:
    used = _posts_using(session, item, authority=authority)
    if used:
        raise Conflict(_IN_USE.get(type(item), _IN_USE[Objective]), count=used)
    if isinstance(item, Objective):
        campaigns = session.exec(
            for_authority(select(Campaign), _id(authority)).where(Campaign.objective_id == item.id)
        ).all()
        if campaigns:
            raise Conflict(
                N_(
                    "Cet objectif est celui de {count} campagne(s) : changez d'abord leur "
                    "objectif, ou désactivez-le (« active »: false) pour le garder dans "
                    "l'historique."
                ),
                count=len(campaigns),
            )
    session.delete(item)
    session.flush()


_IN_USE: dict[type[SQLModel], str] = {
    Objective: N_(
        "Cet objectif sert à {count} publication(s) : il ne peut pas être supprimé. "
        "Désactivez-le plutôt (« active »: false) : il reste dans l'historique et les bilans."
    ),
    Audience: N_(
        "Cette cible est associée à {count} publication(s) : elle ne peut pas être supprimée. "
        "Retirez-la d'abord de ces publications, ou gardez-la pour les bilans."
    ),
    Pillar: N_(
        "Cette thématique sert à {count} publication(s) : elle ne peut pas être supprimée. "
        "Désactivez-la plutôt (« active »: false) : elle reste dans l'historique et les bilans."
    ),
    Campaign: N_(
        "Cette campagne regroupe {count} publication(s) : elle ne peut pas être supprimée. "
        "Retirez-les d'abord de la campagne, ou gardez-la pour les bilans."
    ),
}


def _posts_using(session: Session, item: SQLModel, *, authority: Authority) -> int:
    stmt: Any
    if isinstance(item, Pillar):
        stmt = select(sa.func.count(col(Post.id))).where(
            Post.authority_id == _id(authority), Post.pillar_id == item.id
        )
    elif isinstance(item, Campaign):
        stmt = select(sa.func.count(col(Post.id))).where(
            Post.authority_id == _id(authority), Post.campaign_id == item.id
        )
    elif isinstance(item, Objective):
        stmt = select(sa.func.count()).where(PostObjective.objective_id == item.id)
    elif isinstance(item, Audience):
        stmt = select(sa.func.count()).where(PostAudience.audience_id == item.id)
    else:
        return 0
    return int(session.exec(stmt).one())


def _check(
    session: Session, item: SQLModel, *, authority: Authority, exclude_id: int | None
) -> None:
    if isinstance(item, Pillar) and item.active:
        _check_shares(session, authority=authority, share=item.target_share, exclude_id=exclude_id)
    if isinstance(item, Campaign):
        if item.ends_on < item.starts_on:
            raise InvalidInput(
                N_("La campagne doit finir le jour où elle commence ou après."),
                extra={"field": "ends_on"},
            )
        if item.objective_id is not None:
            get_item(session, Objective, authority=authority, item_id=item.objective_id)
    if (
        isinstance(item, Election)
        and item.second_round is not None
        and item.second_round <= item.first_round
    ):
        raise InvalidInput(
            N_("Le second tour doit avoir lieu après le premier."),
            extra={"field": "second_round"},
        )


def _check_shares(
    session: Session, *, authority: Authority, share: int, exclude_id: int | None
) -> None:
    stmt = select(sa.func.coalesce(sa.func.sum(Pillar.target_share), 0)).where(
        Pillar.authority_id == _id(authority), col(Pillar.active)
    )
    if exclude_id is not None:
        stmt = stmt.where(Pillar.id != exclude_id)
    others = int(session.exec(stmt).one())
    if others + share > 100:
        raise InvalidInput(
            N_(
                "Les parts des thématiques actives dépasseraient 100 % ({total} %) : les autres "
                "thématiques actives en prennent déjà {others} %. Indiquez au plus {left} %, ou "
                "réduisez d'abord la part d'une autre thématique."
            ),
            total=others + share,
            others=others,
            left=100 - others,
            code="shares_over_100",
            extra={"field": "target_share", "available": 100 - others},
        )


# --- designated approvers -----------------------------------------------------------------------


def approver_ids(session: Session, *, pillar_ids: Sequence[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {pid: [] for pid in pillar_ids}
    if not pillar_ids:
        return found
    rows = session.exec(
        select(PillarApprover)
        .where(col(PillarApprover.pillar_id).in_(pillar_ids))
        .order_by(col(PillarApprover.user_id))
    )
    for row in rows:
        found[row.pillar_id].append(row.user_id)
    return found


def set_approvers(
    session: Session, *, authority: Authority, pillar: Pillar, user_ids: Sequence[int]
) -> None:
    wanted = sorted(set(user_ids))
    approvers = {
        u.id
        for u in authorities.members_with_role(
            session, authority_id=_id(authority), role=Role.approver
        )
    }
    wrong = [uid for uid in wanted if uid not in approvers]
    if wrong:
        raise InvalidInput(
            N_(
                "Les valideurs désignés doivent être des membres de la collectivité ayant le rôle "
                "d'élu·e (voir GET …/members) ; ce n'est pas le cas de : {ids}."
            ),
            ids=", ".join(str(uid) for uid in wrong),
            extra={"field": "approver_ids", "invalid": wrong},
        )
    session.execute(sa.delete(PillarApprover).where(col(PillarApprover.pillar_id) == pillar.id))
    for uid in wanted:
        session.add(
            PillarApprover(pillar_id=pillar.id, user_id=uid, authority_id=_id(authority))  # type: ignore[arg-type]
        )
    session.flush()


def pillar_read(session: Session, pillar: Pillar) -> schemas.PillarRead:
    ids = approver_ids(session, pillar_ids=[pillar.id])[pillar.id]  # type: ignore[list-item,index]
    return schemas.PillarRead.model_validate({**pillar.model_dump(), "approver_ids": ids})


def pillars_read(session: Session, pillars: Sequence[Pillar]) -> list[schemas.PillarRead]:
    ids = approver_ids(session, pillar_ids=[p.id for p in pillars if p.id is not None])
    return [
        schemas.PillarRead.model_validate({**p.model_dump(), "approver_ids": ids[p.id]})  # type: ignore[index]
        for p in pillars
    ]


def _id(authority: Authority) -> int:
    assert authority.id is not None
    return authority.id
