from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from api.deps import CurrentUserDep, PathId, SessionDep, SettingsDep
from core.errors import AppError
from core.users import service as users
from core.users.models import Me, TokenIssued, TokenKind, TokenRead

router = APIRouter(prefix="/api/v1", tags=["authentification"])


@router.post("/auth/token", response_model=TokenIssued)
def issue_token(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=254, description="Adresse électronique")],
    password: Annotated[str, Form(max_length=1024)],
    name: Annotated[str, Form(max_length=200, description="Nom du jeton, pour s'y retrouver")] = "",
) -> TokenIssued:
    """Échange une adresse et un mot de passe contre un jeton d'accès (« Bearer »).

    Après plusieurs échecs pour une même adresse ou depuis une même machine, les tentatives sont
    ralenties puis bloquées un moment (429, avec l'en-tête Retry-After)."""
    ip = request.client.host if request.client else "unknown"
    try:
        user = users.authenticate(
            session,
            email=username,
            password=password,
            ip=ip,
            policy=users.ThrottlePolicy.from_settings(settings),
        )
    except AppError:
        session.commit()  # the failure must be kept: it counts for throttling
        raise
    raw, token = users.issue_token(
        session,
        user=user,
        kind=TokenKind.api,
        ttl=timedelta(days=settings.api_token_ttl_days),
        name=name or "API",
    )
    return TokenIssued(access_token=raw, expires_at=token.expires_at, id=token.id)


@router.get("/me", response_model=Me)
def me(session: SessionDep, user: CurrentUserDep) -> Me:
    """La personne connectée, ses collectivités et ses rôles dans chacune."""
    return users.me(session, user=user)


@router.get("/me/tokens", response_model=list[TokenRead])
def list_tokens(session: SessionDep, user: CurrentUserDep) -> list[TokenRead]:
    """Les jetons d'accès de la personne connectée, y compris révoqués ou expirés récemment."""
    return [
        TokenRead.model_validate(t, from_attributes=True)
        for t in users.list_tokens(session, user=user)
    ]


@router.delete("/me/tokens/{token_id}", status_code=204)
def revoke_token(session: SessionDep, user: CurrentUserDep, token_id: PathId) -> Response:
    """Révoque un jeton : il cesse aussitôt de fonctionner."""
    users.revoke_token(session, user=user, token_id=token_id)
    return Response(status_code=204)
