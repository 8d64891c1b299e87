"""The CLI package's public face is pinned: the typer app and the console-script entry point."""

from __future__ import annotations

from importlib.metadata import entry_points

import orchestrator.cli


def test_cli_exports_the_app_and_main() -> None:
    """orchestrator.cli exports exactly `app` and `main`; the command modules are internal."""
    assert sorted(orchestrator.cli.__all__) == ["app", "main"]
    for name in orchestrator.cli.__all__:
        assert getattr(orchestrator.cli, name) is not None


def test_the_orchestrator_console_script_is_the_facades_main() -> None:
    """pyproject's [project.scripts] `orchestrator = orchestrator.cli:main` still resolves."""
    (script,) = entry_points(group="console_scripts", name="orchestrator")
    assert script.value == "orchestrator.cli:main"
    assert script.load() is orchestrator.cli.main
