"""Our own Kubernetes error classes, saying what the caller should do: retry, fix config, or skip.

Why this module exists: the Python client raises urllib3 errors, ``ApiException`` with a status and
a JSON ``Status`` body, or ``ConfigException``. Callers in ``dubbomesh.k8s`` only ever see the
classes below, translated once at the boundary (:func:`from_status`), so the retry policy is a
question of ``isinstance(err, Retryable)``.
"""

from __future__ import annotations

import json


class K8sError(Exception):
    """Any failure talking to the Kubernetes API server."""

    def __init__(self, message: str, *, status: int = 0, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class ConfigError(K8sError):
    """No usable kubeconfig / in-cluster credentials: an operator must fix the configuration."""


class Retryable(K8sError):
    """Temporary: retry with backoff."""


class Unreachable(Retryable):
    """Transport failure or timeout: the API server is down or unreachable."""


class ServerError(Retryable):
    """5xx from the API server."""


class TooManyRequests(Retryable):
    """429: server-side throttling (priority and fairness)."""

    def __init__(self, message: str, *, retry_after: float = 0.0, status: int = 429) -> None:
        super().__init__(message, status=status, reason="TooManyRequests")
        self.retry_after = retry_after


class Conflict(Retryable):
    """409 on an update/delete precondition (the object changed under us): re-read and retry."""


class AlreadyExists(K8sError):
    """409 AlreadyExists on create."""


class NotFound(K8sError):
    """404: the object (or the whole resource type, see :class:`ResourceMissing`) is absent."""


class ResourceMissing(K8sError):
    """The resource TYPE is not served (CRD not installed): permanent until someone installs it."""


class Forbidden(K8sError):
    """403: RBAC does not grant this verb on this resource in this namespace."""


class Rejected(K8sError):
    """400/422: the API server rejects this object (invalid name, label, spec): skip the object."""


class Gone(K8sError):
    """410: a watch's resourceVersion is too old: relist."""


def status_message(body: bytes | str | None) -> tuple[str, str]:
    """(message, reason) from a ``Status`` JSON body, tolerating anything else."""
    if not body:
        return "", ""
    try:
        data = json.loads(body)
    except (ValueError, TypeError):
        text = body.decode(errors="replace") if isinstance(body, bytes) else body
        return text[:500], ""
    if not isinstance(data, dict):
        return str(data)[:500], ""
    return str(data.get("message", "")), str(data.get("reason", ""))


def from_status(
    status: int, body: bytes | str | None, *, what: str, retry_after: float = 0.0
) -> K8sError:
    """Translate an HTTP error status into our class; ``what`` names the request for messages."""
    message, reason = status_message(body)
    text = f"{what}: HTTP {status} {reason}: {message}".rstrip(": ")
    if status == 409:
        if reason == "AlreadyExists":
            return AlreadyExists(text, status=status, reason=reason)
        return Conflict(text, status=status, reason=reason)
    if status == 429:
        return TooManyRequests(text, retry_after=retry_after)
    if status >= 500 or status == 0:
        return ServerError(text, status=status, reason=reason)
    if status == 403:
        return Forbidden(text, status=status, reason=reason)
    if status == 404:
        return NotFound(text, status=status, reason=reason)
    if status == 410:
        return Gone(text, status=status, reason=reason)
    if status in (400, 422):
        return Rejected(text, status=status, reason=reason)
    return K8sError(text, status=status, reason=reason)
