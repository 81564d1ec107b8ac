"""Adapters against their sandboxes over real HTTP. These tests touch no database: they run once."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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
        settings = net_settings
        if "timeout" in overrides:
            settings = net_settings.model_copy(
                update={"network_timeout_seconds": overrides.pop("timeout")}
            )
        grant = provision(settings, network, name=name)
        credentials = {**grant.credentials, **overrides.pop("credentials", {})}
        config = registry.config_for(
            network,
            settings,
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


class ImageHost:
    """A static file server on loopback: Instagram's sandbox downloads images from it, as Meta
    downloads them from Beffroi's public media URLs."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                found = host.files.get(self.path)
                if found is None:
                    self.send_error(404)
                    return
                data, mime = found
                self.send_response(200)
                self.send_header("Content-Type", mime)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def public(self, image: Image) -> Image:
        """The same image, with a public URL that serves it."""
        path = f"/media/{len(self.files)}"
        self.files[path] = (image.data, image.mime)
        return replace(image, url=f"{self.url}{path}")


@pytest.fixture(scope="session")
def image_host() -> Iterator[ImageHost]:
    host = ImageHost()
    yield host
    host.server.shutdown()
