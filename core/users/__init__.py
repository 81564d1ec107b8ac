"""People, their passwords, sign-in sessions and API tokens."""
