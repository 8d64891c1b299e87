"""Load playbooks: read files safely, validate them against the format, compile them.

Every mistake becomes one Problem with file, line and field path; all of a file's problems are
reported together in one PlaybookError, in the order of their lines: the format's and the
compiler's in one run (prune.py), misspelt literals and fields among them (typos.py). The limits
a playbook is held to: checker.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from orchestrator.engine import Playbook
from orchestrator.errors import PlaybookError, Problem
from orchestrator.playbook.checker import LoadOptions
from orchestrator.playbook.compiler import compile_playbook
from orchestrator.playbook.prune import validate_all
from orchestrator.playbook.yamlsource import Document, read_source, read_yaml, source_files
from schemas import playbook as spec

PLAYBOOK_SUFFIXES = frozenset({".yaml", ".yml"})
"""How the names of playbook files in a directory end."""


def load_playbook_text(
    text: str | bytes, file: str = "<playbook>", options: LoadOptions | None = None
) -> Playbook:
    """Compile one playbook from YAML text; raises PlaybookError listing every problem."""
    doc, problems = read_yaml(text, file)
    if doc is None or problems:
        raise PlaybookError(problems)
    if not isinstance(doc.data, dict):
        raise PlaybookError(
            [Problem(file, 1, "", "a playbook is a YAML mapping (id, title, triggers, tasks, ...)")]
        )
    limits = options or LoadOptions()
    try:
        raw = spec.PlaybookSpec.model_validate(doc.data)
    except ValidationError:
        raise PlaybookError(by_line(validate_all(doc, _compiling(limits)))) from None
    try:
        return compile_playbook(doc, raw, limits)
    except PlaybookError as err:
        raise PlaybookError(by_line(err.problems)) from None


def by_line(problems: list[Problem]) -> list[Problem]:
    """`problems` in the order of the files and lines they point at."""
    return sorted(problems, key=lambda p: (p.file, p.line or 0))


def _compiling(options: LoadOptions) -> Callable[[Document, spec.PlaybookSpec], list[Problem]]:
    """The compiler as `validate_all` runs it on what the format accepted: its problems."""

    def problems_of(doc: Document, raw: spec.PlaybookSpec) -> list[Problem]:
        try:
            compile_playbook(doc, raw, options)
        except PlaybookError as err:
            return err.problems
        return []

    return problems_of


def load_playbook(path: str | Path, options: LoadOptions | None = None) -> Playbook:
    """Compile the playbook file at `path`."""
    file = Path(path)
    try:
        text = read_source(file)
    except OSError as err:
        raise PlaybookError(
            [Problem(str(file), None, "", f"cannot read the file: {err.strerror}")]
        ) from None
    return load_playbook_text(text, str(file), options)


def load_directory(directory: str | Path, options: LoadOptions | None = None) -> list[Playbook]:
    """Compile every *.yaml / *.yml file directly in `directory`, sorted by name.

    Problems of all files are gathered into one PlaybookError; two files with one id are refused,
    and so is an entry that is not a regular file inside the directory (a symbolic link out of
    it, a FIFO, a device, a directory), which is not opened.
    """
    files, problems = source_files(Path(directory), PLAYBOOK_SUFFIXES)
    playbooks: list[Playbook] = []
    for file in files:
        try:
            playbooks.append(load_playbook(file, options))
        except PlaybookError as err:
            problems.extend(err.problems)
    seen: dict[str, str] = {}
    for pb in playbooks:
        if pb.id in seen:
            problems.append(
                Problem(
                    pb.source, None, "id", f"playbook id {pb.id!r} is also used by {seen[pb.id]}"
                )
            )
        seen[pb.id] = pb.source
    if problems:
        raise PlaybookError(problems)
    return playbooks
