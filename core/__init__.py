"""The domain of Beffroi: models, services and rules. Imports no web framework or scheduler."""
