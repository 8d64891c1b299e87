"""Safe YAML reading that remembers the line of every field, for errors that point at it.

Only plain YAML data is accepted: mappings, sequences and scalars with the standard tags.
Anchors and aliases (the 'billion laughs' bomb), custom tags (!!python/object ...) and
duplicate keys are refused, and the document size and nesting depth are bounded (the depth while
composing, before any recursion into a level past MAX_DEPTH).

Files come from a directory only when they are regular files inside it (source_files): a symbolic
link out of it (to /etc/passwd, /proc/self/environ), a FIFO, a device or a directory named
*.yaml is a problem naming the entry, and is never opened. read_source reads regular files only,
opening them non-blocking so that a FIFO put in a file's place cannot make it wait.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Set
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any

import yaml

from orchestrator.errors import Problem

MAX_FILE_BYTES = 1_048_576
MAX_DEPTH = 50
MAX_NODES = 100_000
_STANDARD_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}
Path = tuple[str | int, ...]
"""A field path in a document: mapping keys and list indexes, from the top."""


def dotted(path: Path) -> str:
    """A field path as every error of this package writes it: cases[0].events[2].time."""
    return "".join(
        f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p) for i, p in enumerate(path)
    )


@dataclass
class Document:
    """A parsed YAML document: plain data plus the line of every field path."""

    file: str
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int | None:
        """The line of the deepest known prefix of `path` (1-based)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None

    def problem(self, path: Path, message: str) -> Problem:
        """A problem at `path` of this document: its file, its line and the dotted path."""
        return Problem(self.file, self.line_of(path), dotted(path), message)


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[Path, int] = {}
        self.problems: list[Problem] = []
        self.nodes = 0
        self.loader = yaml.SafeLoader("")

    def problem(self, node: yaml.Node, path: Path, message: str) -> None:
        self.problems.append(Problem(self.file, node.start_mark.line + 1, dotted(path), message))

    def build(self, node: yaml.Node, path: Path, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            raise _TooBig(node.start_mark, TOO_BIG)
        self.lines[path] = node.start_mark.line + 1
        if node.tag not in _STANDARD_TAGS:
            self.problem(node, path, f"tag {node.tag!r} is not allowed; write plain YAML values")
            return None
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, (*path, i), depth + 1) for i, child in enumerate(node.value)]
        return self.loader.construct_object(node, deep=False)

    def mapping(self, node: yaml.MappingNode, path: Path, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(key_node, path, "mapping keys must be plain text")
                continue
            key = str(key_node.value)
            if key == "<<":
                self.problem(key_node, path, "merge keys (<<) are not allowed")
                continue
            if key in result:
                self.problem(key_node, (*path, key), f"duplicate key {key!r}")
                continue
            result[key] = self.build(value_node, (*path, key), depth + 1)
            self.lines[(*path, key)] = key_node.start_mark.line + 1
        return result


class _TooBig(Exception):
    def __init__(self, mark: yaml.Mark, message: str) -> None:
        self.mark = mark
        self.message = message


TOO_BIG = "the document is too large or nested too deeply"
TOO_DEEP = f"the document is nested too deeply (over {MAX_DEPTH} levels); flatten it"


class _NoAliasComposer(yaml.SafeLoader):
    """A composer that refuses anchors and aliases outright, and nesting deeper than MAX_DEPTH
    before going down into it: composing recurses once per level, so [[[...]]] 600 deep would
    overflow the stack (RecursionError) before the builder could count its depth."""

    depth = 0
    """How many collections enclose the node being composed."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in playbooks", event.start_mark
            )
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(
                None, None, "anchors (&name) are not allowed in playbooks", event.start_mark
            )
        if self.depth > MAX_DEPTH:
            raise _TooBig(event.start_mark, TOO_DEEP)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _unreadable(file: str, text: str | bytes, err: yaml.reader.ReaderError) -> Problem:
    """Bytes that are not UTF-8, or a control character: its line and what to do."""
    if isinstance(text, bytes) and err.encoding != "unicode":  # a decoding error counts bytes
        line = text[: err.position].count(b"\n") + 1
    else:
        decoded = text if isinstance(text, str) else text.decode("utf-8", "replace")
        line = decoded[: err.position].count("\n") + 1
    message = (
        f"unreadable character #x{err.character:04x} ({err.reason}); "
        "save the file as UTF-8 text without control characters"
    )
    return Problem(file, line, "", message)


def read_yaml(text: str | bytes, file: str) -> tuple[Document | None, list[Problem]]:
    """Parse one YAML document; returns the document (or None) and the problems found."""
    size = len(text.encode("utf-8", "replace") if isinstance(text, str) else text)
    if size > MAX_FILE_BYTES:
        return None, [
            Problem(file, None, "", f"file is {size} bytes; the limit is {MAX_FILE_BYTES}")
        ]
    try:
        loader = _NoAliasComposer(text)  # decodes and checks the whole text
    except yaml.reader.ReaderError as err:
        return None, [_unreadable(file, text, err)]
    try:
        root = loader.get_single_node()
    except _TooBig as err:
        return None, [Problem(file, err.mark.line + 1, "", err.message)]
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        line = mark.line + 1 if mark is not None else None
        return None, [Problem(file, line, "", f"YAML syntax error: {err.problem}")]
    except yaml.YAMLError as err:
        return None, [Problem(file, None, "", f"YAML error: {err}")]
    finally:
        loader.dispose()
    if root is None:
        return None, [Problem(file, 1, "", "the file is empty; a playbook is a YAML mapping")]
    builder = _Builder(file)
    try:
        data = builder.build(root, (), 0)
    except _TooBig as err:
        return None, [Problem(file, err.mark.line + 1, "", err.message)]
    return Document(file, data, builder.lines), builder.problems


_KINDS: tuple[tuple[Callable[[int], bool], str], ...] = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _not_regular(file: FilePath, mode: int) -> OSError:
    return OSError(errno.EINVAL, f"it is {_kind(mode)}, not a regular file", str(file))


def source_files(folder: FilePath, suffixes: Set[str]) -> tuple[list[FilePath], list[Problem]]:
    """The entries directly in `folder` named *<suffix>, sorted, that are regular files inside
    it; and a problem for each other such entry (a link out of the folder, a FIFO, a device, a
    directory), which is not opened."""
    root = folder.resolve()
    names = " or ".join(sorted(suffixes))
    files: list[FilePath] = []
    problems: list[Problem] = []
    for entry in sorted(p for p in folder.iterdir() if p.suffix in suffixes):
        refusal = _refusal(entry, root, names)
        if refusal is None:
            files.append(entry)
        else:
            problems.append(Problem(str(entry), None, "", refusal))
    return files, problems


def _refusal(entry: FilePath, root: FilePath, names: str) -> str | None:
    """Why `entry` cannot be read as a source file; None for a regular file inside `root`."""
    try:
        if entry.is_symlink():
            target = entry.resolve()
            if not target.is_relative_to(root):
                return (
                    f"is a symbolic link to {target}, outside {root}; put the file itself in "
                    "the directory instead of a link to it"
                )
        mode = entry.stat().st_mode
    except (OSError, RuntimeError) as err:  # a dangling link, or a loop (RuntimeError)
        reason = getattr(err, "strerror", None) or str(err)
        return f"cannot be read ({reason}); fix the link or remove it"
    if not stat.S_ISREG(mode):
        return (
            f"is {_kind(mode)}, not a regular file; remove it, or rename it so that its name "
            f"does not end in {names}"
        )
    return None


def read_source(file: FilePath) -> bytes:
    """The bytes of the regular file `file`; OSError for anything else, which is not opened (a
    FIFO would wait for a writer) or, if it took the file's place meanwhile, not read."""
    mode = os.stat(file).st_mode
    if not stat.S_ISREG(mode):
        raise _not_regular(file, mode)
    descriptor = os.open(file, _OPEN_FLAGS)
    with os.fdopen(descriptor, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise _not_regular(file, mode)
        return handle.read()
