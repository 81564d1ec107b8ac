"""Authorities (collectivités), their members and the roles they hold."""
