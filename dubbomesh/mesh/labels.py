"""Which provider facts may become Kubernetes labels, and the labels that mark our ownership.

Why this module exists: providers control their URL params. Copying them into labels (as earlier
tools did) leaks ``timestamp``/``pid`` (a rewrite on every restart), produces invalid labels, and
lets a provider forge reserved labels such as ``istio.io/rev`` (istiod then drops the object) or our
own ownership label. Only allowlisted params are copied, only when the result is a valid label, and
never under a reserved prefix.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping

from dubbomesh.dubbo.model import VOLATILE_PARAMS, Endpoint
from dubbomesh.mesh.intent import Pairs
from dubbomesh.mesh.naming import is_dns_subdomain, to_label
from dubbomesh.mesh.settings import MANAGED_BY, REGISTRY_LABEL

_NAME = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)")
_VALUE = re.compile(r"(([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?)")

RESERVED_DOMAINS = ("kubernetes.io", "k8s.io", "istio.io", "dubbomesh.io")
"""A label key whose prefix is one of these, or a subdomain of one, is never taken from a
provider (``app.kubernetes.io/managed-by``, ``istio.io/rev``, ``dubbomesh.io/registry``...)."""

FORBIDDEN_PARAMS = VOLATILE_PARAMS | {"timestamp", "pid"}


def is_label_key(key: str) -> bool:
    """``[prefix/]name``: prefix a DNS subdomain, name at most 63 of ``[-A-Za-z0-9_.]``."""
    prefix, slash, name = key.rpartition("/")
    if slash and not is_dns_subdomain(prefix):
        return False
    return bool(_NAME.fullmatch(name))


def is_label_value(value: str) -> bool:
    """Empty, or at most 63 of ``[-A-Za-z0-9_.]`` starting and ending alphanumeric."""
    return bool(_VALUE.fullmatch(value))


def is_reserved_key(key: str) -> bool:
    """True when ``key``'s prefix is (a subdomain of) a reserved domain."""
    prefix, slash, _ = key.rpartition("/")
    if not slash:
        return False
    prefix = prefix.lower()
    return any(prefix == d or prefix.endswith("." + d) for d in RESERVED_DOMAINS)


def endpoint_labels(ep: Endpoint, allow: Mapping[str, str]) -> tuple[Pairs, int]:
    """Labels for ``ep`` from the allowlist ``allow`` (param -> label key), and how many allowed
    params were refused (invalid value or key, reserved key, volatile param)."""
    out: dict[str, str] = {}
    refused = 0
    params = dict(reversed(ep.params))  # the first value of a key wins, as Endpoint.param
    for param, key in allow.items():
        value = params.get(param) or ""
        if param == "application" and not value:
            value = ep.application
        if not value:
            continue
        if param in FORBIDDEN_PARAMS or not _usable_key(key) or not is_label_value(value):
            refused += 1
            continue
        out[key] = value
    return tuple(sorted(out.items())), refused


@functools.lru_cache(maxsize=256)
def _usable_key(key: str) -> bool:
    """A valid label key outside the reserved domains (a property of the allowlist only)."""
    return is_label_key(key) and not is_reserved_key(key)


def common_labels(label_sets: Iterable[Pairs]) -> Pairs:
    """The (key, value) pairs present in every set (labels of a shared workload)."""
    tuples = list(label_sets)
    if not tuples:
        return ()
    first = tuples[0]
    if all(t is first for t in tuples) and _sorted_unique(first):
        return first  # endpoints of one workload usually share one (cached) label tuple
    return tuple(sorted(set.intersection(*map(set, tuples))))


@functools.lru_cache(maxsize=4096)
def _sorted_unique(pairs: Pairs) -> bool:
    return all(pairs[i] < pairs[i + 1] for i in range(len(pairs) - 1))


@functools.lru_cache(maxsize=256)
def ownership_labels(registry: str) -> Pairs:
    """``app.kubernetes.io/managed-by: dubbomesh`` and ``dubbomesh.io/registry: <registry>``."""
    value = registry if is_label_value(registry) else to_label(registry)
    return tuple(sorted([MANAGED_BY, (REGISTRY_LABEL, value)]))
