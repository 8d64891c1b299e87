"""Identities: responders (who may read and act on which tasks) and ingest senders (who may
submit events), each with a bearer token.

Only SHA-256 hashes of tokens are kept; a presented token is hashed and compared with
`hmac.compare_digest`. Both come from a YAML or JSON file (or responders from a JSON string):

    responders:
      - {name: alice, token_sha256: 5e88..., roles: [ops]}
      - {name: pr-agent, token: "s3cret", roles: [pr]}   # plain tokens are hashed at load
    senders:
      - {name: alertmanager, token_sha256: 9f86..., sources: ["alertmanager/*"]}
      - {name: erp-feed, token_sha256: 2c26...}          # any source
      - {name: bulk-import, token: "t0k", records_per_second: 100000}  # its own budget

`incident_commander` may act on every task; a responder with no roles may only read. A sender
may only submit events (never act as a responder), with the sources its patterns allow (any
when it has none); it is named in the audit trail and has its own rate limit. ORCH_INGEST_TOKEN
is one more sender, named `ingest`. Every token belongs to one identity only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from orchestrator.engine import INCIDENT_COMMANDER
from orchestrator.errors import AuthConfigError

REDACTED = "[redacted]"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_TOKENISH = re.compile(
    r"(?i)(\bbearer\s+|\b\w*(?:token|authorization|api_key|password|secret)[\"']?\s*[=:]\s*"
    r"[\"']?(?:bearer\s+)?)[^\s\"'&,;]{4,}"
)
_SECRET_KEYS = frozenset(
    {
        "authorization",
        "proxy_authorization",
        "token",
        "access_token",
        "ingest_token",
        "api_key",
        "x_api_key",
        "password",
        "secret",
        "cookie",
        "set_cookie",
    }
)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest of a token: what configuration stores and requests are checked by."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class _TokenSpec(BaseModel):
    """A named identity with exactly one of a token digest or a plain token."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    token_sha256: str | None = None
    token: str | None = Field(default=None, min_length=16, repr=False)

    @property
    def digest(self) -> str:
        """The token's SHA-256 digest (the plain token is hashed and not kept)."""
        return self.token_sha256 or hash_token(self.token or "")

    @model_validator(mode="after")
    def _one_token(self) -> _TokenSpec:
        if (self.token is None) == (self.token_sha256 is None):
            raise ValueError("give exactly one of token_sha256 (preferred) or token")
        if self.token_sha256 is not None and not _HEX64.match(self.token_sha256):
            raise ValueError("token_sha256 must be 64 lowercase hex digits (sha256sum output)")
        return self


class _ResponderSpec(_TokenSpec):
    """One entry of the file's `responders`."""

    roles: list[str] = Field(default_factory=list)


class _SenderSpec(_TokenSpec):
    """One entry of the file's `senders`: a named ingest credential."""

    sources: list[str] = Field(
        default_factory=list, description="Event sources it may claim (shell patterns)."
    )
    records_per_second: int | None = Field(
        default=None,
        ge=0,
        description="Its own records (events, a webhook's alerts) a second, in place of "
        "ORCH_INTAKE_RECORDS_PER_SECOND; 0 = not limited.",
    )
    bytes_per_second: int | None = Field(
        default=None,
        ge=0,
        description="Its own request body bytes a second, in place of "
        "ORCH_INTAKE_BYTES_PER_SECOND; 0 = not limited.",
    )


class _ResponderFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    responders: list[_ResponderSpec] = Field(default_factory=list)
    senders: list[_SenderSpec] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Responder:
    """A person or agent that calls the API, with the roles whose tasks they may act on."""

    name: str
    roles: frozenset[str]
    token_sha256: str = field(repr=False)

    @property
    def commander(self) -> bool:
        """True for an incident commander (acts on every task, resolves and closes)."""
        return INCIDENT_COMMANDER in self.roles

    def may_act_on(self, role: str) -> bool:
        """True when this responder may act on a task of `role`."""
        return self.commander or role in self.roles


@dataclass(frozen=True, slots=True)
class Sender:
    """A named ingest credential: a system that submits events (never acts on tasks)."""

    name: str
    token_sha256: str = field(repr=False)
    sources: tuple[str, ...] = ()
    """Shell patterns of the event sources it may claim; () = any."""
    records_per_second: int | None = None
    """Its own records budget a second (0 = not limited); None = the intake's default."""
    bytes_per_second: int | None = None
    """Its own body bytes budget a second (0 = not limited); None = the intake's default."""


