"""The post-incident review / drill report: build it from engine state, render it, write it.

report = build_report(state, "Drill 2026-11-20")
Path("review.md").write_text(render_markdown(report))
write_report(state, Path("review.html"), "Drill 2026-11-20")
"""

from __future__ import annotations

from pathlib import Path

from orchestrator.drills.report.html import render_html
from orchestrator.drills.report.markdown import render_markdown
from orchestrator.drills.report.model import build_report
from orchestrator.drills.report.pages import with_pages
from orchestrator.drills.report.shape import Report
from orchestrator.engine import EngineState

RENDERERS = {".md": render_markdown, ".html": render_html}
"""File suffix -> renderer."""


def write_report(
    state: EngineState, path: Path | str, title: str, generated_for: str | None = None
) -> Path:
    """Write the report to `path`: Markdown for .md, one HTML page for .html."""
    target = Path(path)
    render = RENDERERS.get(target.suffix.lower())
    if render is None:
        raise ValueError(
            f"cannot tell the report format of {target}: name it *.md (Markdown) or *.html"
        )
    target.write_text(render(build_report(state, title, generated_for)), encoding="utf-8")
    return target


__all__ = [
    "Report",
    "build_report",
    "render_html",
    "render_markdown",
    "with_pages",
    "write_report",
]
