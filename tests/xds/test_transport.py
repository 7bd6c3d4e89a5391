"""Transport options: unix domain socket, TLS, mutual TLS, and server keepalive options that let
istiod's 30 s pings through (a default grpcio server ends such streams with "too_many_pings")."""

from __future__ import annotations

import subprocess
from pathlib import Path

import grpc
import pytest

from dubbomesh.xds.server import XdsServer, XdsServerError, server_options
from dubbomesh.xds.settings import XdsSettings
from dubbomesh.xds.types import CLUSTER
from tests.xds.clients import SotwClient, running_server
from tests.xds.helpers import intent, many, sotw_request

pytestmark = pytest.mark.anyio


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA, a server certificate for 127.0.0.1/localhost and a client certificate."""
    d = tmp_path_factory.mktemp("pki")
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=test-ca",
        "-keyout",
        str(d / "ca.key"),
        "-out",
        str(d / "ca.crt"),
    )
    (d / "san.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name in ("server", "client"):
        openssl(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            f"/CN={name}",
            "-keyout",
            str(d / f"{name}.key"),
            "-out",
            str(d / f"{name}.csr"),
        )
        openssl(
            "x509",
            "-req",
            "-in",
            str(d / f"{name}.csr"),
            "-CA",
            str(d / "ca.crt"),
            "-CAkey",
            str(d / "ca.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            str(d / "san.cnf"),
            "-out",
            str(d / f"{name}.crt"),
        )
    return d


async def one_response(channel: grpc.aio.Channel) -> None:
    client = SotwClient(channel)
    client.send(sotw_request(CLUSTER))
    resp = await client.recv()
    assert resp.type_url == CLUSTER
    assert len(resp.resources) == 2
    client.call.cancel()


async def test_unix_domain_socket(tmp_path: Path) -> None:
    sock = tmp_path / "xds.sock"
    settings = XdsSettings(listen=(), uds=str(sock))
    async with running_server(settings, first=intent(*many(2))) as run:
        assert run.server.addresses == (f"unix:{sock}",)
        await one_response(run.channel(f"unix:{sock}"))


async def test_tls_and_mutual_tls(pki: Path) -> None:
    ca = (pki / "ca.crt").read_bytes()
    settings = XdsSettings(
        listen=("127.0.0.1:0",),
        tls_cert=str(pki / "server.crt"),
        tls_key=str(pki / "server.key"),
        tls_client_ca=str(pki / "ca.crt"),
    )
    async with running_server(settings, first=intent(*many(2))) as run:
        creds = grpc.ssl_channel_credentials(
            root_certificates=ca,
            private_key=(pki / "client.key").read_bytes(),
            certificate_chain=(pki / "client.crt").read_bytes(),
        )
        good = grpc.aio.secure_channel(run.address, creds)
        run.channels.append(good)
        await one_response(good)

        # Without a client certificate the handshake fails: no response, UNAVAILABLE.
        anonymous = grpc.aio.secure_channel(run.address, grpc.ssl_channel_credentials(ca))
        run.channels.append(anonymous)
        client = SotwClient(anonymous)
        client.send(sotw_request(CLUSTER))
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await client.recv()
        assert err.value.code() is grpc.StatusCode.UNAVAILABLE


async def test_unreadable_certificate_is_a_clear_startup_error(tmp_path: Path) -> None:
    settings = XdsSettings(
        listen=("127.0.0.1:0",), tls_cert=str(tmp_path / "no.crt"), tls_key=str(tmp_path / "no.key")
    )
    with pytest.raises(XdsServerError, match="TLS"):
        await XdsServer(settings).serve(None)  # type: ignore[arg-type]


def test_server_options_let_istiod_keepalive_pings_through() -> None:
    options = dict(server_options(XdsSettings()))
    assert options["grpc.http2.min_recv_ping_interval_without_data_ms"] <= 10_000
    assert options["grpc.http2.max_ping_strikes"] == 0
    assert options["grpc.keepalive_permit_without_calls"] == 1
    with pytest.raises(ValueError, match="ping"):
        XdsSettings(min_client_ping_interval_s=30)
