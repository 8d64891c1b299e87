"""Responders, their bearer tokens and roles: who may call the API and act on which tasks.

Only SHA-256 hashes of tokens are kept; a presented token is hashed and compared with
`hmac.compare_digest`. Responders come from a YAML or JSON file or a JSON string:

    responders:
      - {name: alice, token_sha256: 5e88..., roles: [ops]}
      - {name: pr-agent, token: "s3cret", roles: [pr]}   # plain tokens are hashed at load

`incident_commander` may act on every task; a responder with no roles may only read.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from orchestrator.errors import OrchestratorError

INCIDENT_COMMANDER = "incident_commander"
"""The role that may act on every task and resolve or close incidents."""
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


class AuthConfigError(OrchestratorError):
    """The responders configuration cannot be used; the message says where and what to fix."""


def hash_token(token: str) -> str:
    """The SHA-256 hex digest of a token: what configuration stores and requests are checked by."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class _ResponderSpec(BaseModel):
    """One entry of the responders file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    token_sha256: str | None = None
    token: str | None = Field(default=None, min_length=16, repr=False)
    roles: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_token(self) -> _ResponderSpec:
        if (self.token is None) == (self.token_sha256 is None):
            raise ValueError("give exactly one of token_sha256 (preferred) or token")
        if self.token_sha256 is not None and not _HEX64.match(self.token_sha256):
            raise ValueError("token_sha256 must be 64 lowercase hex digits (sha256sum output)")
        return self


class _ResponderFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    responders: list[_ResponderSpec]


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
class AuthConfig:
    """Who may do what. With no responders, reads are open and responder commands are refused."""

    responders: tuple[Responder, ...] = ()
    ingest_sha256: str | None = field(default=None, repr=False)

    @property
    def enforced(self) -> bool:
        """True when responders are configured (reads then need a valid token)."""
        return bool(self.responders)

    def responder(self, token: str) -> Responder | None:
        """The responder a bearer token belongs to, compared in constant time per responder."""
        digest = hash_token(token)
        found = None
        for responder in self.responders:
            if hmac.compare_digest(digest, responder.token_sha256):
                found = responder
        return found

    def ingest_allowed(self, token: str | None) -> bool:
        """True when intake is open or `token` is the ingest token."""
        if self.ingest_sha256 is None:
            return True
        return token is not None and hmac.compare_digest(hash_token(token), self.ingest_sha256)


def responders_from(data: Any, where: str) -> tuple[Responder, ...]:
    """Responders from parsed configuration data; AuthConfigError says what is wrong where."""
    try:
        parsed = _ResponderFile.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()
        )
        raise AuthConfigError(f"{where}: {problems}") from None
    responders = tuple(_responder(spec) for spec in parsed.responders)
    check_unique(responders, where)
    return responders


def _responder(spec: _ResponderSpec) -> Responder:
    digest = spec.token_sha256 or hash_token(spec.token or "")
    return Responder(spec.name, frozenset(spec.roles), digest)


def check_unique(responders: Iterable[Responder], where: str) -> None:
    """Refuse two responders with one name or one token: who acted must be unambiguous."""
    names: set[str] = set()
    hashes: set[str] = set()
    for responder in responders:
        if responder.name in names:
            raise AuthConfigError(f"{where}: responder {responder.name!r} is listed twice")
        if responder.token_sha256 in hashes:
            raise AuthConfigError(
                f"{where}: responder {responder.name!r} shares a token with another; "
                "give every responder their own token"
            )
        names.add(responder.name)
        hashes.add(responder.token_sha256)


def load_responders_file(path: Path) -> tuple[Responder, ...]:
    """Responders from a YAML or JSON file (JSON is YAML, so one parser reads both)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise AuthConfigError(f"{path}: cannot read the responders file ({err.strerror})") from None
    except yaml.YAMLError as err:
        raise AuthConfigError(f"{path}: not valid YAML or JSON: {err}") from None
    return responders_from(data, str(path))


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
