"""E-mails rendered from templates in the recipient's language: `emails/<name>.txt` holds the
subject (first line) and the text; `emails/<name>.html`, when it exists, the HTML version."""

from __future__ import annotations

from typing import Any

from jinja2 import TemplateNotFound

from core.mail.service import RenderedEmail
from web.templating import environment


def render_email(template: str, context: dict[str, Any], locale: str) -> RenderedEmail:
    text = environment(locale, autoescape=False).get_template(f"emails/{template}.txt")
    subject, _, body = text.render(context).strip().partition("\n")
    try:
        html_template = environment(locale).get_template(f"emails/{template}.html")
    except TemplateNotFound:
        html = None
    else:
        html = html_template.render({**context, "subject": subject.strip()})
    return RenderedEmail(subject=subject.strip(), text=body.strip() + "\n", html=html)
