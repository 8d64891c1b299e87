"""The API package's public face is pinned: changing it is a deliberate act."""

from __future__ import annotations

import orchestrator.api


def test_api_exports() -> None:
    """orchestrator.api exports exactly the app builders and the server builders (its settings
    are the process's one `orchestrator.settings.Settings`)."""
    assert sorted(orchestrator.api.__all__) == [
        "api_server",
        "app_from_settings",
        "create_app",
        "server_config",
    ]
    for name in orchestrator.api.__all__:
        assert getattr(orchestrator.api, name) is not None
