"""Translate the flat :class:`AgentConfig` into each component's own frozen settings.

Why this module exists: every adapter owns a settings value shaped for itself (kopf-style grouped,
documented fields); the agent's flat option table is a user interface. This module is the one
mapping between them, so a new flag touches exactly one function here.
"""

from __future__ import annotations

from dubbomesh.agent.config import AgentConfig, ZkTarget
from dubbomesh.agent.options import ConfigError
from dubbomesh.dubbo.builder import BuildPolicy, CatalogBuilder
from dubbomesh.dubbo.filters import ServiceFilter
from dubbomesh.k8s.settings import K8sSettings
from dubbomesh.mesh.render import Renderer
from dubbomesh.mesh.settings import AddressStrategy, EndpointMode, MeshSettings
from dubbomesh.xds.settings import XdsSettings
from dubbomesh.zk.settings import RegistrySettings, TlsSettings


def registry_settings(c: AgentConfig, target: ZkTarget) -> RegistrySettings:
    """Settings of one ZooKeeper registry."""
    tls = None
    if c.zk_tls_ca or c.zk_tls_cert:
        tls = TlsSettings(ca=c.zk_tls_ca, certfile=c.zk_tls_cert, keyfile=c.zk_tls_key)
    return RegistrySettings(
        name=target.name,
        hosts=target.hosts,
        roots=c.root,
        services_root=c.services_root,
        application_discovery=c.app_discovery,
        auth_digest=target.auth,
        tls=tls,
        session_timeout=c.zk_session_timeout,
        resync_interval=c.resync_interval,
        # Hand events to the builder as directories are read rather than holding them all until
        # the listing completes: the builder keeps fingerprints, not names, so peak memory stays
        # low; the catalog is still withheld until ListingComplete (Catalog.complete).
        early_events=True,
    )


def build_catalog_builder(c: AgentConfig) -> CatalogBuilder:
    """The single-owner catalog builder for every configured registry."""
    return CatalogBuilder(
        [t.name for t in c.registries],
        BuildPolicy(
            allow_loopback=c.allow_loopback_endpoints,
            filter=ServiceFilter(
                include_interfaces=c.include_interface,
                exclude_interfaces=c.exclude_interface,
                include_applications=c.include_application,
                exclude_applications=c.exclude_application,
            ),
        ),
    )


def mesh_settings(c: AgentConfig) -> MeshSettings:
    """How the catalog is rendered into Istio objects."""
    defaults = MeshSettings()
    ports = dict(defaults.ports)
    for item in c.port:
        proto, _, number = item.partition("=")
        ports[proto] = int(number)
    labels = dict(defaults.label_params)
    if c.label_param:
        labels = dict(item.partition("=")[::2] for item in c.label_param)
    try:
        return MeshSettings(
            namespace=c.namespace,
            host_template=c.host_template or defaults.host_template,
            workload_host_template=c.workload_host_template or defaults.workload_host_template,
            registry_suffix=c.registry_suffix,
            ports=ports,
            export_to=c.export_to,
            endpoint_mode=EndpointMode(c.endpoint_mode),
            address_strategy=AddressStrategy(c.address_strategy),
            aeraki=c.aeraki,
            label_params=labels,
        )
    except ValueError as exc:
        raise ConfigError(f"mesh settings: {exc}") from None


def build_renderer(c: AgentConfig) -> Renderer:
    """The incremental renderer."""
    return Renderer(mesh_settings(c))


def xds_settings(c: AgentConfig) -> XdsSettings:
    """The xDS server's listeners, TLS and limits."""
    return XdsSettings(
        listen=tuple(a for a in c.xds_listen if a != "none"),
        uds=c.xds_uds,
        tls_cert=c.xds_tls_cert,
        tls_key=c.xds_tls_key,
        tls_client_ca=c.xds_tls_client_ca,
        max_streams=c.xds_max_streams,
        grace_s=min(5.0, c.shutdown_timeout / 2),
    )


def k8s_settings(c: AgentConfig) -> K8sSettings:
    """The Kubernetes sink: namespace-scoped, rate-limited, leader-elected."""
    renew = min(10.0, c.lease_duration * 2 / 3)
    return K8sSettings(
        namespace=c.namespace,
        kubeconfig=c.kubeconfig or None,
        registry_name=c.owner,
        qps=c.kube_qps,
        burst=c.kube_burst,
        grace_period=c.delete_grace,
        leader_election=c.leader_elect,
        lease_name=c.lease_name,
        lease_duration=c.lease_duration,
        renew_deadline=renew,
        retry_period=min(2.0, renew / 3),
        pod_lookup=c.pod_lookup,
    )


def check(c: AgentConfig) -> None:
    """Build every component's settings once at start-up so that invalid combinations fail
    with a :class:`ConfigError` naming the setting, before anything connects anywhere."""
    mesh_settings(c)
    xds_settings(c)
    try:
        for target in c.registries:
            registry_settings(c, target)
        if "kubernetes" in c.sink:
            k8s_settings(c)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
