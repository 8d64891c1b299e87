"""The event envelope (CloudEvents 1.0, JSON structured mode) and the built-in event catalogue."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

NonEmpty = Field(min_length=1)
RFC3339_START = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")
"""How an RFC 3339 timestamp starts; pydantic alone would also take epoch numbers."""
EARLIEST_TIME = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(9000, 1, 1, tzinfo=UTC)
"""Event times the engine supports: [EARLIEST_TIME, LATEST_TIME). Every deadline a playbook can
schedule from such a time stays inside the datetime range, so no time is ever unprintable."""
MAX_ID_CHARS = 512
"""The longest `id`, `source` or `subject`: they are dedupe keys and timeline references, held
in memory for the dedupe horizon."""


class Event(BaseModel):
    """One CloudEvents 1.0 envelope; `time` is event time and drives every window and timer."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: str = Field(
        min_length=1,
        max_length=MAX_ID_CHARS,
        description="Unique per source; (source, id) is the dedupe key.",
    )
    source: str = Field(
        min_length=1,
        max_length=MAX_ID_CHARS,
        description="The emitter, e.g. monitoring/prometheus.",
    )
    type: str = Field(min_length=1, description="An event type from the catalogue or a playbook.")
    time: AwareDatetime = Field(description="RFC 3339 timestamp with offset: event time.")
    specversion: Literal["1.0"] = "1.0"
    subject: str | None = Field(default=None, max_length=MAX_ID_CHARS)
    data: dict[str, Any] = Field(description="Fields per event type.")

    @field_validator("time", mode="before")
    @classmethod
    def _rfc3339_only(cls, value: object) -> object:
        """Refuse epoch numbers and other forms that are not RFC 3339 timestamps."""
        if isinstance(value, datetime) or (isinstance(value, str) and RFC3339_START.match(value)):
            return value
        raise ValueError("expected an RFC 3339 timestamp with offset, e.g. 2026-11-20T10:00:00Z")

    @field_validator("time")
    @classmethod
    def _supported(cls, value: datetime) -> datetime:
        """Refuse times outside [EARLIEST_TIME, LATEST_TIME): the engine cannot schedule them."""
        if not EARLIEST_TIME <= value < LATEST_TIME:
            raise ValueError(
                f"event time {value.isoformat()} is outside the supported range "
                f"{EARLIEST_TIME:%Y-%m-%d} to {LATEST_TIME:%Y-%m-%d} (UTC)"
            )
        return value


class EventData(BaseModel):
    """Base of every `data` model: extra fields are kept, known ones are typed."""

    model_config = ConfigDict(extra="allow")


AlertSeverity = Literal["critical", "warning", "info"]
ALERT_SEVERITIES: tuple[str, ...] = get_args(AlertSeverity)
"""The severities an `ops.alert` may carry."""


class OpsAlert(EventData):
    """`ops.alert`: a monitoring alert firing or resolving."""

    alertname: str = Field(min_length=1)
    service: str = Field(min_length=1)
    status: Literal["firing", "resolved"]
    severity: AlertSeverity
    summary: str | None = None
    labels: dict[str, str] | None = None
    value: float | None = None
    fingerprint: str | None = Field(
        default=None,
        description="The alert instance (Alertmanager's fingerprint); without it the label set "
        "or the alert name tells instances apart.",
    )


class OpsMetric(EventData):
    """`ops.metric`: one sample of a service metric (error_rate is a fraction 0..1)."""

    service: str = Field(min_length=1)
    metric: str = Field(min_length=1)
    value: float


class BizKpi(EventData):
    """`biz.kpi`: a business KPI value for one day."""

    kpi: str = Field(min_length=1)
    value: float
    period: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD")
    region: str | None = None


class ShipmentDelayed(EventData):
    """`supply.shipment_delayed`: a shipment is late."""

    supplier: str = Field(min_length=1)
    shipment_id: str = Field(min_length=1)
    delay_hours: float = Field(ge=0)
    sku: str | None = None
    region: str | None = None


class InventoryLevel(EventData):
    """`supply.inventory_level`: stock on hand against safety stock."""

    sku: str = Field(min_length=1)
    warehouse: str = Field(min_length=1)
    on_hand: int = Field(ge=0)
    safety_stock: int = Field(ge=0)


class SecurityAlert(EventData):
    """`security.alert`: a security finding, possibly exposing records."""

    kind: Literal["intrusion", "exfiltration", "credential_leak", "malware", "unauthorized_access"]
    asset: str = Field(min_length=1)
    records_exposed: int = Field(ge=0)
    pii: bool
    confidence: float | None = Field(default=None, ge=0, le=1)


class Complaint(EventData):
    """`cs.complaint`: one customer complaint with its sentiment (-1..1)."""

    channel: Literal["phone", "email", "chat", "social", "review"]
    topic: str = Field(min_length=1)
    sentiment: float = Field(ge=-1, le=1)
    customer_id: str | None = None
    product: str | None = None


class SocialMention(EventData):
    """`social.mention`: a public mention with its reach and sentiment."""

    platform: str = Field(min_length=1)
    reach: int = Field(ge=0)
    sentiment: float = Field(ge=-1, le=1)
    topic: str | None = None
    url: str | None = None


CATALOGUE: dict[str, type[EventData]] = {
    "ops.alert": OpsAlert,
    "ops.metric": OpsMetric,
    "biz.kpi": BizKpi,
    "supply.shipment_delayed": ShipmentDelayed,
    "supply.inventory_level": InventoryLevel,
    "security.alert": SecurityAlert,
    "cs.complaint": Complaint,
    "social.mention": SocialMention,
}
"""The built-in event types and their `data` models (contracts section 2)."""
