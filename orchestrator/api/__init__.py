"""The HTTP API: event intake, incidents, the agent API (tasks, commands, feeds), metrics."""

from orchestrator.api.app import app_from_settings, create_app
from orchestrator.api.server import api_server, server_config

__all__ = [
    "api_server",
    "app_from_settings",
    "create_app",
    "server_config",
]
