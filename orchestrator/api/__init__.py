"""The HTTP API: event intake, incidents, the agent API (tasks, commands, feeds), metrics."""

from orchestrator.api.app import app_from_settings, create_app
from orchestrator.api.config import ApiSettings

__all__ = ["ApiSettings", "app_from_settings", "create_app"]
