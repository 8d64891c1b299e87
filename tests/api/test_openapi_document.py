"""The committed OpenAPI document is the app's: regenerate it when the API changes."""

from __future__ import annotations

import json
from pathlib import Path

from orchestrator.api.document import REGENERATE, document, render

COMMITTED = Path(__file__).parents[2] / "docs" / "openapi.json"


def test_committed_openapi_matches_the_app() -> None:
    """docs/openapi.json equals the app's schema, byte for byte."""
    assert COMMITTED.is_file(), f"docs/openapi.json is missing; run: {REGENERATE}"
    generated = render(document())
    if COMMITTED.read_text(encoding="utf-8") != generated:
        committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
        current = json.loads(generated)
        changed = sorted(set(committed["paths"]) ^ set(current["paths"]))
        raise AssertionError(
            f"docs/openapi.json is stale (paths added/removed: {changed}); "
            f"regenerate it with: {REGENERATE}"
        )


def test_every_operation_documents_its_errors_as_problems() -> None:
    """Every operation but health and metrics needs a token and documents problem+json errors."""
    schema = document()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if path in ("/healthz", "/readyz", "/metrics"):
                assert "security" not in operation
                continue
            assert "401" in operation["responses"], (method, path)
            problem = operation["responses"]["401"]["content"]["application/problem+json"]
            assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert "Problem" in schema["components"]["schemas"]
