"""The bundled demo drill: one day of signals that exercises all five shipped playbooks, and the
responders who act in it (an example responders file)."""

from importlib.resources import files
from pathlib import Path

DEMO_LOG = Path(str(files("orchestrator.demo").joinpath("demo.jsonl")))
"""The bundled log (regenerate with `python -m orchestrator.demo.generate`)."""
DEMO_RESPONDERS = Path(str(files("orchestrator.demo").joinpath("responders.yaml")))
"""The responders who act in the bundled log, with public tokens for trying it live."""
DEMO_UNTIL = "2026-11-20T18:00:00Z"
"""The drill's clock runs to the end of the business day, so ignored tasks escalate."""

__all__ = ["DEMO_LOG", "DEMO_RESPONDERS", "DEMO_UNTIL"]
