"""LocalZooKeeper: a real server that tests can stop, restart, pause and resume."""

from __future__ import annotations

from pathlib import Path

import pytest
from kazoo.client import KazooClient

from dubbomesh.agent import localzk
from dubbomesh.agent.localzk import LocalZooKeeper, LocalZooKeeperError, four_letter_word


def test_missing_server_says_to_run_setup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(localzk, "JAVA_DIR", tmp_path)
    with pytest.raises(LocalZooKeeperError, match=r"scripts/setup\.sh"):
        LocalZooKeeper(backend="debian")


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(LocalZooKeeperError, match="unknown backend"):
        LocalZooKeeper(backend="podman")


@pytest.mark.integration
def test_restart_keeps_port_and_data_and_pause_freezes(zk_private_server: LocalZooKeeper) -> None:
    server = zk_private_server
    assert server.connect_string == f"127.0.0.1:{server.port}"
    client = KazooClient(hosts=server.connect_string)
    client.start(timeout=30)
    client.create("/kept", b"v1")
    client.stop()
    client.close()
    port = server.port
    server.restart()
    assert server.port == port
    client = KazooClient(hosts=server.connect_string)
    client.start(timeout=30)
    try:
        assert client.get("/kept")[0] == b"v1"
        server.pause()
        assert four_letter_word(server.host, server.port, "ruok", timeout=0.5) == ""
        server.resume()
        server.wait_ready(30)
        assert four_letter_word(server.host, server.port, "ruok") == "imok"
    finally:
        client.stop()
        client.close()
    server.stop()
    assert four_letter_word(server.host, server.port, "ruok", timeout=0.5) == ""
