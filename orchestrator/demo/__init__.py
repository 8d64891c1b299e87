"""The bundled demo drill: one day of signals that exercises all five shipped playbooks, and the
responders who act in it (an example responders file) and their rosters."""

from importlib.resources import files
from pathlib import Path

DEMO_LOG = Path(str(files("orchestrator.demo").joinpath("demo.jsonl")))
"""The bundled log (regenerate with `python -m orchestrator.demo.generate`)."""
DEMO_RESPONDERS = Path(str(files("orchestrator.demo").joinpath("responders.yaml")))
"""The responders who act in the bundled log, with public tokens for trying it live."""
DEMO_ROSTERS = Path(str(files("orchestrator.demo").joinpath("rosters.yaml")))
"""Who is on call for each role of the demo, and when: the demo's pages follow it."""
DEMO_UNTIL = "2026-11-20T18:00:00Z"
"""The drill's clock runs to the end of the business day, so ignored tasks escalate."""

__all__ = ["DEMO_LOG", "DEMO_RESPONDERS", "DEMO_ROSTERS", "DEMO_UNTIL"]
