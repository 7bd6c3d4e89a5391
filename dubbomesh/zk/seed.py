"""Sample Dubbo registrations for the demo and the integration tests, written the way Dubbo does.

Why this module exists: the demo must show every feature on a fresh local ZooKeeper (dubbo and tri
protocols, a group/version pair, a Dubbo 3 application-level instance with its mapping and remote
metadata, an override disabling one provider), and the tests need the same writes to be exact
(Java ``URLEncoder`` node names, sorted params, ephemeral vs ``dynamic=false`` persistent nodes).
All addresses are loopback: nothing here may reach beyond the machine.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote_plus

from kazoo.client import KazooClient
from kazoo.exceptions import NodeExistsError

from dubbomesh.zk.client import connect
from dubbomesh.zk.settings import RegistrySettings

DEMO_APP = "demo-provider"
DEMO_INSTANCE_APP = "demo-app-provider"


def node_name(url: str) -> str:
    """A URL as a ZooKeeper child name (Java ``URLEncoder.encode(url, "UTF-8")``)."""
    return quote_plus(url, safe="*").replace("~", "%7E")


def dubbo_url(
    protocol: str,
    host: str,
    port: int,
    interface: str,
    params: Mapping[str, str] | None = None,
) -> str:
    """A provider-style URL with Dubbo's habit of sorted params."""
    merged = {"interface": interface, **(params or {})}
    query = "&".join(f"{k}={merged[k]}" for k in sorted(merged))
    return f"{protocol}://{host}:{port}/{interface}?{query}"


def provider_url(
    protocol: str,
    host: str,
    port: int,
    interface: str,
    *,
    application: str = DEMO_APP,
    group: str = "",
    version: str = "",
    dynamic: bool = True,
    extra: Mapping[str, str] | None = None,
) -> str:
    """A realistic provider URL (``timestamp``/``pid`` included, as Dubbo writes them)."""
    params = {
        "anyhost": "true",
        "application": application,
        "deprecated": "false",
        "dubbo": "2.0.2",
        "dynamic": "true" if dynamic else "false",
        "generic": "false",
        "methods": "greet,hello",
        "pid": "4242",
        "release": "3.2.0",
        "side": "provider",
        "timestamp": "1700000000000",
        **({"group": group} if group else {}),
        **({"version": version} if version else {}),
        **(extra or {}),
    }
    return dubbo_url(protocol, host, port, interface, params)


def register(client: KazooClient, category_dir: str, url: str, *, ephemeral: bool = True) -> str:
    """Create ``<category_dir>/<encoded url>`` (parents persistent); returns the node path."""
    client.ensure_path(category_dir)
    path = f"{category_dir}/{node_name(url)}"
    with contextlib.suppress(NodeExistsError):
        client.create(path, b"", ephemeral=ephemeral)
    return path


def instance_payload(
    app: str,
    host: str,
    port: int,
    endpoints: Mapping[str, int],
    revision: str,
    *,
    storage: str = "remote",
) -> bytes:
    """A Dubbo 3 ``ZookeeperInstance`` JSON (Curator format; nested values are JSON strings)."""
    iid = f"{host}:{port}"
    eps = json.dumps([{"port": p, "protocol": proto} for proto, p in endpoints.items()])
    metadata = {
        "dubbo.endpoints": eps,
        "dubbo.metadata.revision": revision,
        "dubbo.metadata.storage-type": storage,
        "timestamp": "1700000000000",
    }
    doc = {
        "name": app,
        "id": iid,
        "address": host,
        "port": port,
        "payload": {
            "@class": "org.apache.dubbo.registry.zookeeper.ZookeeperInstance",
            "id": iid,
            "name": app,
            "metadata": metadata,
        },
        "registrationTimeUTC": 1700000000000,
        "serviceType": "DYNAMIC",
    }
    return json.dumps(doc).encode()


def metadata_info(app: str, revision: str, services: Mapping[str, tuple[str, int]]) -> bytes:
    """A MetadataInfo JSON: interface -> (protocol, port)."""
    out = {}
    for iface, (proto, port) in services.items():
        out[f"{iface}:{proto}"] = {
            "name": iface,
            "protocol": proto,
            "port": port,
            "path": iface,
            "params": {"interface": iface, "side": "provider", "application": app},
        }
    return json.dumps({"app": app, "revision": revision, "services": out}).encode()


