"""`orchestrator run` end to end: the email of an assigned task reaches a real SMTP server on
loopback through the ORCH_SMTP_* settings (STARTTLS with a private CA, login), and the signed
link in it acknowledges the task on the running service once."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import trustme
from notifykit import post_alert
from receivers import smtp_server

from orchestrator.testing.servers import serve

INGEST = "ingest-token-for-service-test"
DANA = "dana-token-for-service-test"
USER, PASSWORD = "orchestrator", "smtp-password-for-service-test"


def test_run_emails_the_page_and_its_link_acknowledges_once(tmp_path: Path) -> None:
    """One email to dana with the public URL's links; POST on its link: 202, the task is
    dana's; the same link again: 410."""
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    rosters = tmp_path / "rosters.yaml"
    rosters.write_text(
        "roles:\n  ops:\n    layers:\n      - {name: all, members: [dana], start: "
        '"2026-01-01T00:00", zone: UTC, shift: 7d}\n'
        "contacts:\n  dana: {email: dana@example.com}\n",
        encoding="utf-8",
    )
    responders = {"responders": [{"name": "dana", "token": DANA, "roles": ["ops"]}]}
    with smtp_server(USER, PASSWORD, ca) as box:
        env = {
            "ORCH_ROSTERS_FILE": str(rosters),
            "ORCH_RESPONDERS": json.dumps(responders),
            "ORCH_INGEST_TOKEN": INGEST,
            "ORCH_LINK_SECRET": "service-test-link-secret",
            "ORCH_SMTP_HOST": "127.0.0.1",
            "ORCH_SMTP_PORT": str(box.port),
            "ORCH_SMTP_USERNAME": USER,
            "ORCH_SMTP_PASSWORD": PASSWORD,
            "ORCH_SMTP_CA_FILE": str(ca_file),
            "ORCH_SMTP_FROM": "pager@example.com",
            "ORCH_NOTIFY_POLL_SECONDS": "0.2",
        }
        with serve(tmp_path, env) as server:
            post_alert(server.url, INGEST)
            deadline = time.monotonic() + 60
            while not box.messages and time.monotonic() < deadline:
                time.sleep(0.1)
            (message,) = box.messages
            text = message.get_payload(decode=True).decode()
            link = re.search(r"Acknowledge: (\S+)", text)
            assert link is not None, text
            url = link.group(1)
            assert url.startswith(server.url + "/links/tasks/")
            first = httpx.post(url)
            second = httpx.post(url)
            tasks = httpx.get(
                server.url + "/roles/ops/tasks", headers={"Authorization": f"Bearer {DANA}"}
            ).json()
            log_text = server.log_text()
    assert message["To"] == "dana@example.com"
    assert box.logins == [USER]
    assert (first.status_code, second.status_code) == (202, 410)
    (triage,) = [t for t in tasks if t["name"] == "triage"]
    assert (triage["status"], triage["acknowledged_by"]) == ("acknowledged", "dana")
    token = url.split("token=")[1]
    assert token not in log_text
