"""The provider decoder's shortcuts agree with the URL value's own definitions."""

from __future__ import annotations

from types import MappingProxyType

from hypothesis import given
from hypothesis import strategies as st

from dubbomesh.dubbo.providers import _weight
from dubbomesh.dubbo.url import DubboUrl

weights = st.one_of(
    st.none(),
    st.text(alphabet="0123456789+- ١a", max_size=12),
    st.integers(-(10**11), 10**11).map(str),
)


@given(weights)
def test_weight_fast_path_equals_the_url_property(raw: str | None) -> None:
    params = {} if raw is None else {"weight": raw}
    url = DubboUrl("dubbo", host="10.0.0.1", port=20880, params=MappingProxyType(params))
    assert _weight(url) == url.weight
