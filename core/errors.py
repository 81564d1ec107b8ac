"""Domain errors: each carries its HTTP status and a French sentence for the person who sees it.

The sentence is a template (`str.format` with named fields) so that the pages can translate the
template and then fill it in; the API always answers in French (DESIGN.md section 9).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.i18n import N_


class AppError(Exception):
    status_code: int = 400
    code: str = "bad_request"
    detail: str = N_("La demande n'a pas pu être traitée.")

    def __init__(
        self,
        detail: str | None = None,
        /,
        *,
        extra: dict[str, Any] | None = None,
        status_code: int | None = None,
        code: str | None = None,
        **params: Any,
    ) -> None:
        if detail is not None:
            self.detail = detail
        if status_code is not None:
            self.status_code = status_code
        if code is not None:
            self.code = code
        self.params = params
        # Machine-readable details added to the JSON answer beside "error" and "detail".
        self.extra = extra or {}
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return self.detail.format(**self.params) if self.params else self.detail

    def translated(self, gettext: Callable[[str], str]) -> str:
        template = gettext(self.detail)
        return template.format(**self.params) if self.params else template

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from its state rather than from its arguments, which leave out the keyword-only
        # ones: an error raised in another process (a pool's worker) reaches the caller whole.
        return (_rebuilt, (type(self), self.args), self.__dict__)


def _rebuilt(cls: type[AppError], args: tuple[Any, ...]) -> AppError:
    error = cls.__new__(cls)
    error.args = args
    return error


class InvalidInput(AppError):
    status_code = 422
    code = "invalid"
    detail = N_("Les données envoyées ne sont pas valides.")


class Unauthenticated(AppError):
    status_code = 401
    code = "unauthenticated"
    detail = N_(
        "Authentification requise : connectez-vous, ou envoyez un jeton d'accès dans l'en-tête "
        "« Authorization: Bearer … »."
    )


class PermissionDenied(AppError):
    status_code = 403
    code = "forbidden"
    detail = N_("Votre rôle ne permet pas cette action.")


class NotFound(AppError):
    status_code = 404
    code = "not_found"
    detail = N_("Cette ressource n'existe pas ou vous n'y avez pas accès.")


class Conflict(AppError):
    status_code = 409
    code = "conflict"
    detail = N_("Cette action est en conflit avec l'état actuel.")


class Gone(AppError):
    status_code = 410
    code = "gone"
    detail = N_("Ce lien n'est plus valable.")


class TooManyRequests(AppError):
    status_code = 429
    code = "too_many_requests"
    detail = N_("Trop de demandes : patientez un instant avant de réessayer.")

    def __init__(self, detail: str | None = None, /, *, retry_after: int, **params: Any) -> None:
        super().__init__(detail, extra={"retry_after": retry_after}, **params)
        self.retry_after = retry_after
