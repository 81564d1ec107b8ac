"""The editorial line: mission and tone, objectives, audiences, pillars, campaigns, elections.
Every member reads it; administrators write it."""

# No `from __future__ import annotations` here: the handlers built by `_add_items` take their
# body schema and their item dependency from the factory's arguments, so FastAPI must see
# evaluated annotations, not names it would look up in this module.

from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel
from sqlmodel import Session, SQLModel

from api.deps import AdminDep, MemberDep, SessionDep
from core.editorial import schemas
from core.editorial import service as editorial
from core.editorial.models import Audience, Campaign, Election, Objective, Pillar
from core.validation import MAX_ID

router = APIRouter(prefix="/api/v1", tags=["ligne éditoriale"])

M = TypeVar("M", bound=SQLModel)


@router.get("/authorities/{slug}/editorial-line", response_model=schemas.EditorialLineRead)
def read_line(session: SessionDep, member: MemberDep) -> schemas.EditorialLineRead:
    return editorial.read_line(session, authority=member.authority)


@router.put("/authorities/{slug}/editorial-line", response_model=schemas.EditorialLineRead)
def write_line(
    data: schemas.EditorialLineWrite, session: SessionDep, member: AdminDep
) -> schemas.EditorialLineRead:
    """Remplace la ligne éditoriale : mission, charte de ton, vouvoiement ou tutoiement, usage
    des émojis, mots-dièse (sans « # »), et à quoi sert chaque réseau (`network_roles`)."""
    return editorial.write_line(session, authority=member.authority, data=data, by=member.user)


def _as_stored(_session: Session, items: Sequence[M]) -> Sequence[Any]:
    return items


def _add_items(
    model: type[M],
    *,
    plural: str,
    singular: str,
    read: type[BaseModel],
    create: type[BaseModel],
    update: type[BaseModel],
    present: Callable[[Session, Sequence[M]], Sequence[Any]] = _as_stored,
    create_doc: str | None = None,
    delete_doc: str | None = None,
) -> None:
    """Adds list, create, read, update and delete of one kind of editorial item to `router`,
    under `/authorities/{slug}/{plural}[/{singular}_id]`, with the operation names the handlers
    had when each was written by hand (`list_objectives`, `create_objective`, …).

    `present` turns stored rows into what the API answers (pillars add their approvers)."""
    collection = f"/authorities/{{slug}}/{plural}"
    id_name = f"{singular}_id"
    one = f"{collection}/{{{id_name}}}"

    # The path keeps its own name (`objective_id`, …); an id beyond 32 bits names nothing (422).
    ItemId = Annotated[int, Path(alias=id_name, ge=1, le=MAX_ID)]

    def get_item(session: SessionDep, member: MemberDep, item_id: ItemId) -> M:
        # Resolved before role checks and body validation: another authority's id is unknown.
        return editorial.get_item(session, model, authority=member.authority, item_id=item_id)

    def list_items(session: SessionDep, member: MemberDep) -> Sequence[Any]:
        return present(session, editorial.list_items(session, model, authority=member.authority))

    def create_item(data: create, session: SessionDep, member: AdminDep) -> Any:  # type: ignore[valid-type]
        item = editorial.create_item(session, model, authority=member.authority, data=data)
        return present(session, [item])[0]

    def read_item(item: Annotated[M, Depends(get_item)], session: SessionDep) -> Any:
        return present(session, [item])[0]

    def update_item(
        item: Annotated[M, Depends(get_item)],
        data: update,  # type: ignore[valid-type]
        session: SessionDep,
        member: AdminDep,
    ) -> Any:
        item = editorial.update_item(session, item, authority=member.authority, data=data)
        return present(session, [item])[0]

    def delete_item(
        item: Annotated[M, Depends(get_item)], session: SessionDep, member: AdminDep
    ) -> Response:
        editorial.delete_item(session, item, authority=member.authority)
        return Response(status_code=204)

    router.add_api_route(
        collection,
        list_items,
        methods=["GET"],
        response_model=list[read],  # type: ignore[valid-type]
        name=f"list_{plural}",
    )
    router.add_api_route(
        collection,
        create_item,
        methods=["POST"],
        status_code=201,
        response_model=read,
        name=f"create_{singular}",
        description=create_doc,
    )
    router.add_api_route(
        one, read_item, methods=["GET"], response_model=read, name=f"read_{singular}"
    )
    router.add_api_route(
        one, update_item, methods=["PATCH"], response_model=read, name=f"update_{singular}"
    )
    router.add_api_route(
        one,
        delete_item,
        methods=["DELETE"],
        status_code=204,
        name=f"delete_{singular}",
        description=delete_doc,
    )


_add_items(
    Objective,
    plural="objectives",
    singular="objective",
    read=schemas.ObjectiveRead,
    create=schemas.ObjectiveCreate,
    update=schemas.ObjectiveUpdate,
    create_doc="Un objectif avec son indicateur : métrique, valeur cible et période.",
    delete_doc="Refusé (409) si des publications ou des campagnes s'en servent : "
    "désactivez-le alors.",
)
_add_items(
    Audience,
    plural="audiences",
    singular="audience",
    read=schemas.AudienceRead,
    create=schemas.AudienceCreate,
    update=schemas.AudienceUpdate,
)
_add_items(
    Pillar,
    plural="pillars",
    singular="pillar",
    read=schemas.PillarRead,
    create=schemas.PillarCreate,
    update=schemas.PillarUpdate,
    present=editorial.pillars_read,
    create_doc="Une thématique : couleur, part cible du mix mensuel en % (les parts des "
    "thématiques actives ne dépassent pas 100 %), élu·es valideurs désignés, drapeau `urgent` "
    "(alertes).",
    delete_doc="Refusé (409) si des publications s'en servent : désactivez-la alors "
    "(`active: false`).",
)
_add_items(
    Campaign,
    plural="campaigns",
    singular="campaign",
    read=schemas.CampaignRead,
    create=schemas.CampaignCreate,
    update=schemas.CampaignUpdate,
)
_add_items(
    Election,
    plural="elections",
    singular="election",
    read=schemas.ElectionRead,
    create=schemas.ElectionCreate,
    update=schemas.ElectionUpdate,
    create_doc="Une élection qui concerne la collectivité : elle déclenche la période "
    "pré-électorale (art. L52-1 du code électoral) et les fenêtres de silence avant chaque tour "
    "(art. L49).",
)
