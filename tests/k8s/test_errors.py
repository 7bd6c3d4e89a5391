"""HTTP statuses become our error classes, which say what to do."""

from __future__ import annotations

import json

import pytest

from dubbomesh.k8s import errors


@pytest.mark.parametrize(
    ("status", "reason", "cls"),
    [
        (409, "Conflict", errors.Conflict),
        (409, "AlreadyExists", errors.AlreadyExists),
        (429, "TooManyRequests", errors.TooManyRequests),
        (500, "InternalError", errors.ServerError),
        (503, "ServiceUnavailable", errors.ServerError),
        (403, "Forbidden", errors.Forbidden),
        (404, "NotFound", errors.NotFound),
        (410, "Expired", errors.Gone),
        (422, "Invalid", errors.Rejected),
        (400, "BadRequest", errors.Rejected),
    ],
)
def test_status_mapping(status: int, reason: str, cls: type[errors.K8sError]) -> None:
    body = json.dumps({"kind": "Status", "reason": reason, "message": "it says why"})
    err = errors.from_status(status, body, what="apply x")
    assert type(err) is cls
    assert "it says why" in str(err)
    assert "apply x" in str(err)


def test_retryable_classes() -> None:
    assert issubclass(errors.Conflict, errors.Retryable)
    assert issubclass(errors.TooManyRequests, errors.Retryable)
    assert not issubclass(errors.Rejected, errors.Retryable)
    assert errors.status_message(b"not json")[0] == "not json"
