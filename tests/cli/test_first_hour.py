"""Issue 21, the first hour of a new user: one test (or more) for each numbered friction point.

The points that live in other parts have their tests there, named here:
5 and 6 tests/playbooks/test_validate_all.py, 8 tests/api/test_command_bodies.py,
11 tests/unit/test_dead_letter_ids.py, 13 tests/api/test_first_hour_api.py; the README as a
whole (point 1 and every local command) tests/cli/test_readme_commands.py.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
        check=False,
    )


# -- 2: the demo says where its report is; the report is ignored by git; no license warning ----


def test_demo_names_the_absolute_paths_of_its_report(tmp_path: Path) -> None:
    """Point 2: the demo's last line names both report files by absolute path."""
    result = cli("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    html, markdown = tmp_path / "drill-report.html", tmp_path / "drill-report.md"
    assert html.is_file() and markdown.is_file()
    assert f"drill report: {html} (open it in a browser) and {markdown}" in result.stdout


def test_the_demo_report_is_ignored_by_git() -> None:
    """Point 2: what `make demo` leaves in the checkout is not an untracked change."""
    for name in ("drill-report.html", "drill-report.md"):
        ignored = subprocess.run(
            ["git", "check-ignore", "--no-index", "-q", name], cwd=REPO, check=False
        )
        assert ignored.returncode == 0, f"{name} is not in .gitignore"


def test_license_is_an_spdx_string_so_setuptools_prints_no_deprecation() -> None:
    """Point 2: `project.license` as a table makes setuptools >= 77 print a deprecation box."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert project["project"]["license"] == "Apache-2.0"
    assert "setuptools>=77" in project["build-system"]["requires"]
