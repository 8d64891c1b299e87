"""The logistics agent: alternative suppliers or warehouses from a configurable table."""

from __future__ import annotations

from dataclasses import dataclass

from agents.tables import LogisticsTable, Supplier, Warehouse
from schemas import Incident, TaskEvent

STOCK_EVENT = "supply.inventory_level"
"""An incident that this event type opened or joined is about stock, keyed by SKU."""


@dataclass(frozen=True)
class LogisticsAgent:
    """Proposes alternatives: suppliers for a late supplier, warehouses for a short SKU."""

    table: LogisticsTable
    role: str = "logistics"

    def advise(self, event: TaskEvent, incident: Incident) -> str:
        """The alternatives for the incident's key, fastest first."""
        if about_stock(incident):
            return _warehouses(incident.key, self.table)
        return _suppliers(incident.key, self.table)


def about_stock(incident: Incident) -> bool:
    """True when the incident is about a SKU's stock rather than a supplier's delays."""
    return incident.trigger == "below_safety_stock" or STOCK_EVENT in incident.events_by_type


def _suppliers(key: str, table: LogisticsTable) -> str:
    listed = table.suppliers.get(key)
    options = sorted(listed or table.fallback.suppliers, key=lambda s: s.lead_time_days)
    head = (
        f"Alternative suppliers for {key}"
        if listed
        else f"No alternatives listed for supplier {key}; general options"
    )
    return _listing(head, [_supplier_line(o) for o in options])


def _warehouses(key: str, table: LogisticsTable) -> str:
    listed = table.warehouses.get(key)
    options = sorted(listed or table.fallback.warehouses, key=lambda w: w.transfer_days)
    head = (
        f"Warehouses that can transfer {key}"
        if listed
        else f"No warehouses listed for {key}; general options"
    )
    return _listing(head, [_warehouse_line(o) for o in options])


def _listing(head: str, lines: list[str]) -> str:
    """The options under their heading, fastest first, or a note that none are configured."""
    if not lines:
        return f"{head}: none configured; add them to the logistics table."
    return "\n".join([f"{head} (fastest first):", *lines])


def _supplier_line(s: Supplier) -> str:
    where = f", {s.region}" if s.region else ""
    contact = f", contact {s.contact}" if s.contact else ""
    return f"- {s.name}: lead time {s.lead_time_days:g} days{where}{contact}"


def _warehouse_line(w: Warehouse) -> str:
    contact = f", contact {w.contact}" if w.contact else ""
    return f"- {w.name}: transfer in {w.transfer_days:g} days{contact}"
