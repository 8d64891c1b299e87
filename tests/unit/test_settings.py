"""One settings object: frozen, read from the same ORCH_* variables as before, constructed only
by the CLI command that starts the process and passed down from there."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from orchestrator.settings import Settings

ROOT = Path(__file__).parents[2]
PRODUCT = ("orchestrator", "agents")
CLI = ROOT / "orchestrator" / "cli"
DOCS = ("README.md", "SECURITY.md", "deploy/README.md", "docs/architecture.md")
NOT_SETTINGS = frozenset({"ORCH_AGENT_TOKEN"})
"""ORCH_* variables that are no setting: the role agent's token is an option of its command."""
ENV_NAME = re.compile(r"ORCH_[A-Z][A-Z0-9_]*[A-Z0-9]\b")


def constructions(path: Path) -> Iterator[int]:
    """Lines in `path` that build a settings object: `Settings(...)` or a class method of it
    (model_validate, model_construct, ...), under any import name ending in Settings."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr.startswith("model_"):
            func = func.value
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if name.endswith("Settings"):
            yield node.lineno


def product_files() -> Iterator[Path]:
    """Every Python file of the product packages."""
    for top in PRODUCT:
        yield from sorted((ROOT / top).rglob("*.py"))


def test_settings_are_constructed_only_in_the_cli() -> None:
    """No product module outside orchestrator/cli/ builds settings; they are passed down."""
    outside = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in product_files()
        if CLI not in path.parents
        for line in constructions(path)
    ]
    assert outside == []


def test_the_cli_reads_the_settings_in_one_place() -> None:
    """The scan sees constructions (it is not blind): the CLI builds them in one helper."""
    inside = [
        str(path.relative_to(ROOT))
        for path in sorted(CLI.rglob("*.py"))
        for _ in constructions(path)
    ]
    assert inside == ["orchestrator/cli/common.py"]


def test_there_is_one_settings_class() -> None:
    """Settings is the only pydantic-settings class of the product."""
    classes = [
        f"{path.relative_to(ROOT)}:{node.name}"
        for path in product_files()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef)
        and any(isinstance(b, ast.Name) and b.id == "BaseSettings" for b in node.bases)
    ]
    assert classes == ["orchestrator/settings.py:Settings"]


def test_settings_are_frozen() -> None:
    """A field cannot be changed after reading; a changed copy is a new object."""
    settings = Settings(port=8080)
    with pytest.raises(ValidationError, match="frozen"):
        settings.port = 9000  # type: ignore[misc]
    moved = settings.model_copy(update={"port": 9000})
    assert (settings.port, moved.port) == (8080, 9000)


@pytest.mark.parametrize(
    ("variable", "value", "field", "expected"),
    [
        ("ORCH_PORT", "9091", "port", 9091),
        ("ORCH_DATA_DIR", "/srv/orch", "data_dir", Path("/srv/orch")),
        ("ORCH_LATE_POLICY", "dead_letter", "late_policy", "dead_letter"),
        ("ORCH_SNAPSHOT_SECONDS", "2.5", "snapshot_seconds", 2.5),
        ("ORCH_NETWORK_COMMANDS", "true", "network_commands", True),
        ("ORCH_HEADER_TIMEOUT", "0.5", "header_timeout", 0.5),
        ("ORCH_CORS_ORIGINS", '["https://ops.example"]', "cors_origins", ["https://ops.example"]),
        ("ORCH_FEEDS_PER_RESPONDER", "3", "feeds_per_responder", 3),
        ("ORCH_RESPONDERS_FILE", "r.yaml", "responders_file", Path("r.yaml")),
        ("ORCH_TOPIC_PREFIX", "drill-7.", "topic_prefix", "drill-7."),
        (
            "ORCH_KAFKA_BOOTSTRAP_SERVERS",
            "k1:9092,k2:9092",
            "kafka_bootstrap_servers",
            "k1:9092,k2:9092",
        ),
        ("ORCH_KAFKA_PARTITIONS", "6", "kafka_partitions", 6),
        ("ORCH_KAFKA_TIMER_INTERVAL", "0", "kafka_timer_interval", 0.0),
        ("ORCH_KAFKA_GROUP_INSTANCE_ID", "pod-1", "kafka_group_instance_id", "pod-1"),
    ],
)
def test_environment_variables_map_as_before(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, field: str, expected: object
) -> None:
    """Variables of the three former classes (process, API, Kafka) keep their names."""
    monkeypatch.setenv(variable, value)
    assert getattr(Settings(), field) == expected


def test_overlapping_variables_are_one_field(monkeypatch: pytest.MonkeyPatch) -> None:
    """ORCH_INGEST_TOKEN reaches the API's auth; ORCH_TOPIC_PREFIX the Kafka app id."""
    monkeypatch.setenv("ORCH_INGEST_TOKEN", "ingest-0000000001")
    monkeypatch.setenv("ORCH_TOPIC_PREFIX", "drill-7.")
    settings = Settings()
    assert settings.auth().ingest_allowed("ingest-0000000001")
    assert "ingest-0000000001" not in repr(settings)
    assert settings.app_id == "drill-7.orchestrator"
    monkeypatch.setenv("ORCH_KAFKA_APP_ID", "workers")
    assert Settings().app_id == "workers"


def test_a_drill_namespace_is_a_copy_on_its_own_topics() -> None:
    """in_namespace changes the topic prefix (and so the app id) of a copy only."""
    settings = Settings(topic_prefix="orch.")
    drill = settings.in_namespace("drill-x")
    assert (drill.topic_prefix, drill.app_id) == ("drill-x.", "drill-x.orchestrator")
    assert settings.topic_prefix == "orch."
    assert settings.in_namespace(None) is settings


@pytest.mark.parametrize(
    ("variable", "value", "field"),
    [("ORCH_PORT", "99999", "port"), ("ORCH_KAFKA_PARTITIONS", "0", "kafka_partitions")],
)
def test_validation_errors_name_the_field(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, field: str
) -> None:
    """A bad value is refused with the field, which is the variable's name without ORCH_."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=rf"(?m)^{field}$"):
        Settings()


def test_every_documented_variable_is_a_setting() -> None:
    """Each ORCH_* variable the README, SECURITY.md and the deploy docs name is a field."""
    named = {
        name
        for doc in DOCS
        for name in ENV_NAME.findall((ROOT / doc).read_text(encoding="utf-8"))
        if name not in NOT_SETTINGS
    }
    assert len(named) > 30
    fields = {f"ORCH_{name.upper()}" for name in Settings.model_fields}
    assert sorted(named - fields) == []
