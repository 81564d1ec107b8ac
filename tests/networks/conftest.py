"""Adapters against their sandboxes over real HTTP. These tests touch no database: they run once."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.fernet import Fernet
from PIL import Image as PILImage

from core.accounts.models import Network
from core.config import Settings
from networks import registry
from networks.base import Image, NetworkAdapter
from networks.sandbox import Sandbox
from networks.sandbox.provision import SandboxGrant, provision
from tests.conftest import TEST_SECRET, SandboxServer


def picture(kind: str = "PNG", size: tuple[int, int] = (640, 480), color: str = "#1d4e89") -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", size, color).save(buffer, format=kind)
    return buffer.getvalue()


def image(alt: str = "Le beffroi de la mairie au coucher du soleil", **kwargs: Any) -> Image:
    kind = kwargs.pop("kind", "PNG")
    return Image(data=picture(kind, **kwargs), mime=f"image/{kind.lower()}", alt=alt, url=None)


@pytest.fixture(scope="session")
def net_settings(sandbox_server: SandboxServer) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        env="test",
        database_url="sqlite://",
        secret_key=TEST_SECRET,
        encryption_key=Fernet.generate_key().decode(),
        public_url="http://testserver",
        sandbox_url=sandbox_server.url,
        network_timeout_seconds=1.5,
    )


@dataclass
class Connected:
    adapter: NetworkAdapter
    grant: SandboxGrant
    sandbox: Sandbox
    network: Network

    @property
    def remote_id(self) -> str:
        return self.grant.remote_id

    def knobs(self, **changes: Any) -> None:
        # The sandbox creates an account on its first request; make sure it exists.
        self.sandbox.ensure_account(
            self.network.value, self.grant.remote_id, name="", handle=self.grant.handle
        )
        self.sandbox.set_knobs(self.network.value, self.grant.remote_id, **changes)

    def posts(self) -> list[Any]:
        return self.sandbox.posts(self.network.value, self.grant.remote_id)


@pytest.fixture
def connect(net_settings: Settings, sandbox_server: SandboxServer) -> Callable[..., Connected]:
    def connect(
        network: Network, name: str = "Ville de Val-de-Brume", **overrides: Any
    ) -> Connected:
        grant = provision(net_settings, network, name=name)
        credentials = {**grant.credentials, **overrides.pop("credentials", {})}
        config = registry.config_for(
            network,
            net_settings,
            credentials=credentials,
            remote_id=grant.remote_id,
            handle=grant.handle,
            sandbox=True,
            instance_url=grant.instance_url,
        )
        return Connected(
            adapter=registry.build(network, config),
            grant=grant,
            sandbox=sandbox_server.sandbox,
            network=network,
        )

    return connect
