"""Table tests: the decoder over real-world registry strings (see ``url_cases.py``)."""

from __future__ import annotations

import json

import pytest

from dubbomesh.dubbo import url as url_module
from dubbomesh.dubbo.url import Decoded, decode_any, decode_node
from tests.dubbo.url_cases import CASES, Case


def _decode(case: Case) -> Decoded:
    if case.directory is not None:
        return decode_node(case.input, directory=case.directory)
    return decode_any(case.input)


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case(case: Case) -> None:
    decoded = _decode(case)
    data = decoded.to_json()
    json.dumps(data)  # always serialisable
    if case.error is None:
        assert data["error"] is None, data["error"]
        assert decoded.url is not None
    else:
        assert case.error in str(data["error"])
        assert decoded.url is None
    for key, want in case.expect.items():
        if key == "params":
            assert isinstance(want, dict)
            params = data["params"]
            assert isinstance(params, dict)
            for name, value in want.items():
                assert params.get(name) == value, name
        else:
            assert data[key] == want, key
    assert sorted({w.code for w in decoded.warnings}) == sorted(case.warnings)
    for prop, want in case.props.items():
        assert getattr(decoded.url, prop) == want, prop


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if not c.input.startswith("/") and "://" not in c.input],
    ids=lambda c: c.id,
)
def test_fast_and_reference_paths_agree(case: Case) -> None:
    fast = decode_node(case.input, directory=case.directory)
    reference = url_module._decode_node_general(case.input, case.directory)
    assert fast.url == reference.url
    assert fast.error == reference.error
    assert {w.code for w in fast.warnings} == {w.code for w in reference.warnings}
