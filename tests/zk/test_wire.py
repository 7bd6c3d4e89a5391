"""ListChildren is kazoo's GetChildren on the wire and decodes every reply exactly as kazoo's
own decoder does, failures included."""

from __future__ import annotations

import struct

import pytest
from kazoo.protocol.serialization import GetChildren, write_string

from dubbomesh.zk.wire import ListChildren


def _reply(*names: str | bytes | None, count: int | None = None) -> bytes:
    body = b""
    for name in names:
        if name is None:
            body += struct.pack("!i", -1)
        elif isinstance(name, bytes):
            body += struct.pack("!i", len(name)) + name
        else:
            body += bytes(write_string(name))
    n = len(names) if count is None else count
    return b"HEADER--" + struct.pack("!i", n) + body


@pytest.mark.parametrize(
    "reply",
    [
        _reply(),
        _reply(count=-1),
        _reply("a"),
        _reply("dubbo%3A%2F%2F10.0.0.1%3A20880%2Fx", "b", ""),
        _reply("snowman-\u2603", "\U0001f600"),
        _reply("a", None, "c"),
        _reply(*(f"p{i}" for i in range(1000))),
    ],
)
def test_decodes_like_kazoo(reply: bytes) -> None:
    assert ListChildren.deserialize(reply, 8) == GetChildren.deserialize(reply, 8)


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (_reply(b"\xff\xfe"), UnicodeDecodeError),  # not UTF-8: the read fails, as with kazoo
        (_reply("a", count=2), struct.error),  # truncated
    ],
)
def test_fails_like_kazoo(reply: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        GetChildren.deserialize(reply, 8)
    with pytest.raises(error):
        ListChildren.deserialize(reply, 8)


def test_is_kazoos_request_on_the_wire() -> None:
    def watch(_: object) -> None:
        pass

    ours, theirs = (
        ListChildren("/dubbo/a/providers", watch),
        GetChildren("/dubbo/a/providers", watch),
    )
    assert isinstance(ours, GetChildren)  # kazoo registers child watches by this check
    assert ours.type == theirs.type == 8
    assert ours.serialize() == theirs.serialize()
    assert ours == theirs
    assert ListChildren("/x", None).serialize() == GetChildren("/x", None).serialize()
