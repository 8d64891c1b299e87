"""The responder console: a web page at /console where a responder signs in with their token,
sees their roles' tasks live and acts on them through the agent API (server-rendered Jinja2
templates swapped in by htmx; the static files ship inside this package)."""

from orchestrator.api.console.pages import CONTENT_SECURITY_POLICY, install_console

__all__ = ["CONTENT_SECURITY_POLICY", "install_console"]
