"""A role's on-call calendar as iCalendar (RFC 5545): one event per span someone is on call."""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar, Event

from orchestrator.engine import Millis, Rosters

PRODUCT_ID = "-//incident-orchestrator//on-call//EN"


def _utc(at: Millis) -> datetime:
    return datetime.fromtimestamp(at / 1000, UTC)


def on_call_calendar(rosters: Rosters, role: str, start: Millis, end: Millis) -> bytes:
    """The calendar of who is on call for `role` from `start` to `end`; the same rosters and
    range give the same bytes (event ids and stamps come from the spans, not the clock)."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"On call: {role}")
    for begin, finish, who in rosters.spans(role, start, end):
        if not who.responders:
            continue
        names = ", ".join(who.responders)
        event = Event()
        event.add("uid", f"{role}-{begin}-{finish}@incident-orchestrator")
        event.add("dtstamp", _utc(start))
        event.add("dtstart", _utc(begin))
        event.add("dtend", _utc(finish))
        event.add("summary", f"{role} on call: {names}")
        event.add("description", f"via {who.via} {who.source}".strip())
        calendar.add_component(event)
    return bytes(calendar.to_ical())
