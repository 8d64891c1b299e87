"""The agents' configurable tables (YAML), with the shipped defaults under agents/tables/."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orchestrator.errors import OrchestratorError

T = TypeVar("T", bound=BaseModel)


class TableError(OrchestratorError):
    """An agent table cannot be read; the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Runbook(_Strict):
    """A link an ops responder can follow."""

    title: str = Field(min_length=1)
    url: str = Field(min_length=1)


class RunbookTable(_Strict):
    """Runbooks by correlation key, by playbook, and the defaults."""

    default: list[Runbook] = Field(default_factory=list)
    keys: dict[str, list[Runbook]] = Field(default_factory=dict)
    playbooks: dict[str, list[Runbook]] = Field(default_factory=dict)


class Supplier(_Strict):
    """An alternative supplier."""

    name: str = Field(min_length=1)
    lead_time_days: float = Field(ge=0)
    region: str | None = None
    contact: str | None = None


class Warehouse(_Strict):
    """A warehouse that can transfer stock."""

    name: str = Field(min_length=1)
    transfer_days: float = Field(ge=0)
    contact: str | None = None


class Fallback(_Strict):
    """Alternatives for keys the table does not list."""

    suppliers: list[Supplier] = Field(default_factory=list)
    warehouses: list[Warehouse] = Field(default_factory=list)


class LogisticsTable(_Strict):
    """Alternative suppliers by supplier, warehouses by SKU, and fallbacks."""

    suppliers: dict[str, list[Supplier]] = Field(default_factory=dict)
    warehouses: dict[str, list[Warehouse]] = Field(default_factory=dict)
    fallback: Fallback = Field(default_factory=Fallback)


class PrTemplate(_Strict):
    """The holding statement template and the situation phrase per playbook."""

    template: str = Field(min_length=1)
    situations: dict[str, str] = Field(default_factory=dict)
    default_situation: str = "an issue involving $key"


def shipped(name: str) -> Path:
    """The path of a shipped default table, e.g. shipped('runbooks.yaml')."""
    return Path(str(files("agents") / "tables" / name))


def load_table(model: type[T], path: Path) -> T:
    """Read a YAML table into `model`; TableError says which file and field is wrong."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return model.model_validate(data or {})
    except OSError as err:
        raise TableError(f"{path}: cannot read ({err.strerror}); pass an existing file") from None
    except yaml.YAMLError as err:
        raise TableError(f"{path}: not valid YAML: {err}") from None
    except ValidationError as err:
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        raise TableError(f"{path}: {where}") from None
