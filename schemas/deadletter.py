"""Dead-letter records: rejected input kept with its raw bytes, reason and origin."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Origin(BaseModel):
    """Where a record came from: a file line, an HTTP request or a Kafka offset."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="file, http or kafka")
    name: str | None = Field(default=None, description="File path, endpoint or topic.")
    partition: int | None = None
    offset: int | None = Field(default=None, description="Kafka offset or 1-based file line.")
    sender: str | None = Field(
        default=None, description="The named ingest sender that sent it over HTTP (audit)."
    )
    headers: dict[str, str] | None = Field(
        default=None,
        description="The CloudEvents headers of a binary-mode event (HTTP: ce-* and "
        "Content-Type, as sent; Kafka: ce_* and content-type record headers, names in lower "
        "case); its record is the structured event made from them and the body (the record's "
        "value on Kafka), or the body as sent when that is not JSON under a JSON content type. "
        "Left out when absent, "
        "so other origins (and dead-letter ids hashed from them) read as before.",
        exclude_if=lambda headers: headers is None,
    )


class DeadLetter(BaseModel):
    """A rejected record: never dropped silently, never fatal to the stream."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Deterministic id (hash of raw bytes and origin).")
    reason: str
    raw: str = Field(
        description="The raw bytes, decoded as UTF-8 with backslash escapes (to read)."
    )
    raw_b64: str = Field(description="The raw bytes exactly, base64 (to re-feed).")
    origin: Origin
    event_id: str | None = None
    source: str | None = None
