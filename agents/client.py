"""The agents' view of the orchestrator: the HTTP API, with their responder token."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
from httpx_sse import connect_sse

from orchestrator.adapters import cloudevent_data
from orchestrator.errors import OrchestratorError
from schemas import Incident, TaskEvent

REQUEST_TIMEOUT = 10.0
FEED_READ_TIMEOUT = 60.0
"""The feed pings every 15 s; this much silence means the connection is gone."""


class ApiError(OrchestratorError):
    """The API refused a request; `status` and the problem's `detail` say why."""

    def __init__(self, status: int, detail: str, path: str) -> None:
        self.status = status
        self.detail = detail
        super().__init__(f"{path}: {status} {detail}")


class ApiClient:
    """Calls the API as one responder; the token travels in the Authorization header only."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    @classmethod
    def connect(cls, url: str, token: str) -> ApiClient:
        """A client for the API at `url` that authenticates with `token`."""
        headers = {"Authorization": f"Bearer {token}"}
        return cls(httpx.Client(base_url=url, headers=headers, timeout=REQUEST_TIMEOUT))

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def incident(self, incident_id: str) -> Incident:
        """One incident with its tasks and timeline."""
        return Incident.model_validate(self._checked(self.http.get(f"/incidents/{incident_id}")))

    def comment(self, task_id: str, text: str, key: str) -> dict[str, Any]:
        """Comment on a task (once per `key`, however often it is retried)."""
        response = self.http.post(
            f"/tasks/{task_id}/comment", json={"note": text}, headers={"Idempotency-Key": key}
        )
        receipt: dict[str, Any] = self._checked(response)
        return receipt

    def complete(self, task_id: str, outcome: str, key: str) -> dict[str, Any]:
        """Complete a task (once per `key`)."""
        response = self.http.post(
            f"/tasks/{task_id}/complete",
            json={"note": outcome},
            headers={"Idempotency-Key": key},
        )
        receipt: dict[str, Any] = self._checked(response)
        return receipt

    def feed(self, role: str, after: int) -> Iterator[tuple[int, TaskEvent]]:
        """The role's task events after outbox seq `after`, as they come (until disconnected)."""
        timeout = httpx.Timeout(REQUEST_TIMEOUT, read=FEED_READ_TIMEOUT)
        with connect_sse(
            self.http, "GET", f"/roles/{role}/feed", params={"after": after}, timeout=timeout
        ) as source:
            if source.response.status_code != httpx.codes.OK:
                source.response.read()
                self._checked(source.response)
            for message in source.iter_sse():
                if message.id and message.data:
                    data = cloudevent_data(message.data.encode("utf-8"))
                    yield int(message.id), TaskEvent.model_validate_json(data)

    @staticmethod
    def _checked(response: httpx.Response) -> Any:
        if response.is_success:
            return response.json()
        try:
            detail = str(response.json().get("detail", response.text))
        except ValueError:
            detail = response.text
        raise ApiError(response.status_code, detail, response.request.url.path)
