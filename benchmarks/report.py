"""docs/benchmarks.json (everything) and the results section of docs/benchmarks.md.

The Markdown file keeps whatever is written outside its results markers (the optimisation
log, profiles), so rerunning the benchmarks replaces the figures and nothing else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from benchmarks.base import BenchConfig, CaseResult, Figure

START_MARK = "<!-- bench:results:start -->"
END_MARK = "<!-- bench:results:end -->"
COMMAND = "python -m benchmarks"
HEADER = f"""# Benchmarks

Reproduce with `make bench` (or `{COMMAND}`; `--events N` and `--api-seconds S` shrink it).
Every figure stands beside a baseline measured in the same run on the same machine; the
ratio is what to compare across machines. `docs/benchmarks.json` has every number and the
machine facts.

"""


@dataclass
class BenchRun:
    """One run of the benchmarks: what was asked, where, and what came out."""

    config: BenchConfig
    machine: dict[str, Any]
    started_at: str
    seconds: float
    results: list[CaseResult]
    argv: list[str]

    def as_json(self) -> dict[str, Any]:
        """The run as plain JSON data."""
        return {
            "command": " ".join(self.argv),
            "started_at": self.started_at,
            "seconds": round(self.seconds, 1),
            "config": _config(self.config),
            "machine": self.machine,
            "cases": [r.as_json() for r in self.results],
        }


def _config(config: BenchConfig) -> dict[str, Any]:
    return {
        "events": config.events,
        "keys": config.keys,
        "open_incidents": config.open_incidents,
        "api_seconds": config.api_seconds,
        "api_clients": config.api_clients,
        "storm_seconds": config.storm_seconds,
        "storm_runs": config.storm_runs,
        "only": list(config.only),
    }


def _number(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.1f}"


def _row(figure: Figure) -> str:
    baseline = (
        "-"
        if figure.baseline is None
        else (
            f"{_number(figure.baseline)} {figure.baseline_unit or figure.unit} "
            f"({figure.baseline_name})"
        )
    )
    ratio = "-" if figure.ratio is None else f"{figure.ratio:.2f}x"
    met = {True: "yes", False: "**no**", None: "-"}[figure.met]
    return (
        f"| {figure.name} | {_number(figure.value)} {figure.unit} | {baseline} | {ratio} "
        f"| {figure.target or '-'} | {met} |"
    )


def _case(result: CaseResult) -> list[str]:
    lines = [f"### {result.title}", ""]
    if result.skipped:
        return [*lines, f"Not run: {result.skipped}", ""]
    lines += [
        "| figure | value | baseline (same run) | ratio | target | met |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += [_row(f) for f in result.figures]
    lines += [""] + [f"- {note}" for note in result.notes] + ([""] if result.notes else [])
    return lines


def results_markdown(run: BenchRun) -> str:
    """The generated results section (between the markers)."""
    m = run.machine
    git = m.get("git") or {}
    lines = [
        START_MARK,
        "",
        f"## Latest results ({run.started_at[:10]})",
        "",
        f"`{' '.join(run.argv)}` took {run.seconds / 60:.1f} min on {m['cores']} cores "
        f"({m['cpu_model']}), {m['python']}, commit `{(git.get('commit') or '?')[:10]}`"
        f"{' (with local changes)' if git.get('dirty') else ''}; load average at start "
        f"{m['load_average_at_start'][0]:.1f}.",
        "",
    ]
    for result in run.results:
        lines += _case(result)
    return "\n".join([*lines, END_MARK])


def write_markdown(path: Path, run: BenchRun) -> None:
    """Replace the results section of `path` (creating the file if needed)."""
    section = results_markdown(run)
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER + START_MARK + END_MARK
    head, found, rest = text.partition(START_MARK)
    if not found:
        head, rest = text.rstrip() + "\n\n", END_MARK
    _, _, tail = rest.partition(END_MARK)
    path.write_text(head + section + tail, encoding="utf-8")


def write_json(path: Path, run: BenchRun) -> None:
    """Everything measured, with the machine facts."""
    path.write_text(json.dumps(run.as_json(), indent=2) + "\n", encoding="utf-8")


def summary_table(run: BenchRun) -> Table:
    """Every figure of the run as one table for the terminal."""
    table = Table(title=f"Benchmarks ({run.seconds / 60:.1f} min)", title_justify="left")
    for column in ("case", "figure", "value", "baseline", "ratio", "target met"):
        table.add_column(column)
    for result in run.results:
        for figure in result.figures:
            table.add_row(
                result.case,
                figure.name,
                f"{_number(figure.value)} {figure.unit}",
                "-" if figure.baseline is None else _number(figure.baseline),
                "-" if figure.ratio is None else f"{figure.ratio:.2f}x",
                {True: "yes", False: "no", None: "-"}[figure.met],
            )
    return table
