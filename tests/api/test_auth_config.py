"""Responders from a file (YAML or JSON) or the environment; only hashes are kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.auth import AuthConfigError, hash_token, load_responders_file
from orchestrator.settings import Settings

PLAIN = "plain-token-0123456789"


def test_yaml_file_with_hashed_and_plain_tokens(tmp_path: Path) -> None:
    """token_sha256 and plain token both work; the plain token itself is not kept."""
    path = tmp_path / "responders.yaml"
    path.write_text(
        "responders:\n"
        f"  - {{name: alice, token_sha256: {hash_token('alice-secret-0001')}, roles: [ops]}}\n"
        f"  - {{name: pr-agent, token: {PLAIN}, roles: [pr]}}\n"
        "  - {name: board, token_sha256: " + hash_token("board-secret-0001") + "}\n"
    )
    responders = load_responders_file(path)
    assert [(r.name, sorted(r.roles)) for r in responders] == [
        ("alice", ["ops"]),
        ("pr-agent", ["pr"]),
        ("board", []),
    ]
    assert PLAIN not in repr(responders)
    assert responders[1].token_sha256 == hash_token(PLAIN)


def test_json_file_and_lookup(tmp_path: Path) -> None:
    """A JSON file works too; a token finds its responder, a wrong one finds none."""
    path = tmp_path / "responders.json"
    path.write_text(
        json.dumps(
            {
                "responders": [
                    {"name": "ic", "token": "commander-token-0001", "roles": ["incident_commander"]}
                ]
            }
        )
    )
    auth = Settings(responders_file=path).auth()
    found = auth.responder("commander-token-0001")
    assert found is not None
    assert found.commander
    assert found.may_act_on("legal")
    assert auth.responder("commander-token-0002") is None


def test_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """ORCH_RESPONDERS (JSON list) and ORCH_INGEST_TOKEN configure auth without a file."""
    monkeypatch.setenv(
        "ORCH_RESPONDERS",
        json.dumps([{"name": "bob", "token": "bob-token-00000001", "roles": ["legal"]}]),
    )
    monkeypatch.setenv("ORCH_INGEST_TOKEN", "ingest-0000000001")
    auth = Settings().auth()
    bob = auth.responder("bob-token-00000001")
    assert bob is not None
    assert bob.may_act_on("legal")
    assert not bob.may_act_on("pr")
    assert auth.ingest_allowed("ingest-0000000001")
    assert not auth.ingest_allowed("bob-token-00000001")
    assert not auth.ingest_allowed(None)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("responders: [{name: a, roles: [ops]}]", "exactly one of token_sha256"),
        ("responders: [{name: a, token_sha256: abc, roles: [ops]}]", "64 lowercase hex"),
        ("responders: [{name: a, token: short, roles: [ops]}]", "at least 16"),
        ("responders: [{name: a, token: aaaaaaaaaaaaaaaaaaaa, role: ops}]", "role"),
        (
            "responders: [{name: a, token: aaaaaaaaaaaaaaaaaaaa},"
            " {name: a, token: bbbbbbbbbbbbbbbbbb}]",
            "listed twice",
        ),
        (
            "responders: [{name: a, token: aaaaaaaaaaaaaaaaaaaa},"
            " {name: b, token: aaaaaaaaaaaaaaaaaaaa}]",
            "shares a token",
        ),
        ("responders: [", "not valid YAML"),
    ],
)
def test_bad_files_say_where_and_what(tmp_path: Path, content: str, message: str) -> None:
    """Every mistake in the responders file is refused with the file name and the problem."""
    path = tmp_path / "responders.yaml"
    path.write_text(content)
    with pytest.raises(AuthConfigError) as caught:
        load_responders_file(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    """A responders file that does not exist is an error naming it, not an open API."""
    with pytest.raises(AuthConfigError, match="cannot read"):
        Settings(responders_file=tmp_path / "nope.yaml").auth()
