"""The embedded runtime: the engine in one process, its inputs and state in SQLite.

runtime      EmbeddedRuntime: intake, commands, ticks and reads on one engine state
intake       a request's records applied as one (one append, one write of their outputs)
store        the SQLite input log, published outputs and retired incidents
snapshots    the engine state written on a thread of its own, to a file of its own
groupcommit  many requests' inputs written in one transaction
"""

from orchestrator.runtime.embedded.runtime import EmbeddedRuntime

__all__ = ["EmbeddedRuntime"]
