"""compose.yaml cannot run here (no Docker engine): check that it only uses real commands and
real settings, so that it works when someone runs it."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import typer.main
import yaml

from beffroi.cli import app as cli_app
from core.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def resolve(args: list[str]) -> str:
    """The sub-command `beffroi <args>` runs; click raises on anything unknown."""
    assert args[0] == "beffroi", args
    command: Any = typer.main.get_command(cli_app)
    context = command.make_context("beffroi", list(args[1:]))
    path = ["beffroi"]
    while hasattr(command, "resolve_command"):  # a group: descend into the sub-command
        name, sub, rest = command.resolve_command(
            context, [*context._protected_args, *context.args]
        )
        assert sub is not None
        assert name is not None
        path.append(name)
        context = sub.make_context(name, rest, parent=context)
        command = sub
    return " ".join(path)


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_services_are_the_scale_out_topology() -> None:
    services = compose()["services"]
    assert set(services) == {"postgres", "migrate", "api", "worker"}
    assert resolve(services["migrate"]["command"]) == "beffroi db upgrade"
    assert resolve(services["api"]["command"]) == "beffroi api"
    assert resolve(services["worker"]["command"]) == "beffroi worker"
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
        assert "healthcheck" in services[name]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_health_checks_use_real_commands() -> None:
    services = compose()["services"]
    worker_check = services["worker"]["healthcheck"]["test"]
    assert resolve(worker_check[1:]) == "beffroi worker"
    assert "/readyz" in " ".join(services["api"]["healthcheck"]["test"])


def test_every_beffroi_variable_is_a_real_setting() -> None:
    fields = {f"BEFFROI_{name.upper()}" for name in Settings.model_fields}
    for name, service in compose()["services"].items():
        for variable in service.get("environment", {}):
            if variable.startswith("BEFFROI_"):
                assert variable in fields, f"{name}: {variable} is not a setting"
    text = (ROOT / "compose.yaml").read_text()
    for variable in re.findall(r"\b(BEFFROI_[A-Z_]+)\b", text):
        assert variable in fields, variable


def test_dockerfile_default_command_exists() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.MULTILINE)
    assert cmd is not None
    assert resolve(yaml.safe_load(cmd.group(1))) == "beffroi api"
    assert shlex.split("beffroi db upgrade")  # the README's commands parse the same way
