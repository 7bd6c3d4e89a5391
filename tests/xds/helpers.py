"""Hand-built MeshIntents and small protobuf helpers for the xDS tests."""

from __future__ import annotations

from envoy.service.discovery.v3 import discovery_pb2
from google.protobuf import any_pb2

from dubbomesh.dubbo.model import ServiceId
from dubbomesh.mesh.intent import (
    Kind,
    MeshIntent,
    MeshObject,
    PortSpec,
    ServiceEntrySpec,
    WorkloadSpec,
)
from dubbomesh.xds.gen import istio_mcp_pb2, istio_networking_pb2

NS = "dubbo"


def service_entry(
    name: str,
    endpoints: list[tuple[str, int]] | None = None,
    *,
    port: int = 50051,
    protocol: str = "GRPC",
    weight: int = 0,
    locality: str = "",
    selector: tuple[tuple[str, str], ...] | None = None,
    ns: str = NS,
) -> MeshObject:
    """A ServiceEntry ``<name>.dubbo.mesh`` with one port; inline endpoints (address, port)."""
    port_name = f"{protocol.lower()}-{port}"
    eps = tuple(
        WorkloadSpec(
            address=addr,
            ports=((port_name, ep_port),),
            labels=(("app", name),),
            weight=weight,
            locality=locality,
        )
        for addr, ep_port in (endpoints or [])
    )
    spec = ServiceEntrySpec(
        hosts=(f"{name}.dubbo.mesh",),
        ports=(PortSpec(port, protocol, port_name),),
        endpoints=() if selector is not None else eps,
        workload_selector=selector,
    )
    return MeshObject.create(
        Kind.SERVICE_ENTRY,
        ns,
        name,
        spec,
        labels=(("app.kubernetes.io/managed-by", "dubbomesh"),),
        annotations=(("dubbomesh.io/services", name),),
        services=(ServiceId(f"org.example.{name}"),),
    )


def workload_entry(name: str, address: str, labels: dict[str, str], ns: str = NS) -> MeshObject:
    spec = WorkloadSpec(address=address, labels=tuple(sorted(labels.items())))
    return MeshObject.create(Kind.WORKLOAD_ENTRY, ns, name, spec)


def intent(*objects: MeshObject, complete: bool = True) -> MeshIntent:
    return MeshIntent.create(list(objects), catalog_version="c", complete=complete)


def many(count: int, endpoints: int = 2, protocol: str = "GRPC") -> list[MeshObject]:
    """``count`` services with ``endpoints`` endpoints each (10.x.y.z addresses)."""
    return [
        service_entry(
            f"svc{i}",
            [(f"10.{i // 250 % 250}.{i % 250}.{e + 1}", 20880) for e in range(endpoints)],
            protocol=protocol,
        )
        for i in range(count)
    ]


def unpack_mcp(any_msg: any_pb2.Any) -> tuple[istio_mcp_pb2.Resource, object]:
    """An MCP resource and its decoded body (ServiceEntry or WorkloadEntry)."""
    assert any_msg.type_url == "type.googleapis.com/istio.mcp.v1alpha1.Resource"
    res = istio_mcp_pb2.Resource.FromString(any_msg.value)
    body_type = res.body.type_url.rsplit(".", 1)[-1]
    cls = getattr(istio_networking_pb2, body_type)
    return res, cls.FromString(res.body.value)


def sotw_request(
    type_url: str,
    names: list[str] | None = None,
    nonce: str = "",
    version: str = "",
    error: str = "",
) -> discovery_pb2.DiscoveryRequest:
    req = discovery_pb2.DiscoveryRequest(
        type_url=type_url, resource_names=names or [], response_nonce=nonce, version_info=version
    )
    req.node.id = "sidecar~10.0.0.1~pod.ns~ns.svc.cluster.local"
    if error:
        req.error_detail.code = 3
        req.error_detail.message = error
    return req
