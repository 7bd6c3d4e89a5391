"""The Kubernetes adapter: the only package that imports the kubernetes client.

Public API (see docs/kubernetes.md): :func:`dubbomesh.k8s.sink.run_kubernetes_sink`, its settings
:class:`dubbomesh.k8s.settings.K8sSettings` and the observer Protocol
:class:`dubbomesh.k8s.observer.K8sObserver` (with ``NullObserver`` and ``CountingObserver``).
Everything else is internal: client (rate limit, threads, errors), cache (informer), plan (pure
decisions), reconciler (writes), leader (Lease election), preflight (CRD/RBAC checks), pods.
"""
