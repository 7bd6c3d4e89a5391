"""dubbomesh: bring Apache Dubbo services registered in ZooKeeper into an Istio service mesh.

Layers (see README "Architecture"): ``dubbo`` (pure decoding and catalog) <- ``mesh`` (pure Istio
intent) <- ``zk`` | ``xds`` | ``k8s`` (IO adapters) <- ``agent`` (composition root). ``aio`` is a
leaf of anyio helpers.
"""

__version__ = "0.1.0"
