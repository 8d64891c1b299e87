"""`python -m orchestrator.api > docs/openapi.json`: print the app's OpenAPI document."""

import sys

from orchestrator.api.document import document, render
from orchestrator.logs import configure_logging

configure_logging(level="warning")
sys.stdout.write(render(document()))