INGEST_SENDER = "ingest"
"""The name of the sender that ORCH_INGEST_TOKEN configures."""


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """Who may do what. With no responders, reads are open and responder commands are refused;
    with no senders, intake is open (each client address its own rate-limit bucket)."""

    responders: tuple[Responder, ...] = ()
    ingest_sha256: str | None = field(default=None, repr=False)
    senders: tuple[Sender, ...] = ()
    all_senders: tuple[Sender, ...] = field(init=False, repr=False, compare=False)
    """The named senders, plus `ingest` for ORCH_INGEST_TOKEN when it is set (made once: every
    intake request looks its token up in it)."""

    def __post_init__(self) -> None:
        ingest = () if self.ingest_sha256 is None else (Sender(INGEST_SENDER, self.ingest_sha256),)
        object.__setattr__(self, "all_senders", (*self.senders, *ingest))

    @property
    def enforced(self) -> bool:
        """True when responders are configured (reads then need a valid token)."""
        return bool(self.responders)

    @property
    def intake_open(self) -> bool:
        """True when no sender is configured: anyone may submit events."""
        return not self.all_senders

    def responder(self, token: str) -> Responder | None:
        """The responder a bearer token belongs to, compared in constant time per responder."""
        return _match(hash_token(token), self.responders)

    def sender(self, token: str) -> Sender | None:
        """The sender a bearer token belongs to, compared in constant time per sender."""
        return _match(hash_token(token), self.all_senders)

    def ingest_allowed(self, token: str | None) -> bool:
        """True when intake is open or `token` belongs to a sender."""
        return self.intake_open or (token is not None and self.sender(token) is not None)

    def source_claims(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Each sender limited to some sources, with its patterns (for the engine)."""
        return tuple((s.name, s.sources) for s in self.all_senders if s.sources)


_Identity = TypeVar("_Identity", Responder, Sender)


def _match(digest: str, identities: tuple[_Identity, ...]) -> _Identity | None:
    """The identity whose token digest is `digest`; every one is compared (constant time)."""
    found = None
    for identity in identities:
        if hmac.compare_digest(digest, identity.token_sha256):
            found = identity
    return found


Identities = tuple[tuple[Responder, ...], tuple[Sender, ...]]
"""The responders and the senders of one configuration source."""


def identities_from(data: Any, where: str) -> Identities:
    """Responders and senders from parsed configuration data; AuthConfigError says what is
    wrong where."""
    try:
        parsed = _ResponderFile.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()
        )
        raise AuthConfigError(f"{where}: {problems}") from None
    responders = tuple(
        Responder(spec.name, frozenset(spec.roles), spec.digest) for spec in parsed.responders
    )
    senders = tuple(
        Sender(s.name, s.digest, tuple(s.sources), s.records_per_second, s.bytes_per_second)
        for s in parsed.senders
    )
    check_unique(responders, where, senders)
    return responders, senders


def responders_from(data: Any, where: str) -> tuple[Responder, ...]:
    """Responders from parsed configuration data (senders are checked, then left out)."""
    return identities_from(data, where)[0]


def check_unique(
    responders: Iterable[Responder], where: str, senders: Iterable[Sender] = ()
) -> None:
    """Refuse two identities with one name or one token: who acted must be unambiguous, and an
    ingest credential must never also be a responder's."""
    names: set[tuple[str, str]] = set()
    hashes: set[str] = set()
    identities = [("responder", r.name, r.token_sha256) for r in responders]
    identities += [("sender", s.name, s.token_sha256) for s in senders]
    for kind, name, digest in identities:
        if (kind, name) in names:
            raise AuthConfigError(f"{where}: {kind} {name!r} is listed twice")
        if digest in hashes:
            raise AuthConfigError(
                f"{where}: {kind} {name!r} shares a token with another identity; "
                "give every responder and every sender their own token"
            )
        names.add((kind, name))
        hashes.add(digest)


def load_identities_file(path: Path) -> Identities:
    """Responders and senders from a YAML or JSON file (JSON is YAML: one parser reads both)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise AuthConfigError(f"{path}: cannot read the responders file ({err.strerror})") from None
    except yaml.YAMLError as err:
        raise AuthConfigError(f"{path}: not valid YAML or JSON: {err}") from None
    return identities_from(data, str(path))


def load_responders_file(path: Path) -> tuple[Responder, ...]:
    """Responders from a YAML or JSON file."""
    return load_identities_file(path)[0]


def load_responders_json(text: str, where: str = "ORCH_RESPONDERS") -> tuple[Responder, ...]:
    """Responders from a JSON string (an object with `responders`, or just the list)."""
    try:
        data = json.loads(text)
    except ValueError as err:
        raise AuthConfigError(f"{where}: not valid JSON: {err}") from None
    return responders_from({"responders": data} if isinstance(data, list) else data, where)


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: blank secret-named fields and anything that looks like a token."""
    return {key: _redact(key, value) for key, value in event_dict.items()}


def _redact(key: str, value: Any) -> Any:
    if key.lower().replace("-", "_") in _SECRET_KEYS and value is not None:
        return REDACTED
    return _scrub(value)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _TOKENISH.sub(lambda m: m.group(1) + REDACTED, value)
    if isinstance(value, Mapping):
        return {str(k): _redact(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value
