"""One place that turns every failure into an answer: JSON for the API, a page for the browser.

JSON errors look like `{"error": "<code>", "detail": "<French sentence>", ...}`. A caller's mistake
is always a 4xx with a sentence that says what to do; a 500 means a bug, logged with its trace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import AppError, InvalidInput

log = logging.getLogger(__name__)

HtmlRenderer = Callable[[Request, AppError], Response]

_PLAIN_STATUS = {
    400: ("bad_request", "La demande est mal formée."),
    401: ("unauthenticated", "Authentification requise."),
    403: ("forbidden", "Cette action ne vous est pas permise."),
    404: ("not_found", "Cette adresse n'existe pas."),
    405: ("method_not_allowed", "Cette méthode n'est pas permise à cette adresse."),
    413: ("too_large", "Le contenu envoyé est trop volumineux."),
    415: ("unsupported_media_type", "Ce type de contenu n'est pas accepté à cette adresse."),
}


class ServiceUnavailable(AppError):
    status_code = 503
    code = "unavailable"
    detail = (
        "La base de données est momentanément indisponible ou occupée. Réessayez dans un instant."
    )


class InternalError(AppError):
    status_code = 500
    code = "internal"
    detail = (
        "Une erreur inattendue s'est produite ; elle a été enregistrée pour l'équipe technique. "
        "Réessayez dans un instant."
    )


def wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path in {"/healthz", "/readyz", "/metrics", "/openapi.json"}


def json_error(error: AppError, headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": error.code, "detail": error.message, **error.extra}
    headers = dict(headers or {})
    if error.status_code == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    retry_after = error.extra.get("retry_after")
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(body, status_code=error.status_code, headers=headers)


def install(app: FastAPI, *, html: HtmlRenderer | None = None) -> None:
    def respond(request: Request, error: AppError) -> Response:
        if html is not None and not wants_json(request):
            return html(request, error)
        return json_error(error)

    @app.exception_handler(AppError)
    def _app_error(request: Request, exc: AppError) -> Response:
        return respond(request, exc)

    @app.exception_handler(RequestValidationError)
    def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [french_error(err) for err in exc.errors()]
        detail = errors[0]["detail"] if errors else None
        return respond(request, InvalidInput(detail, extra={"errors": errors}))

    @app.exception_handler(StarletteHTTPException)
    def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code, detail = _PLAIN_STATUS.get(exc.status_code, ("error", "La demande n'a pas abouti."))
        response = respond(request, AppError(detail, status_code=exc.status_code, code=code))
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(OperationalError)
    def _database(request: Request, exc: OperationalError) -> Response:
        log.warning("Database unavailable while serving %s: %s", request.url.path, exc)
        response = respond(request, ServiceUnavailable(extra={"retry_after": 2}))
        response.headers["Retry-After"] = "2"
        return response

    @app.exception_handler(Exception)
    def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("Unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return respond(request, InternalError())

    document(app)


ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "description": "Code de l'erreur, stable."},
        "detail": {"type": "string", "description": "Phrase en français : quoi faire."},
    },
    "additionalProperties": True,
}


def document(app: FastAPI) -> None:
    """Describe in /openapi.json the errors the API really answers: `{"error", "detail", ...}`
    for every 4xx (FastAPI documents its own 422 shape, which this API never sends)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["Error"] = ERROR_SCHEMA
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        answer = {
            "description": "Erreur de l'appelant, expliquée en français.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)
                responses["4XX"] = answer
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


# --- French sentences for pydantic's validation errors -------------------------------------------

_MESSAGES: dict[str, str] = {
    "missing": "Le champ « {field} » est obligatoire.",
    "string_type": "Le champ « {field} » doit être un texte.",
    "string_too_short": "Le champ « {field} » doit faire au moins {min_length} caractère(s).",
    "string_too_long": "Le champ « {field} » doit faire au plus {max_length} caractères.",
    "string_pattern_mismatch": "Le champ « {field} » n'a pas la forme attendue.",
    "int_type": "Le champ « {field} » doit être un nombre entier.",
    "int_parsing": "Le champ « {field} » doit être un nombre entier.",
    "int_from_float": "Le champ « {field} » doit être un nombre entier.",
    "float_type": "Le champ « {field} » doit être un nombre.",
    "float_parsing": "Le champ « {field} » doit être un nombre.",
    "decimal_parsing": "Le champ « {field} » doit être un nombre.",
    "bool_type": "Le champ « {field} » doit valoir true ou false.",
    "bool_parsing": "Le champ « {field} » doit valoir true ou false.",
    "enum": "Le champ « {field} » doit valoir l'une de ces valeurs : {expected}.",
    "literal_error": "Le champ « {field} » doit valoir l'une de ces valeurs : {expected}.",
    "datetime_type": (
        "Le champ « {field} » doit être une date et une heure, par exemple "
        "« 2026-12-03T12:15:00+01:00 »."
    ),
    "datetime_parsing": (
        "Le champ « {field} » doit être une date et une heure, par exemple "
        "« 2026-12-03T12:15:00+01:00 »."
    ),
    "datetime_from_date_parsing": (
        "Le champ « {field} » doit être une date et une heure, par exemple "
        "« 2026-12-03T12:15:00+01:00 »."
    ),
    "date_type": "Le champ « {field} » doit être une date, par exemple « 2026-12-03 ».",
    "date_parsing": "Le champ « {field} » doit être une date, par exemple « 2026-12-03 ».",
    "date_from_datetime_parsing": (
        "Le champ « {field} » doit être une date, par exemple « 2026-12-03 »."
    ),
    "time_parsing": "Le champ « {field} » doit être une heure, par exemple « 12:15 ».",
    "greater_than": "Le champ « {field} » doit être supérieur à {gt}.",
    "greater_than_equal": "Le champ « {field} » doit être supérieur ou égal à {ge}.",
    "less_than": "Le champ « {field} » doit être inférieur à {lt}.",
    "less_than_equal": "Le champ « {field} » doit être inférieur ou égal à {le}.",
    "list_type": "Le champ « {field} » doit être une liste.",
    "too_short": "Le champ « {field} » doit contenir au moins {min_length} élément(s).",
    "too_long": "Le champ « {field} » doit contenir au plus {max_length} éléments.",
    "dict_type": "Le champ « {field} » doit être un objet JSON.",
    "model_type": "Le champ « {field} » doit être un objet JSON.",
    "model_attributes_type": "Le champ « {field} » doit être un objet JSON.",
    "extra_forbidden": "Le champ « {field} » n'est pas attendu.",
    "url_parsing": "Le champ « {field} » doit être une adresse web complète (https://…).",
    "url_scheme": "Le champ « {field} » doit être une adresse web en http ou https.",
    "uuid_parsing": "Le champ « {field} » doit être un identifiant UUID.",
    "json_invalid": "Le corps de la requête n'est pas du JSON valide.",
    "json_type": "Le corps de la requête doit être du JSON.",
    "string_unicode": "Le champ « {field} » contient des caractères illisibles.",
    "union_tag_invalid": "Le champ « {field} » n'a pas une valeur attendue.",
}
_LOCATION_NAMES = {"body", "query", "path", "header", "cookie", "form"}


def french_error(err: dict[str, Any]) -> dict[str, Any]:
    loc: Sequence[Any] = err.get("loc", ())
    parts = [str(p) for p in loc if not (p in _LOCATION_NAMES and p == loc[0])]
    field = ".".join(parts) or "corps de la requête"
    kind = err.get("type", "")
    ctx = dict(err.get("ctx") or {})
    if kind == "value_error" and "error" in ctx:
        detail = str(ctx["error"])
        prefix = f"« {field} » : " if parts and not detail.startswith("Le champ") else ""
        detail = f"{prefix}{detail}"
    elif kind == "missing" and not parts:
        detail = "Le corps de la requête est vide : envoyez un objet JSON."
    else:
        template = _MESSAGES.get(kind, "Le champ « {field} » n'est pas valide.")
        if "expected" in ctx:
            ctx["expected"] = str(ctx["expected"]).replace(" or ", " ou ")
        try:
            detail = template.format(field=field, **ctx)
        except (KeyError, IndexError):
            detail = f"Le champ « {field} » n'est pas valide."
    return {"field": field, "detail": detail, "type": kind}
