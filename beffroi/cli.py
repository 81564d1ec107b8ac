"""The `beffroi` command. Every sub-command reads the BEFFROI_* settings, so one
BEFFROI_DATABASE_URL points them all at the same database."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer
from pydantic import ValidationError

from core.authorities.models import Role
from core.config import Settings

app = typer.Typer(
    help="Beffroi : ligne éditoriale et publication des collectivités.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Base de données.", no_args_is_help=True)
user_app = typer.Typer(help="Comptes des personnes.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def load_settings() -> Settings:
    try:
        settings = Settings()
    except ValidationError as exc:
        messages = [str(err.get("ctx", {}).get("error") or err["msg"]) for err in exc.errors()]
        raise fail("Configuration refusée :\n- " + "\n- ".join(messages), code=2) from None
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Each run of a periodic job and each schema check would otherwise write a line.
    for noisy in ("apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    return settings


def require_current_schema(settings: Settings) -> None:
    from core import migrations
    from core.db import make_engine

    engine = make_engine(settings.database_url)
    try:
        current = migrations.current_revision(engine)
    except Exception as exc:
        raise fail(f"La base de données ne répond pas ({settings.database_url}) : {exc}") from None
    finally:
        engine.dispose()
    if current != migrations.head_revision():
        raise fail("Le schéma de la base n'est pas à jour : lancez d'abord « beffroi db upgrade ».")


def _serve(settings: Settings, *, host: str, port: int, run_scheduler: bool) -> None:
    import uvicorn

    from beffroi.app import create_app
    from beffroi.process import FreezeAfterWarmUp, freeze_startup_heap, preload_networks

    require_current_schema(settings)
    if settings.sandbox and settings.sandbox_url is None:
        # This process serves the sandboxes: call them where it listens, not through a proxy.
        local = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host
        settings = settings.model_copy(update={"sandbox_url": f"http://{local}:{port}/sandbox"})
    application = create_app(settings, run_scheduler=run_scheduler)
    typer.echo(
        f"Beffroi est servi sur http://{host}:{port} (adresse publique : {settings.public_url})."
    )
    if run_scheduler:
        preload_networks(settings.database_url)
    freeze_startup_heap(serving=True)
    uvicorn.run(
        FreezeAfterWarmUp(application), host=host, port=port, proxy_headers=True, log_level="info"
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Adresse d'écoute.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port d'écoute.")] = 8000,
) -> None:
    """Un seul processus : API, pages et publication (le mode d'une commune, sur SQLite)."""
    _serve(load_settings(), host=host, port=port, run_scheduler=True)


@app.command()
def api(
    host: Annotated[str, typer.Option(help="Adresse d'écoute.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port d'écoute.")] = 8000,
) -> None:
    """L'API et les pages, sans publication : lancez aussi un ou plusieurs « beffroi worker »."""
    _serve(load_settings(), host=host, port=port, run_scheduler=False)


@app.command()
def worker(
    status: Annotated[
        bool, typer.Option("--status", help="Afficher les workers actifs et quitter.")
    ] = False,
) -> None:
    """Le worker : publication à l'heure et tâches périodiques (e-mails, jetons, entretien) ;
    lancez-en autant que nécessaire."""
    from beffroi.process import freeze_startup_heap, preload_networks
    from core.db import make_engine, session_scope
    from core.mail import service as mail
    from core.publishing import service as publishing
    from core.workers import service as workers
    from scheduler import jobs
    from scheduler.worker import run_worker
    from web.emails import render_email

    settings = load_settings()
    if status:
        engine = make_engine(settings.database_url)
        with session_scope(engine) as session:
            alive = workers.alive(session)
            figures = publishing.queue_figures(session)
        typer.echo(
            f"File de publication : {figures.due} à envoyer, {figures.in_flight} en cours, "
            f"{figures.late} en retard, {figures.failed} en échec, "
            f"{figures.waiting_manual} en attente d'une personne (canal manuel), "
            f"{figures.paused_accounts} compte(s) limité(s) par leur réseau."
        )
        if figures.next_due_at is not None:
            typer.echo(f"Prochaine échéance : {figures.next_due_at.isoformat()}")
        if not alive:
            raise fail("Aucun worker actif.")
        for heartbeat in alive:
            typer.echo(
                f"{heartbeat.name}\t{heartbeat.mode}\tdémarré {heartbeat.started_at.isoformat()}"
                f"\tvu {heartbeat.seen_at.isoformat()}"
            )
        return
    require_current_schema(settings)
    engine = make_engine(settings.database_url)
    runtime = jobs.Runtime(
        settings=settings,
        engine=engine,
        sender=mail.sender_for(settings),
        render=render_email,
        mode="worker",
    )
    preload_networks(settings.database_url)
    freeze_startup_heap(serving=False)
    run_worker(runtime)


@app.command()
def demo() -> None:
    """Crée (ou complète) la collectivité de démonstration et affiche comment se connecter."""
    from core import demo as demo_data
    from core.authorities.models import ROLE_LABELS
    from core.db import make_engine, session_scope

    settings = load_settings()
    if settings.env == "production":
        raise fail(
            "La démonstration crée des comptes aux mots de passe connus : elle est refusée en "
            "production (BEFFROI_ENV=production)."
        )
    require_current_schema(settings)
    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        logins = demo_data.seed(session, settings)
    typer.echo("")
    typer.echo(f"Démonstration prête : ouvrez {settings.public_url}/login")
    typer.echo(f"Mot de passe de tous les comptes : {demo_data.DEMO_PASSWORD}")
    for login in logins:
        roles = ", ".join(ROLE_LABELS[role] for role in login.roles)
        typer.echo(f"  {login.email:<45} {roles or 'Opérateur de la plateforme'}")
    typer.echo("")


@app.command()
def sandbox(
    host: Annotated[str, typer.Option(help="Adresse d'écoute.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port d'écoute.")] = 8100,
) -> None:
    """Sert seuls les bacs à sable des réseaux (X, LinkedIn, Facebook, Instagram, Mastodon,
    Bluesky) ; réglez BEFFROI_SANDBOX_URL=http://HÔTE:PORT dans les autres processus."""
    import uvicorn

    from networks.registry import sandbox_secret
    from networks.sandbox import Sandbox, build_app

    settings = load_settings()
    application = build_app(Sandbox(sandbox_secret(settings)), static=True)
    typer.echo(
        f"Bacs à sable servis sur http://{host}:{port} : réglez BEFFROI_SANDBOX_URL="
        f"http://{host}:{port} pour les autres processus de Beffroi."
    )
    uvicorn.run(application, host=host, port=port, log_level="info")


@app.command()
def keys(
    rotate: Annotated[
        bool, typer.Option("--rotate", help="Rechiffrer les secrets avec la première clé.")
    ] = False,
) -> None:
    """Clés de chiffrement : « --rotate » rechiffre tous les identifiants enregistrés avec la
    première clé de BEFFROI_ENCRYPTION_KEY (les autres peuvent ensuite être retirées)."""
    from core.accounts import service as accounts
    from core.crypto import UndecryptableSecret
    from core.db import make_engine, session_scope

    settings = load_settings()
    if not rotate:
        typer.echo(f"{len(settings.encryption_keys)} clé(s) configurée(s) ; la première chiffre.")
        return
    require_current_schema(settings)
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            count = accounts.rotate_credentials(session, settings)
    except UndecryptableSecret:
        raise fail(
            "Un secret enregistré ne s'ouvre avec aucune des clés configurées : remettez dans "
            "BEFFROI_ENCRYPTION_KEY l'ancienne clé qui manque, puis recommencez."
        ) from None
    typer.echo(f"{count} secret(s) rechiffré(s) avec la première clé.")


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Option(help="Révision visée.")] = "head",
) -> None:
    """Applique les migrations du schéma."""
    from core import migrations

    settings = load_settings()
    migrations.upgrade(settings.database_url, revision)
    typer.echo("Schéma de la base à jour.")


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="Adresse électronique (identifiant).")],
    password: Annotated[str, typer.Option(help="Mot de passe (10 caractères au moins).")],
    name: Annotated[str | None, typer.Option(help="Nom affiché.")] = None,
    superuser: Annotated[
        bool, typer.Option("--superuser", help="Opérateur de la plateforme.")
    ] = False,
    authority: Annotated[
        str | None, typer.Option(help="Identifiant court de la collectivité à rejoindre.")
    ] = None,
    role: Annotated[Role | None, typer.Option(help="Rôle dans cette collectivité.")] = None,
) -> None:
    """Crée une personne : opérateur de la plateforme, ou membre d'une collectivité."""
    from core.authorities import service as authorities
    from core.authorities.models import Membership
    from core.db import make_engine, session_scope
    from core.errors import AppError
    from core.users import service as users

    if (authority is None) != (role is None):
        raise fail("Indiquez --authority et --role ensemble.", code=2)
    settings = load_settings()
    require_current_schema(settings)
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            target = None
            if authority is not None:
                target = authorities.get_by_slug(session, authority)
                if target is None:
                    raise fail(f"Aucune collectivité n'a l'identifiant « {authority} ».")
            user = users.create(
                session, email=email, name=name, password=password, is_superuser=superuser
            )
            if target is not None and role is not None:
                session.add(
                    Membership(authority_id=target.id, user_id=user.id, roles=[role.value])  # type: ignore[arg-type]
                )
    except AppError as error:
        raise fail(error.message) from None
    typer.echo(f"Compte créé : {user.email}")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
