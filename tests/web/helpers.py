from __future__ import annotations

import html
import re
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import PASSWORD


def csrf_of(client: TestClient, path: str = "/login") -> str:
    page = client.get(path)
    match = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page.text)
    assert match, page.text
    return match.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> None:
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def text_of(page: str) -> str:
    """The visible text of a page, tags removed and entities decoded, spaces collapsed."""
    without_tags = re.sub(r"<[^>]+>", " ", page)
    return " ".join(html.unescape(without_tags).split())


def sign_in_browser(page: Any, live_server: str, email: str, next_path: str = "/") -> None:
    """Sign in through the login page in Chromium and land on `next_path`."""
    query = f"?next={next_path}" if next_path != "/" else ""
    page.goto(f"{live_server}/login{query}")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server}{next_path}")


def watch_errors(page: Any) -> list[str]:
    """The page's script errors and CSP violations, collected as they happen. A refused action
    answers 4xx, which the console reports as a failed resource: that is not a script error."""
    errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text
            else None
        ),
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors
