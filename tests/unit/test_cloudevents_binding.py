"""The CloudEvents HTTP binding's binary mode as a structured record: which requests are
binary, how header values decode (quoted strings, percent-encoding) and where the data goes."""

from __future__ import annotations

import contextlib
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.adapters import binary_headers, binary_record
from orchestrator.engine.validate import EventValidator
from orchestrator.errors import EventRejected

ATTRIBUTES = {
    "ce-specversion": "1.0",
    "ce-id": "b-1",
    "ce-source": "mon/prom",
    "ce-type": "ops.alert",
    "ce-time": "2026-11-20T10:00:00Z",
}
VALIDATOR = EventValidator()
DATA = b'{"alertname":"Down","service":"pay","status":"firing","severity":"critical"}'


def raw(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode(), v.encode("latin-1")) for k, v in headers.items()]


def test_only_requests_with_ce_headers_outside_the_cloudevents_media_types_are_binary() -> None:
    """ce- headers make a request binary unless its Content-Type says structured or batched;
    a plain JSON post without them stays on the structured path it always took."""
    json_type = {"Content-Type": "application/json"}
    assert binary_headers(raw({**ATTRIBUTES, **json_type})) == {
        **ATTRIBUTES,
        "content-type": "application/json",
    }
    assert binary_headers(raw({**ATTRIBUTES, "Authorization": "Bearer x"})) == ATTRIBUTES
    assert binary_headers(raw(json_type)) is None
    for media in ("application/cloudevents+json", "Application/CloudEvents-Batch+JSON"):
        assert binary_headers(raw({**ATTRIBUTES, "Content-Type": media})) is None


def test_header_names_are_case_insensitive_and_values_percent_and_quote_decoded() -> None:
    """CE-Subject is `subject`; percent-encoded UTF-8 and quoted strings decode per the spec;
    an extension header becomes a string attribute; a ce-data header cannot replace the body."""
    headers = binary_headers(
        raw(
            {
                **ATTRIBUTES,
                "CE-Subject": "Euro%20%E2%82%AC%20%F0%9F%98%80",
                "ce-region": '"eu \\"west\\""',
                "ce-traceparent": "00-abc-01",
                "ce-data": "{}",
                "ce-datacontenttype": "text/plain",
                "Content-Type": "application/json; charset=utf-8",
            }
        )
    )
    assert headers is not None
    record = json.loads(binary_record(headers, DATA))
    assert record["subject"] == "Euro € 😀"
    assert record["region"] == 'eu "west"'
    assert record["traceparent"] == "00-abc-01"
    assert record["datacontenttype"] == "application/json; charset=utf-8"
    assert record["data"] == json.loads(DATA)


def test_a_binary_event_parses_to_the_event_its_structured_form_does() -> None:
    """The validator sees the same Event for the binary record as for the structured body."""
    structured = json.dumps({**{k[3:]: v for k, v in ATTRIBUTES.items()}, "data": json.loads(DATA)})
    binary = binary_record(ATTRIBUTES, b"  " + DATA + b"\n")
    assert VALIDATOR.parse(binary) == VALIDATOR.parse(structured.encode())


def test_a_body_that_is_not_one_json_value_is_kept_as_sent() -> None:
    """Not JSON (or JSON with something after it, which could smuggle attributes in) is
    passed on as the body itself, for the validator to refuse as not JSON."""
    for body in (b"not json", b'{}, "source": "trusted/source"', b""):
        assert binary_record(ATTRIBUTES, body) == body


def test_data_of_another_content_type_is_a_string() -> None:
    """Text data is a string attribute, which the validator refuses (data is an object)."""
    record = json.loads(binary_record({**ATTRIBUTES, "content-type": "text/plain"}, b"hello"))
    assert record["data"] == "hello"
    assert record["datacontenttype"] == "text/plain"


def test_bytes_that_are_not_utf8_never_fail_the_conversion() -> None:
    """A percent-encoded byte sequence that is not UTF-8 decodes to U+FFFD."""
    record = json.loads(binary_record({**ATTRIBUTES, "ce-subject": "a%C0%A0b"}, DATA))
    assert record["subject"] == "a\ufffd\ufffdb"


@settings(max_examples=300, deadline=None)
@given(
    values=st.dictionaries(
        st.sampled_from(["ce-id", "ce-source", "ce-type", "ce-time", "ce-subject", "ce-x1"]),
        st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=30),
    ),
    content_type=st.sampled_from([None, "application/json", "text/plain", "x/y+json; a=b"]),
    body=st.one_of(st.binary(max_size=60), st.just(DATA), st.just(b"[" * 100 + b"]" * 100)),
)
def test_any_binary_request_becomes_an_event_or_a_reason(
    values: dict[str, str], content_type: str | None, body: bytes
) -> None:
    """Whatever the headers and body, the record converts and the validator either takes it
    or names a reason (EventRejected): nothing else escapes, so intake never answers 500."""
    headers = {**ATTRIBUTES, **values}
    if content_type is not None:
        headers["content-type"] = content_type
    record = binary_record(headers, body)
    with contextlib.suppress(EventRejected):
        VALIDATOR.parse(record)
