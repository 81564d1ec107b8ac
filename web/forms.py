"""Small helpers for the administration pages' forms: the form's fields described once (label,
kind, choices), read from the submitted form into a dict a pydantic schema validates, and the
schema's errors said in French with the field's label rather than its code name."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from pydantic import ValidationError
from starlette.datastructures import FormData

from api.errors import french_error

Choices = Callable[[], Sequence[tuple[str, str]]]


@dataclass(frozen=True)
class Field:
    """One field of a form. `kind`: text, textarea, number, color, date, time, checkbox, select
    (one of `choices`, empty allowed unless required) or multi (several of `choices`)."""

    name: str
    label: str
    kind: str = "text"
    required: bool = False
    hint: str | None = None
    choices: Choices | None = None
    # A number or a date may be left empty: None then, not an error.
    optional_none: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


async def form_of(request: Request) -> FormData:
    """The submitted form (FastAPI caches it: the CSRF dependency reads the same one)."""
    return await request.form()


def read(form: FormData, fields: Iterable[Field]) -> dict[str, Any]:
    """The submitted values, as the schema expects them; what is typed is kept as typed."""
    values: dict[str, Any] = {}
    for f in fields:
        if f.kind == "checkbox":
            values[f.name] = f.name in form
        elif f.kind == "multi":
            values[f.name] = [str(v) for v in form.getlist(f.name)]
        else:
            raw = form.get(f.name)
            text = raw.strip() if isinstance(raw, str) else ""
            values[f.name] = (
                None if (text == "" and (f.optional_none or f.kind == "select")) else text
            )
    return values


def errors_of(
    exc: ValidationError, fields: Iterable[Field], gettext: Callable[[str], str]
) -> list[str]:
    labels = {f.name: gettext(f.label) for f in fields}
    messages = []
    for err in exc.errors():
        detail = french_error(dict(err))["detail"]
        for name, label in labels.items():
            detail = detail.replace(f"« {name} »", f"« {label} »")
        messages.append(detail)
    return messages


def for_template(fields: Iterable[Field], gettext: Callable[[str], str]) -> list[dict[str, Any]]:
    return [
        {
            "name": f.name,
            "label": gettext(f.label),
            "kind": f.kind,
            "required": f.required,
            "hint": gettext(f.hint) if f.hint else None,
            "choices": [(value, gettext(label)) for value, label in f.choices()]
            if f.choices
            else [],
            **f.extra,
        }
        for f in fields
    ]
