"""Severity: a likelihood x impact matrix, raised by rules, never lowered by itself."""

from __future__ import annotations

from dataclasses import dataclass

from schemas import SEVERITY_ORDER, Severity

DEFAULT_LIKELIHOOD = ("rare", "possible", "likely", "certain")
DEFAULT_IMPACT = ("minor", "moderate", "major", "severe")
DEFAULT_CELLS = (
    ("low", "low", "medium", "high"),
    ("low", "medium", "high", "high"),
    ("medium", "medium", "high", "critical"),
    ("medium", "high", "critical", "critical"),
)
DEFAULT_INITIAL = ("possible", "moderate")
_SEVERITIES: dict[str, Severity] = {severity.value: severity for severity in SEVERITY_ORDER}
_RANKS: dict[str, int] = {severity.value: rank for rank, severity in enumerate(SEVERITY_ORDER)}
"""Severity name -> its position in SEVERITY_ORDER (what Severity.rank computes each time)."""


class Ranked(str):
    """A severity name that compares by rank: `incident.severity >= "high"` means what it says."""

    __slots__ = ()

    def _rank(self, other: object) -> tuple[int, int] | None:
        if isinstance(other, str):
            mine, theirs = _RANKS.get(str(self)), _RANKS.get(other)
            if mine is not None and theirs is not None:
                return mine, theirs
        return None

    def __lt__(self, other: object) -> bool:
        pair = self._rank(other)
        return pair[0] < pair[1] if pair else False

    def __le__(self, other: object) -> bool:
        pair = self._rank(other)
        return pair[0] <= pair[1] if pair else False

    def __gt__(self, other: object) -> bool:
        pair = self._rank(other)
        return pair[0] > pair[1] if pair else False

    def __ge__(self, other: object) -> bool:
        pair = self._rank(other)
        return pair[0] >= pair[1] if pair else False

    __hash__ = str.__hash__


@dataclass(frozen=True, slots=True)
class Matrix:
    """Severity by likelihood row and impact column; levels go from least to most."""

    likelihood: tuple[str, ...] = DEFAULT_LIKELIHOOD
    impact: tuple[str, ...] = DEFAULT_IMPACT
    cells: tuple[tuple[str, ...], ...] = DEFAULT_CELLS

    def severity(self, likelihood: str, impact: str) -> Severity:
        """The cell for this likelihood and impact."""
        row = self.likelihood.index(likelihood)
        col = self.impact.index(impact)
        cell = self.cells[row][col]
        return _SEVERITIES.get(cell) or Severity(cell)


def higher_level(levels: tuple[str, ...], current: str, proposed: str | None) -> str:
    """The higher of two levels on one axis (likelihood or impact only ever rise)."""
    if proposed is None:
        return current
    return proposed if levels.index(proposed) > levels.index(current) else current


def max_severity(*values: Severity | None) -> Severity:
    """The highest of the given severities (None ignored)."""
    present = [v for v in values if v is not None]
    return max(present, key=_RANKS.__getitem__)
