"""docs/playbooks.md (issue 21 point 4) against the format: every field of the playbook JSON
Schema is named on the page and used in an example; every example validates against its
definition of schemas/json/playbook.schema.json; the whole playbook loads through the real
loader and the fixture at the end passes against it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from orchestrator.playbook import load_playbook_text, run_directory
from orchestrator.playbook.yamlsource import read_yaml

REPO = Path(__file__).resolve().parents[2]
PAGE = (REPO / "docs" / "playbooks.md").read_text(encoding="utf-8")
SCHEMA = json.loads((REPO / "schemas" / "json" / "playbook.schema.json").read_text())
EXAMPLE = re.compile(r"<!-- example: (\w+) -->\n```yaml\n(.*?)```", re.DOTALL)
EXAMPLES: list[tuple[str, str]] = EXAMPLE.findall(PAGE)
WHOLE = ("playbook", "fixture")
"""Examples that are whole files rather than one definition of the schema."""


def _example(name: str) -> str:
    [text] = [text for found, text in EXAMPLES if found == name]
    return text


def _load(text: str) -> Any:
    """YAML as playbooks are read (`on:` is a key, not YAML 1.1's true)."""
    doc, problems = read_yaml(text, "docs/playbooks.md")
    assert doc is not None, problems
    assert problems == []
    return doc.data


def _fields() -> set[str]:
    found = set(SCHEMA["properties"])
    for definition in SCHEMA["$defs"].values():
        found |= set(definition.get("properties", {}))
    return found


def _keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in _keys(v)}
    if isinstance(node, list):
        return {k for item in node for k in _keys(item)}
    return set()


def test_every_field_of_the_schema_is_named_and_used_in_an_example() -> None:
    """Each property of the format appears as `field` in the text and as a key in an example."""
    named = {field for field in _fields() if f"`{field}`" in PAGE}
    assert _fields() - named == set()
    used = {key for name, text in EXAMPLES if name != "fixture" for key in _keys(_load(text))}
    assert _fields() - used == set()


def test_every_definition_of_the_schema_has_an_example() -> None:
    """Triggers, windows, tasks, deadlines...: one `<!-- example: Def -->` block each."""
    shown = {name for name, _text in EXAMPLES}
    assert set(SCHEMA["$defs"]) - shown == set()
    assert set(WHOLE) <= shown


@pytest.mark.parametrize(
    ("name", "text"), [e for e in EXAMPLES if e[0] not in ("fixture",)], ids=lambda v: v[:20]
)
def test_each_example_validates_against_its_definition(name: str, text: str) -> None:
    """The example is valid for schemas/json/playbook.schema.json's $defs[name] (or the whole)."""
    target = SCHEMA if name == "playbook" else {"$ref": f"#/$defs/{name}", "$defs": SCHEMA["$defs"]}
    validator = jsonschema_rs.validator_for(target)
    errors = [str(e) for e in validator.iter_errors(_load(text))]
    assert errors == []


def test_an_example_that_breaks_the_schema_is_caught() -> None:
    """The check above can fail: a misspelt field in a task is refused by the schema."""
    target = {"$ref": "#/$defs/TaskSpec", "$defs": SCHEMA["$defs"]}
    broken = _load(_example("TaskSpec").replace("title:", "titel:"))
    assert not jsonschema_rs.validator_for(target).is_valid(broken)


def test_the_whole_playbook_loads_and_its_fixture_passes(tmp_path: Path) -> None:
    """The page's playbook goes through the real loader; its fixture runs through the engine."""
    playbook = load_playbook_text(_example("playbook"), "payment_fraud.yaml")
    assert playbook.id == "payment_fraud"
    (tmp_path / "payment_fraud.yaml").write_text(_example("playbook"))
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "payment_fraud.yaml").write_text(_example("fixture"))
    results = run_directory(tmp_path, tmp_path / "tests")
    assert [r.name for r in results if not r.passed] == []
    assert len(results) == 2


def test_the_default_matrix_on_the_page_is_the_engines() -> None:
    """The matrix written out as the default is the one the engine uses without a `matrix`."""
    from orchestrator.engine import DEFAULT_INITIAL, Matrix

    written = _load(_example("SeveritySpec"))
    default = Matrix()
    assert tuple(written["matrix"]["likelihood"]) == default.likelihood
    assert tuple(written["matrix"]["impact"]) == default.impact
    assert tuple(map(tuple, written["matrix"]["cells"])) == default.cells
    assert (written["initial"]["likelihood"], written["initial"]["impact"]) == DEFAULT_INITIAL
