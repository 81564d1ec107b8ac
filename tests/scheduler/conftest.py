"""The scheduler's tests use the engine's fixtures (sandbox accounts, settings)."""

from tests.core.publishing.conftest import pub_settings, sandbox_account

__all__ = ["pub_settings", "sandbox_account"]
