"""The OpenAPI document: generated from the app, committed as docs/openapi.json.

Regenerate the committed file after changing the API:

    python -m orchestrator.api > docs/openapi.json
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from orchestrator.api.models import Problem

REGENERATE = "python -m orchestrator.api > docs/openapi.json"


def install_openapi(app: FastAPI) -> None:
    """Make `app.openapi()` include the problem+json schema every error response refers to."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components["Problem"] = Problem.model_json_schema()
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def render(schema: dict[str, Any]) -> str:
    """The document as committed: indented JSON with a final newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def document() -> dict[str, Any]:
    """The app's OpenAPI document (built over an empty throwaway runtime)."""
    from orchestrator.api.app import create_app
    from orchestrator.engine.step import Engine
    from orchestrator.runtime.embedded import EmbeddedRuntime

    with tempfile.TemporaryDirectory() as tmp:
        runtime = EmbeddedRuntime.open(Engine([]), Path(tmp))
        try:
            return create_app(runtime).openapi()
        finally:
            runtime.close()
