"""The HTTP API: event intake, incident and task reads, and (later) the agent API."""

from orchestrator.api.app import create_app

__all__ = ["create_app"]
