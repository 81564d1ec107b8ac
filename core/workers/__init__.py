"""What the worker processes say about themselves (heartbeats), for operators and health checks."""
