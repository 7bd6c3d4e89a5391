"""The xDS adapter: ADS over gRPC for istiod (MCP) and for Envoy / proxyless gRPC clients.

Public API (what the composition root wires):

- :class:`~dubbomesh.xds.settings.XdsSettings`: listen addresses, unix socket, TLS, limits.
- :class:`~dubbomesh.xds.settings.XdsObserver`: metrics callbacks (``NullObserver`` ignores them).
- :class:`~dubbomesh.xds.server.XdsServer`: ``await serve(intents, task_status=...)`` follows a
  ``LatestValue[MeshIntent]``; ``await drain()``; ``debug_view()`` for /debug/xds.

Layout: ``types`` (type URLs), ``wire`` (pre-encoded resources, hand-framed responses), ``mcp`` and
``envoy`` (encoders), ``snapshot`` (incremental immutable snapshots), ``machine`` (sans-IO
per-stream protocol), ``session`` (per-stream tasks), ``server`` (the only grpc import).
See docs/xds.md.
"""