@dataclass(frozen=True, slots=True)
class SeedDescription:
    """What :func:`seed_demo` wrote, for the demo's printout and for test assertions."""

    root: str
    providers: tuple[str, ...] = ()
    """Provider node paths."""
    configurators: tuple[str, ...] = ()
    instances: tuple[str, ...] = ()
    mapping: tuple[str, ...] = ()
    metadata: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    """Human lines: what the mesh should show."""

    def __iter__(self) -> Iterator[str]:
        """Iterating yields the human lines (the demo prints them)."""
        return iter(self.notes)


def seed_demo(
    client_or_hosts: KazooClient | str, root: str = "/dubbo", *, ephemeral: bool | None = None
) -> SeedDescription:
    """Register the demo's sample services. With a connect string the nodes are persistent (the
    URLs say ``dynamic=false``, as Dubbo does for persistent providers) so they outlive this call;
    with a client they are ephemeral by default (tied to that client's session)."""
    if isinstance(client_or_hosts, str):
        client = connect(RegistrySettings(name="seed", hosts=client_or_hosts))
        try:
            return _seed(client, root, ephemeral=bool(ephemeral))
        finally:
            client.stop()
            client.close()
    return _seed(client_or_hosts, root, ephemeral=True if ephemeral is None else ephemeral)


def _seed(client: KazooClient, root: str, *, ephemeral: bool) -> SeedDescription:
    dyn = ephemeral
    greet = "org.apache.dubbo.demo.GreetingService"
    demo = "org.apache.dubbo.demo.DemoService"
    app_iface = "org.apache.dubbo.demo.AppService"
    providers = [
        register(
            client,
            f"{root}/{greet}/providers",
            provider_url("dubbo", "127.0.0.1", 20880, greet, dynamic=dyn),
            ephemeral=ephemeral,
        ),
        register(
            client,
            f"{root}/{greet}/providers",
            provider_url("tri", "127.0.0.1", 50051, greet, dynamic=dyn),
            ephemeral=ephemeral,
        ),
    ]
    for host in ("127.0.0.2", "127.0.0.3"):
        url = provider_url("dubbo", host, 20881, demo, group="g1", version="1.0.0", dynamic=dyn)
        providers.append(register(client, f"{root}/{demo}/providers", url, ephemeral=ephemeral))
    override = dubbo_url(
        "override",
        "127.0.0.3",
        20881,
        demo,
        {
            "category": "configurators",
            "disabled": "true",
            "dynamic": "false",
            "enabled": "true",
            "group": "g1",
            "version": "1.0.0",
        },
    )
    configurators = [register(client, f"{root}/{demo}/configurators", override, ephemeral=False)]
    client.ensure_path(f"{root}/{greet}/configurators")
    revision = "d5e3c0f5a0b1c2d3e4f5a6b7c8d9e0f1"
    inst = f"/services/{DEMO_INSTANCE_APP}/127.0.0.4:20882"
    client.ensure_path(f"/services/{DEMO_INSTANCE_APP}")
    payload = instance_payload(
        DEMO_INSTANCE_APP, "127.0.0.4", 20882, {"dubbo": 20882, "tri": 50052}, revision
    )
    if client.exists(inst):
        client.set(inst, payload)
    else:
        client.create(inst, payload, ephemeral=ephemeral)
    mapping = f"{root}/mapping/{app_iface}"
    _put(client, mapping, DEMO_INSTANCE_APP.encode())
    meta = f"{root}/metadata/{DEMO_INSTANCE_APP}/{revision}"
    _put(client, meta, metadata_info(DEMO_INSTANCE_APP, revision, {app_iface: ("tri", 50052)}))
    return SeedDescription(
        root=root,
        providers=tuple(providers),
        configurators=tuple(configurators),
        instances=(inst,),
        mapping=(mapping,),
        metadata=(meta,),
        notes=(
            f"{greet}: dubbo 127.0.0.1:20880 and tri 127.0.0.1:50051",
            f"g1/{demo}:1.0.0: dubbo 127.0.0.2:20881 (127.0.0.3:20881 disabled by an override)",
            f"{app_iface}: tri 127.0.0.4:50052 via application {DEMO_INSTANCE_APP} (Dubbo 3)",
        ),
    )


def _put(client: KazooClient, path: str, data: bytes) -> None:
    if client.exists(path):
        client.set(path, data)
    else:
        client.create(path, data, makepath=True)
