"""The OpenAPI document: generated from the app, committed as docs/openapi.json.

Regenerate the committed file after changing the API:

    python -m orchestrator.api > docs/openapi.json
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from orchestrator.api.app import create_app
from orchestrator.engine import Engine
from orchestrator.runtime.embedded import EmbeddedRuntime

REGENERATE = "python -m orchestrator.api > docs/openapi.json"


def render(schema: dict[str, Any]) -> str:
    """The document as committed: indented JSON with a final newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def document() -> dict[str, Any]:
    """The app's OpenAPI document (built over an empty throwaway runtime)."""
    with tempfile.TemporaryDirectory() as tmp:
        runtime = EmbeddedRuntime.open(Engine([]), Path(tmp))
        try:
            return create_app(runtime).openapi()
        finally:
            runtime.close()
