"""The rosters format: who is on call for each role, when, and how to reach them (a YAML file
beside the responders file). Unknown fields are refused."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.playbook import Duration

Name = Annotated[str, Field(min_length=1, max_length=100, description="A responder's name.")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ClockTime = Annotated[
    str,
    Field(
        pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$",
        description="A local time of day, HH:MM (24:00 is the end of the day).",
        examples=["09:00", "17:30"],
    ),
]
LocalStart = Annotated[
    str,
    Field(
        pattern=r"^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d$",
        description="A local date and time (no offset) in the layer's zone: the first handoff.",
        examples=["2026-11-16T09:00"],
    ),
]
Instant = Annotated[
    str,
    Field(
        pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$",
        description="An RFC 3339 time with offset.",
        examples=["2026-11-20T10:00:00Z"],
    ),
]


class Spec(BaseModel):
    """Base of every rosters model: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Restriction(Spec):
    """Hours a layer is on call, on the given weekdays, in the layer's zone (from < to)."""

    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS), min_length=1)
    from_: ClockTime = Field(alias="from")
    to: ClockTime


class LayerSpec(Spec):
    """A rotation: members take turns of `shift`, handing off at the local time of `start`.

    A shift of whole days hands off at that local time (so across DST changes too; a time the
    clocks skip counts with the offset before the change, an ambiguous one is its first
    occurrence, as in iCalendar); a shorter one hands off every `shift` of elapsed time."""

    name: Annotated[str, Field(min_length=1, max_length=64)]
    members: list[Name] = Field(min_length=1, max_length=500)
    start: LocalStart
    zone: Annotated[str, Field(min_length=1, max_length=64, examples=["Europe/Berlin"])]
    shift: Duration
    restrict: list[Restriction] = Field(
        default_factory=list,
        max_length=50,
        description="When the layer is on call (e.g. working hours); always when empty.",
    )


class OverrideSpec(Spec):
    """Someone on call instead, from `from` until `until`; a later override wins over an
    earlier one where they overlap (an override of an override)."""

    responder: Name
    from_: Instant = Field(alias="from")
    until: Instant
    reason: Annotated[str, Field(max_length=500)] = ""


class RoleRoster(Spec):
    """One role's roster: its layers (a later layer wins where it has someone), overrides and
    fallback (when no override or layer has anyone)."""

    layers: list[LayerSpec] = Field(default_factory=list, max_length=50)
    overrides: list[OverrideSpec] = Field(default_factory=list, max_length=10_000)
    fallback: list[Name] = Field(default_factory=list, max_length=50)


class Contact(Spec):
    """How to reach a responder: any of an email address, a webhook URL and a chat (Slack or
    Mattermost incoming-webhook) URL."""

    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=320)] | None = None
    webhook: Annotated[str, Field(pattern=r"^https?://", max_length=2000)] | None = None
    chat: Annotated[str, Field(pattern=r"^https?://", max_length=2000)] | None = None


class RostersSpec(Spec):
    """A rosters file: per role, who is on call when; a default fallback; contacts."""

    roles: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], RoleRoster] = Field(
        default_factory=dict
    )
    fallback: list[Name] = Field(
        default_factory=list, description="For a role with nobody on call and no fallback."
    )
    contacts: dict[str, Contact] = Field(default_factory=dict)
