"""CloudEvents' HTTP protocol binding (1.0): a binary-mode request as a structured record.

Structured (`application/cloudevents+json`) and batched (`application/cloudevents-batch+json`)
requests carry JSON-format events in the body, the records intake already takes. A binary-mode
request carries the attributes in `ce-<name>` headers, `datacontenttype` in `Content-Type` and
the data as the body; `binary_record` turns it into the JSON-format record a structured request
would carry, so validation, dedupe and dead letters are the same for every mode.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import unquote

import msgspec

CE_PREFIX = "ce-"
CONTENT_TYPE = "content-type"
CLOUDEVENTS_MEDIA_TYPE = "application/cloudevents"
"""A Content-Type with this prefix is structured or batched mode (the body holds the events)."""
NOT_HEADERS = frozenset({"data", "data_base64", "datacontenttype"})
"""Names a `ce-` header cannot set: the data is the body, its content type is Content-Type."""
_ESCAPED = re.compile(r"\\(.)")
_JSON_VALUE = msgspec.json.Decoder(msgspec.Raw)
"""Checks a body is exactly one JSON value, without building it."""


def binary_headers(raw_headers: Sequence[tuple[bytes, bytes]]) -> dict[str, str] | None:
    """The CloudEvents headers (`ce-*` and Content-Type, as sent) of a binary-mode request;
    None for any other request (structured, batched, or plain JSON with no `ce-` header, which
    intake has always read as structured). Names come in lower case, as ASGI gives them."""
    if not any(name[:3] == b"ce-" for name, _ in raw_headers):
        return None
    found = {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in raw_headers
        if name[:3] == b"ce-" or name == b"content-type"
    }
    if found.get(CONTENT_TYPE, "").lower().startswith(CLOUDEVENTS_MEDIA_TYPE):
        return None
    return found


def header_value(value: str) -> str:
    """An attribute value from its header: a quoted string unquoted, then percent-decoded as
    UTF-8 (a byte sequence that is not UTF-8 becomes U+FFFD rather than failing the event)."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = _ESCAPED.sub(r"\1", value[1:-1])
    return unquote(value, errors="replace") if "%" in value else value


def is_json(content_type: str | None) -> bool:
    """True for a JSON media type (`application/json`, `text/json`, `*/*+json`) or none at all
    (the SDKs leave Content-Type out when they write data as JSON)."""
    if content_type is None:
        return True
    media = content_type.partition(";")[0].strip().lower()
    return media in ("application/json", "text/json") or media.endswith("+json")


def binary_record(headers: dict[str, str], body: bytes) -> bytes:
    """The JSON-format record of a binary-mode HTTP event: every `ce-<name>` header as
    attribute `<name>`, Content-Type as `datacontenttype` and the body as `data`
    (`attributes_record`)."""
    attributes = {
        name[len(CE_PREFIX) :]: header_value(value)
        for name, value in headers.items()
        if name.startswith(CE_PREFIX) and name[len(CE_PREFIX) :] not in NOT_HEADERS
    }
    return attributes_record(attributes, headers.get(CONTENT_TYPE), body)


def attributes_record(attributes: dict[str, str], content_type: str | None, body: bytes) -> bytes:
    """The JSON-format record of a binary-mode event of any binding: its decoded `attributes`,
    `content_type` as `datacontenttype` and the body as `data`, spliced in as sent so the
    validator reads the sender's own JSON.

    A body that is not JSON under a JSON content type is returned as it is: the validator
    refuses it as not JSON, and its dead letter keeps it with the headers (the Origin's). Data
    of another content type becomes a string, which the validator refuses (`data` is an
    object)."""
    if content_type is not None:
        attributes = {**attributes, "datacontenttype": content_type}
    if not is_json(content_type):
        attributes = {**attributes, "data": body.decode("utf-8", errors="backslashreplace")}
        return msgspec.json.encode(attributes)
    try:
        data = bytes(_JSON_VALUE.decode(body))
    except msgspec.DecodeError:
        return body
    except RecursionError:  # deeper than the decoder goes: the validator refuses it by name
        data = body
    return with_data(msgspec.json.encode(attributes), data)


def with_data(attributes: bytes, data: bytes) -> bytes:
    """A JSON object's bytes (`attributes`, encoded) with member `data` set to the JSON value
    `data`, spliced in without decoding it: how a binary event and an emitted one get their
    data."""
    head = attributes[:-1]
    return head + (b',"data":' if len(head) > 1 else b'"data":') + data + b"}"
