"""Test support that runs the real product, no mocks.

fakes    pure builders and an in-memory drill over the real engine (events, commands, ManualClock,
         Drill); no sockets, no threads
servers  a real `orchestrator run` or app on a free local port, and clients that act on it from
         threads (FeedFollower, complete_at_once)
monitoring  the real Alertmanager and Prometheus on loopback, and scrape targets that go up
         and down
"""

from orchestrator.testing.fakes import Drill, ManualClock, command, encode, event

__all__ = ["Drill", "ManualClock", "command", "encode", "event"]
