"""The core stays pure (no I/O, runtime, wall clock or chance); its public face is pinned."""

from __future__ import annotations

import ast
import io
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

import orchestrator.engine
import schemas

CORE = Path(orchestrator.engine.__file__).parent
CORE_FILES = sorted(CORE.glob("*.py"))
FORBIDDEN_MODULES = frozenset(
    {
        "faust",
        "kafka",
        "aiokafka",
        "asyncio",
        "sqlite3",
        "socket",
        "http",
        "urllib",
        "requests",
        "time",
        "random",
        "secrets",
        "uuid",
    }
)
WALL_CLOCK_CALLS = frozenset(
    {
        ("datetime", "now"),
        ("datetime", "utcnow"),
        ("datetime", "today"),
        ("date", "today"),
        ("time", "time"),
        ("time", "monotonic"),
        ("time", "perf_counter"),
    }
)
RUNTIME_PACKAGES = ("faust", "kafka", "aiokafka", "sqlite3")

EXPECTED_SCHEMAS = {
    "ALERT_SEVERITIES",
    "CATALOGUE",
    "COMMAND_EVENT_TYPE",
    "Command",
    "CommandData",
    "CommandKind",
    "CommandRecord",
    "CommandResult",
    "ControlTick",
    "DeadLetter",
    "EARLIEST_TIME",
    "Event",
    "EventData",
    "EventRecord",
    "EventTypeSpec",
    "FieldTypeSpec",
    "Incident",
    "IncidentCloudEvent",
    "IncidentEvent",
    "IncidentStatus",
    "LATEST_TIME",
    "NotificationCloudEvent",
    "Origin",
    "Phase",
    "PlaybookSpec",
    "RFC3339_START",
    "SEVERITY_ORDER",
    "Severity",
    "ShardRecord",
    "TASK_COMMANDS",
    "IN_HAND_STATUSES",
    "TERMINAL_STATUSES",
    "Task",
    "TaskCloudEvent",
    "TaskEvent",
    "TaskEventKind",
    "TaskStatus",
    "TickRecord",
    "TimelineEntry",
    "export_schemas",
    "playbook",
    "rosters",
    "Notified",
}
EXPECTED_CORE = {
    "AggregateWindow",
    "BaselineWindow",
    "Clock",
    "CommandInput",
    "ConsecutiveWindow",
    "CountWindow",
    "Counters",
    "DAY_MS",
    "DAY_SLACK",
    "DEFAULT_INITIAL",
    "Deadline",
    "EVENT_ROOTS",
    "Engine",
    "EntryRecord",
    "EngineConfig",
    "EngineState",
    "EventInput",
    "EventValidator",
    "Expression",
    "HOUR_MS",
    "INCIDENT_COMMANDER",
    "INCIDENT_ROOTS",
    "IncidentRecord",
    "Input",
    "KeyFn",
    "MINUTE_MS",
    "Matrix",
    "Millis",
    "Output",
    "Playbook",
    "RawRecord",
    "Resolution",
    "Retired",
    "Role",
    "SEP",
    "SamplesWindow",
    "Selector",
    "SeverityRule",
    "SnapshotView",
    "Signals",
    "TaskDef",
    "TaskRecord",
    "Tick",
    "TimerEntry",
    "Trigger",
    "VerdictRecord",
    "Window",
    "Hours",
    "Layer",
    "OnCall",
    "Override",
    "Roster",
    "Rosters",
    "build",
    "claim_refusal",
    "command_refusal",
    "compile_expression",
    "contract",
    "dead_letter",
    "dedupe_key_of",
    "encode_chunks",
    "encode_snapshot",
    "format_duration",
    "format_time",
    "incident_summary",
    "ordered",
    "parse_duration",
    "parse_duration_at_most",
    "parse_time",
    "record_of",
    "restore",
    "shard_of",
    "snapshot",
    "snapshot_view",
    "split_task_id",
    "summary",
    "time_refusal",
    "to_millis",
}


def imported_modules(tree: ast.AST) -> set[str]:
    """Top-level names of every module an AST imports (absolute imports only)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def attribute_calls(tree: ast.AST) -> set[tuple[str, str]]:
    """Every `name.attr` pair the AST reads (e.g. ("datetime", "now"))."""
    return {
        (node.value.id, node.attr)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
    }


def code_without_text(source: str) -> str:
    """The source with comments, strings and docstrings removed (what grep should look at)."""
    kept = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in {tokenize.COMMENT, tokenize.STRING}:
            continue
        kept.append(token.string)
    return " ".join(kept).replace(" . ", ".")


def test_the_core_has_modules_to_check() -> None:
    """The purity checks below look at the real core package, not an empty glob."""
    names = {p.name for p in CORE_FILES}
    assert {"step.py", "state.py", "validate.py", "tasks.py", "windows.py"} <= names


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: p.name)
def test_core_module_imports_no_runtime_io_or_clock_module(path: Path) -> None:
    """No core module imports a broker, asyncio, a database, the network, `time` or `random`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    assert imported_modules(tree) & FORBIDDEN_MODULES == set()


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: p.name)
def test_core_module_never_reads_the_wall_clock(path: Path) -> None:
    """No core module calls datetime.now/utcnow/today or time.time and friends."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    assert attribute_calls(tree) & WALL_CLOCK_CALLS == set()


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: p.name)
def test_core_code_mentions_no_wall_clock_or_randomness(path: Path) -> None:
    """Grep over the code (comments and strings aside): no datetime.now, time.time or random."""
    code = code_without_text(path.read_text(encoding="utf-8"))
    for needle in ("datetime.now", "time.time", "random"):
        assert needle not in code, f"{path.name} uses {needle}"


def test_the_grep_check_sees_code_and_ignores_docstrings() -> None:
    """The grep helper keeps calls in code and drops words inside strings and comments."""
    code = code_without_text('"""never random"""\nx = datetime.now()  # random\n')
    assert "datetime.now" in code
    assert "random" not in code


def test_importing_the_core_loads_no_runtime_package() -> None:
    """A fresh interpreter importing orchestrator.engine loads neither faust, kafka nor sqlite3."""
    probe = (
        "import sys, orchestrator.engine; "
        f"print(','.join(m for m in {RUNTIME_PACKAGES!r} if m in sys.modules))"
    )
    root = str(CORE.parent.parent)
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=root
    )
    assert done.stdout.strip() == ""


def test_schemas_public_face_is_pinned() -> None:
    """schemas.__all__ is exactly the agreed set, and every name in it exists."""
    assert set(schemas.__all__) == EXPECTED_SCHEMAS
    assert len(schemas.__all__) == len(EXPECTED_SCHEMAS)
    assert all(hasattr(schemas, name) for name in schemas.__all__)


def test_core_public_face_is_pinned() -> None:
    """orchestrator.engine.__all__ is exactly the agreed set, and every name in it exists."""
    assert set(orchestrator.engine.__all__) == EXPECTED_CORE
    assert len(orchestrator.engine.__all__) == len(EXPECTED_CORE)
    assert all(hasattr(orchestrator.engine, name) for name in orchestrator.engine.__all__)
