"""A minimal Envoy-shaped ADS client: one SotW stream, requests types in order, ACKs everything.

Why this module exists: the sidecar-view test must see what istiod sends a real Envoy (node id
``sidecar~<ip>~<pod>.<ns>~<ns>.svc.cluster.local``, the default Envoy generator), and the gRPC loop
test must discover the listener names a proxyless client dials. The resources are decoded with the
``xds-protos`` classes; this client only fetches, it never routes traffic.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import grpc
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.core.v3 import base_pb2
from envoy.config.listener.v3 import listener_pb2
from envoy.service.discovery.v3 import ads_pb2_grpc, discovery_pb2
from google.protobuf import json_format, struct_pb2

LDS = "type.googleapis.com/envoy.config.listener.v3.Listener"
CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
RDS = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
EDS = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
DECODERS: Mapping[str, Any] = {LDS: listener_pb2.Listener, CDS: cluster_pb2.Cluster}


def sidecar_node(ip: str, pod: str, namespace: str, metadata: Mapping[str, Any]) -> base_pb2.Node:
    """The node an Envoy sidecar sends (id format as istio-agent builds it)."""
    meta = struct_pb2.Struct()
    json_format.ParseDict(dict(metadata), meta)
    return base_pb2.Node(
        id=f"sidecar~{ip}~{pod}.{namespace}~{namespace}.svc.cluster.local",
        cluster=f"{pod}.{namespace}",
        metadata=meta,
    )


def fetch(
    address: str,
    node: base_pb2.Node,
    type_urls: Sequence[str],
    *,
    names: Mapping[str, Sequence[str]] | None = None,
    timeout: float = 60.0,
) -> dict[str, list[Any]]:
    """Ask for each type in order (wildcard unless ``names`` lists some), ACK each response, and
    return the first response's resources per type, decoded when a decoder is known."""
    requests: queue.Queue[discovery_pb2.DiscoveryRequest | None] = queue.Queue()

    def feed() -> Iterator[discovery_pb2.DiscoveryRequest]:
        while (item := requests.get()) is not None:
            yield item

    def ask(type_url: str) -> None:
        wanted = list((names or {}).get(type_url, ()))
        requests.put(
            discovery_pb2.DiscoveryRequest(node=node, type_url=type_url, resource_names=wanted)
        )

    out: dict[str, list[Any]] = {}
    pending = list(type_urls)
    channel = grpc.insecure_channel(address)
    stream = ads_pb2_grpc.AggregatedDiscoveryServiceStub(channel).StreamAggregatedResources(
        feed(), timeout=timeout
    )
    timer = threading.Timer(timeout, stream.cancel)
    timer.start()
    try:
        ask(pending[0])
        for response in stream:
            requests.put(
                discovery_pb2.DiscoveryRequest(
                    node=node,
                    type_url=response.type_url,
                    version_info=response.version_info,
                    response_nonce=response.nonce,
                    resource_names=list((names or {}).get(response.type_url, ())),
                )
            )
            if response.type_url in pending and response.type_url not in out:
                decoder = DECODERS.get(response.type_url)
                out[response.type_url] = [
                    decoder.FromString(r.value) if decoder else r for r in response.resources
                ]
                index = pending.index(response.type_url)
                if index + 1 < len(pending):
                    ask(pending[index + 1])
            if all(t in out for t in pending):
                break
    finally:
        timer.cancel()
        requests.put(None)
        stream.cancel()
        channel.close()
    missing = [t for t in pending if t not in out]
    if missing:
        raise AssertionError(f"no response from {address} for {missing}")
    return out
