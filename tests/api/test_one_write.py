"""A connection's writes within one turn of the event loop leave as one (a response's head and
body: one send, one packet), never later than that turn, and before the connection closes."""

from __future__ import annotations

import asyncio

from orchestrator.api.server import OneWritePerTurn


class Recording(asyncio.Transport):
    """A transport that keeps what is written to it, and whether it was closed."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closed, "written after close"
        self.sent.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 1) if name == "peername" else default


def test_writes_of_one_turn_leave_together_and_by_its_end() -> None:
    async def scenario() -> list[list[bytes]]:
        transport = Recording()
        wrapped = OneWritePerTurn(transport, asyncio.get_running_loop())
        wrapped.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        wrapped.write(b"ok")
        seen = [list(transport.sent)]
        await asyncio.sleep(0)
        seen.append(list(transport.sent))
        wrapped.write(b"event")  # a streamed response's next part: its own turn
        await asyncio.sleep(0)
        seen.append(list(transport.sent))
        return seen

    held, first, second = asyncio.run(scenario())
    assert held == []
    assert first == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"]
    assert second == [*first, b"event"]


def test_close_sends_what_is_held_first_and_the_rest_passes_through() -> None:
    async def scenario() -> Recording:
        transport = Recording()
        wrapped = OneWritePerTurn(transport, asyncio.get_running_loop())
        wrapped.write(b"HTTP/1.1 408 Request Timeout\r\n\r\n")
        wrapped.close()
        assert wrapped.is_closing()
        assert wrapped.get_extra_info("peername") == ("127.0.0.1", 1)
        await asyncio.sleep(0)  # the turn's flush finds nothing left to send
        return transport

    transport = asyncio.run(scenario())
    assert transport.sent == [b"HTTP/1.1 408 Request Timeout\r\n\r\n"]
    assert transport.closed
