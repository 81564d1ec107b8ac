from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from beffroi.cli import app
from core.accounts.models import Account, Network
from core.authorities.models import Authority, Membership
from core.demo import DEMO_ACCOUNTS, DEMO_LOGINS, DEMO_SLUG, OPERATOR
from core.mail import service as mail
from core.mail.models import EmailStatus, OutboundEmail
from core.users.models import User
from core.workers.models import WorkerHeartbeat
from tests.conftest import TEST_SECRET, Mailbox, eventually, reload
from tests.factories import make_authority

runner = CliRunner()


@pytest.fixture
def env(database_url: str, db: Engine) -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {
        "BEFFROI_ENV": "test",
        "BEFFROI_DATABASE_URL": database_url,
        "BEFFROI_SECRET_KEY": TEST_SECRET,
        "BEFFROI_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "BEFFROI_PUBLIC_URL": "http://127.0.0.1:8000",
    }


def test_user_create_superuser_and_member(env: dict[str, str], session: Session) -> None:
    make_authority(session, slug="rodez")
    result = runner.invoke(
        app,
        [
            "user",
            "create",
            "--email",
            "op@rodez.example.org",
            "--password",
            "une phrase longue",
            "--superuser",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app,
        [
            "user",
            "create",
            "--email",
            "maire@rodez.example.org",
            "--password",
            "une phrase longue",
            "--name",
            "Maire de Rodez",
            "--authority",
            "rodez",
            "--role",
            "approver",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    session.rollback()
    operator = session.exec(select(User).where(User.email == "op@rodez.example.org")).one()
    assert operator.is_superuser
    mayor = session.exec(select(User).where(User.email == "maire@rodez.example.org")).one()
    membership = session.exec(select(Membership).where(Membership.user_id == mayor.id)).one()
    assert membership.roles == ["approver"]


def test_user_create_explains_mistakes_in_french(env: dict[str, str], session: Session) -> None:
    args = ["user", "create", "--email", "a@rodez.example.org", "--password", "une phrase longue"]
    assert runner.invoke(app, args, env=env).exit_code == 0
    again = runner.invoke(app, args, env=env)
    assert again.exit_code == 1
    assert "Une personne utilise déjà l'adresse a@rodez.example.org." in again.output
    unknown = runner.invoke(
        app,
        [
            *args[:3],
            "b@rodez.example.org",
            *args[4:],
            "--authority",
            "nulle-part",
            "--role",
            "editor",
        ],
        env=env,
    )
    assert unknown.exit_code == 1
    assert "Aucune collectivité" in unknown.output
    lonely = runner.invoke(app, [*args, "--authority", "rodez"], env=env)
    assert lonely.exit_code == 2
    short = runner.invoke(
        app, ["user", "create", "--email", "c@rodez.example.org", "--password", "court"], env=env
    )
    assert short.exit_code == 1
    assert "10 caractères" in short.output
    assert session.exec(select(User)).all()[0].email == "a@rodez.example.org"


def test_demo_is_idempotent_and_refused_in_production(
    env: dict[str, str], session: Session
) -> None:
    development = {**env, "BEFFROI_ENV": "development"}
    first = runner.invoke(app, ["demo"], env=development)
    assert first.exit_code == 0, first.output
    assert "Mot de passe de tous les comptes" in first.output
    for login in DEMO_LOGINS:
        assert login.email in first.output
    second = runner.invoke(app, ["demo"], env=development)
    assert second.exit_code == 0
    assert len(session.exec(select(Authority).where(Authority.slug == DEMO_SLUG)).all()) == 1
    assert len(session.exec(select(User)).all()) == len(DEMO_LOGINS) + 1
    demo_accounts = session.exec(select(Account)).all()
    assert len(demo_accounts) == len(DEMO_ACCOUNTS)
    # Every network account of the demo is a sandbox account, ready to publish.
    for account in demo_accounts:
        if account.network == "manual":
            assert account.assignee_id is not None
        else:
            assert account.sandbox
            assert account.credentials_encrypted
            assert account.remote_id
    operator = session.exec(select(User).where(User.email == OPERATOR.email)).one()
    assert operator.is_superuser

    production = runner.invoke(app, ["demo"], env={**env, "BEFFROI_ENV": "production"})
    assert production.exit_code == 1
    assert "refusée en production" in production.output


def test_commands_refuse_weak_settings_and_stale_schemas(
    env: dict[str, str], tmp_path: Path
) -> None:
    weak = runner.invoke(app, ["db", "upgrade"], env={**env, "BEFFROI_SECRET_KEY": "changeme"})
    assert weak.exit_code == 2
    assert "Configuration refusée" in weak.output
    empty = {**env, "BEFFROI_DATABASE_URL": f"sqlite:///{tmp_path / 'vide.db'}"}
    stale = runner.invoke(app, ["serve"], env=empty)
    assert stale.exit_code == 1
    assert "beffroi db upgrade" in stale.output
    upgraded = runner.invoke(app, ["db", "upgrade"], env=empty)
    assert upgraded.exit_code == 0
    assert "à jour" in upgraded.output


def test_worker_runs_beats_delivers_mail_and_stops_on_sigterm(
    env: dict[str, str], session: Session, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    mail.enqueue(
        session,
        to="x@rodez.example.org",
        template="membership_added",
        context={
            "authority": "Rodez",
            "inviter": "Ana",
            "roles": [],
            "name": "X",
            "link": "http://127.0.0.1:8000/login",
        },
    )
    session.commit()
    status = runner.invoke(app, ["worker", "--status"], env=env)
    assert status.exit_code == 1
    assert "Aucun worker actif." in status.output

    worker_env = {
        **os.environ,
        **env,
        "BEFFROI_SMTP_HOST": "127.0.0.1",
        "BEFFROI_SMTP_PORT": str(port),
        "BEFFROI_SMTP_SECURITY": "none",
    }
    process = subprocess.Popen([sys.executable, "-m", "beffroi", "worker"], env=worker_env)
    try:
        assert mailbox.wait_for(1, timeout=30)[0]["To"] == "x@rodez.example.org"

        def beating() -> bool:
            session.rollback()
            return session.exec(select(WorkerHeartbeat)).first() is not None

        eventually(beating, timeout=30)
        status = runner.invoke(app, ["worker", "--status"], env=env)
        assert status.exit_code == 0
        assert f":{process.pid}\tworker" in status.output
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    session.rollback()
    assert session.exec(select(WorkerHeartbeat)).all() == []
    email = session.exec(select(OutboundEmail)).one()
    reload(session, email)
    assert email.status == EmailStatus.sent


def test_the_module_runs_as_a_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "beffroi", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    for command in ("serve", "api", "worker", "demo", "db", "user", "sandbox", "keys"):
        assert command in result.stdout


def test_sandbox_serves_the_networks_standalone() -> None:
    import httpx

    from tests.conftest import free_port

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "beffroi", "sandbox", "--port", str(port)],
        env={**os.environ, "BEFFROI_ENV": "development"},
    )
    try:

        def answering() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/").status_code == 200
            except httpx.HTTPError:
                return False

        eventually(answering, timeout=30)
        assert "Comptes du bac à sable" in httpx.get(f"http://127.0.0.1:{port}/").text
        instance = httpx.get(f"http://127.0.0.1:{port}/mastodon/api/v2/instance/").json()
        assert instance["version"] == "4.3.0"
        stylesheet = httpx.get(f"http://127.0.0.1:{port}/static/css/sandbox.css")
        assert stylesheet.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_keys_rotate_reencrypts_credentials_with_the_new_key(
    env: dict[str, str], session: Session
) -> None:
    from cryptography.fernet import Fernet

    from core import crypto
    from core.config import Settings
    from networks.sandbox.provision import provision
    from tests.factories import make_account

    old = env["BEFFROI_ENCRYPTION_KEY"]
    current = Settings(_env_file=None, env="test", secret_key=TEST_SECRET, encryption_key=old)  # type: ignore[call-arg]
    authority = make_authority(session)
    for network in (Network.x, Network.bluesky):
        grant = provision(current, network, name="Val-de-Brume")
        make_account(
            session,
            authority,
            network=network,
            credentials_encrypted=crypto.encrypt(current, grant.credentials),
        )
    new = Fernet.generate_key().decode()
    rotated = runner.invoke(
        app, ["keys", "--rotate"], env={**env, "BEFFROI_ENCRYPTION_KEY": f"{new},{old}"}
    )
    assert rotated.exit_code == 0, rotated.output
    assert "rechiffré" in rotated.output
    only_new = Settings(_env_file=None, env="test", secret_key=TEST_SECRET, encryption_key=new)  # type: ignore[call-arg]
    session.rollback()
    stored = session.exec(select(Account)).all()
    assert len(stored) == 2
    for account in stored:
        assert crypto.decrypt(only_new, account.credentials_encrypted or "")
    wrong = runner.invoke(
        app,
        ["keys", "--rotate"],
        env={**env, "BEFFROI_ENCRYPTION_KEY": Fernet.generate_key().decode()},
    )
    assert wrong.exit_code == 1
    assert "ancienne clé" in wrong.output
