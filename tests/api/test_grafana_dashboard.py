"""deploy/grafana/orchestrator.json charts metrics that exist: every series its queries name is
on the app's /metrics page, and every query is PromQL that `promtool check rules` accepts."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from apikit import Api
from prometheus_client.parser import text_string_to_metric_families

from orchestrator.testing.monitoring import tool

DASHBOARD = Path(__file__).parents[2] / "deploy" / "grafana" / "orchestrator.json"
SERIES = re.compile(r"\b((?:orchestrator|process|python)_[a-z_]+)\b")


def queries() -> list[str]:
    """The PromQL of every panel, with the dashboard's $job variable set to match all."""
    panels = json.loads(DASHBOARD.read_text())["panels"]
    exprs = [target["expr"] for panel in panels for target in panel["targets"]]
    assert exprs
    assert all(exprs)
    return [expr.replace("$job", ".*") for expr in exprs]


def test_every_series_the_dashboard_charts_is_on_the_metrics_page(api: Api) -> None:
    """A series name in a query that /metrics does not have would chart nothing, silently."""
    api.client.get("/metrics")  # a scrape's own latency shows from the next one on
    text = api.client.get("/metrics").text
    present = {s.name for family in text_string_to_metric_families(text) for s in family.samples}
    wanted = {name for expr in queries() for name in SERIES.findall(expr)}
    assert wanted
    assert wanted - present == set()


def test_every_query_is_valid_promql(tmp_path: Path) -> None:
    """The queries as recording rules pass `promtool check rules`."""
    rules = [{"record": f"dashboard:query_{n}", "expr": q} for n, q in enumerate(queries())]
    path = tmp_path / "rules.yml"
    path.write_text(json.dumps({"groups": [{"name": "dashboard", "rules": rules}]}))
    checked = subprocess.run(
        [tool("promtool"), "check", "rules", str(path)],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()
