"""Sample mesh objects and intents for the Kubernetes tests (plain data, no IO)."""

from __future__ import annotations

from dubbomesh.mesh.intent import (
    Kind,
    MeshIntent,
    MeshObject,
    PortSpec,
    ServiceEntrySpec,
    WorkloadSpec,
)


def service_entry(
    name: str, *ips: str, port: int = 20880, namespace: str = "ignored", labels: tuple = ()
) -> MeshObject:
    """A STATIC ServiceEntry for ``name`` with inline endpoints at ``ips``."""
    spec = ServiceEntrySpec(
        hosts=(f"{name}.dubbo",),
        ports=(PortSpec(port, "TCP", "tcp-dubbo"),),
        addresses=tuple(f"{ip}/32" for ip in ips),
        endpoints=tuple(
            WorkloadSpec(ip, ports=(("tcp-dubbo", port),), labels=(("app", name),)) for ip in ips
        ),
    )
    return MeshObject.create(Kind.SERVICE_ENTRY, namespace, name, spec, labels=labels)


def workload_entry(name: str, ip: str, *, account: str = "") -> MeshObject:
    """A WorkloadEntry at ``ip``."""
    spec = WorkloadSpec(
        ip, ports=(("tcp-dubbo", 20880),), labels=(("app", name),), service_account=account
    )
    return MeshObject.create(Kind.WORKLOAD_ENTRY, "ignored", name, spec)


def intent(*objects: MeshObject, complete: bool = True, stale: bool = False) -> MeshIntent:
    """A MeshIntent of these objects."""
    return MeshIntent.create(list(objects), complete=complete, stale=stale)
