"""The renderer's shortcuts give exactly what the plain definitions give: versions cover every
spec field, the IPv4 fast path agrees with ``ipaddress``, the compiled templates agree with the
regex substitution, and catalog hints never change a render."""

from __future__ import annotations

import dataclasses
import ipaddress
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from dubbomesh.dubbo.builder import CatalogBuilder
from dubbomesh.dubbo.registry import ListingComplete, ProvidersChanged
from dubbomesh.dubbo.url import encode_node, parse_url
from dubbomesh.mesh.intent import (
    Kind,
    Location,
    MeshIntent,
    MeshObject,
    PortSpec,
    Resolution,
    ServiceEntrySpec,
    WorkloadSpec,
)
from dubbomesh.mesh.naming import (
    NamingError,
    address_label,
    render_template,
    to_label,
    workload_values,
)
from dubbomesh.mesh.render import Renderer, render
from dubbomesh.mesh.services import is_ip
from dubbomesh.mesh.settings import MeshSettings
from dubbomesh.mesh.workloads import workload_host

WORKLOAD = WorkloadSpec("10.0.0.1", (("grpc", "50051"),), (("app", "a"),), "n", "l", 3, "sa")
ENTRY = ServiceEntrySpec(
    hosts=("a.dubbo",),
    ports=(PortSpec(50051, "GRPC", "grpc", 1),),
    addresses=("242.0.0.1",),
    location=Location.MESH_INTERNAL,
    resolution=Resolution.STATIC,
    endpoints=(WORKLOAD,),
    export_to=(".",),
    subject_alt_names=("spiffe://x",),
    workload_selector=(("k", "v"),),
)
OTHER: dict[type, object] = {
    str: "changed",
    int: 99,
    tuple: (),
    Location: Location.MESH_EXTERNAL,
    Resolution: Resolution.DNS,
}


def changed(value: object) -> object:
    if isinstance(value, (Location, Resolution)):
        return OTHER[type(value)]
    if value == () or value is None:
        return (("x", "y"),)
    return OTHER[type(value)]


def version(spec: WorkloadSpec | ServiceEntrySpec) -> str:
    return MeshObject.create(Kind.SERVICE_ENTRY, "ns", "n", spec).version


def test_every_spec_field_is_part_of_the_version() -> None:
    for spec in (WORKLOAD, ENTRY):
        for f in dataclasses.fields(spec):
            other = dataclasses.replace(spec, **{f.name: changed(getattr(spec, f.name))})  # type: ignore[arg-type]
            assert version(other) != version(spec), f.name
    for f in dataclasses.fields(PortSpec):
        port = ENTRY.ports[0]
        other_port = dataclasses.replace(port, **{f.name: changed(getattr(port, f.name))})  # type: ignore[arg-type]
        assert version(dataclasses.replace(ENTRY, ports=(other_port,))) != version(ENTRY), f.name
    inner = dataclasses.replace(ENTRY, endpoints=(dataclasses.replace(WORKLOAD, weight=4),))
    assert version(inner) != version(ENTRY)
    assert version(WORKLOAD) != version(ENTRY)


def test_intent_create_agrees_with_the_incremental_table() -> None:
    objects = [
        MeshObject.create(Kind.WORKLOAD_ENTRY, "ns", f"w{i}", WorkloadSpec(f"10.0.0.{i}"))
        for i in range(5)
    ]
    assert MeshIntent.create(objects).version == MeshIntent.create(objects[::-1]).version
    builder = CatalogBuilder(["zk"])
    for i, proto in enumerate(["dubbo", "tri", "tri"]):
        names = frozenset({name(f"com.a.S{i}", i, proto)})
        builder.apply(ProvidersChanged("zk", "/dubbo", f"com.a.S{i}", names))
    builder.apply(ListingComplete("zk"))
    intent = render(builder.snapshot(), MeshSettings())
    assert len(intent) >= 3
    assert intent.version == MeshIntent.create(list(intent.objects.values())).version


def reference_address_label(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return to_label(address)
    return to_label(ip.exploded.replace(":", "-").replace(".", "-"))


def reference_is_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


octet = st.one_of(st.integers(0, 300).map(str), st.sampled_from(["01", "00", "007", "", "1a"]))
address = st.one_of(
    st.lists(octet, min_size=3, max_size=5).map(".".join),
    st.sampled_from(["::1", "2001:db8::7", "host.example", "١٢.0.0.1"]),
)


@settings(max_examples=300, deadline=None)
@given(address)
def test_ip_fast_paths_agree_with_ipaddress(text: str) -> None:
    assert is_ip(text) == reference_is_ip(text)
    assert address_label(text) == reference_address_label(text)


_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def reference_template(template: str, values: dict[str, str]) -> str:
    parts: list[str] = []
    for part in template.split("."):
        names = _PLACEHOLDER.findall(part)
        for name in names:
            if name not in values:
                raise NamingError(name)
        text = _PLACEHOLDER.sub(lambda m: values[m.group(1)], part)
        if text or not names:
            parts.append(text)
    return ".".join(p for p in parts if p).lower()


piece = st.sampled_from(["{a}", "{b}", "{missing}", "x", "-", "", "{a}{b}", "p{a}q", "{"])
values = st.fixed_dictionaries({"a": st.sampled_from(["", "v", "W"]), "b": st.just("")})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(piece, max_size=3).map("".join), min_size=1, max_size=4), values)
def test_compiled_templates_agree_with_substitution(parts: list[str], vals: dict[str, str]) -> None:
    template = ".".join(parts)
    try:
        expected = reference_template(template, vals)
    except NamingError:
        try:
            render_template(template, vals)
        except NamingError:
            return
        raise AssertionError("an unknown placeholder was accepted") from None
    assert render_template(template, vals) == expected


def name(iface: str, host: int, proto: str) -> str:
    port = 20880 if proto == "dubbo" else 50051
    return encode_node(parse_url(f"{proto}://10.0.{host}.1:{port}/{iface}?interface={iface}"))


change = st.tuples(
    st.sampled_from(["com.a.A", "com.a.B", "com.a.C"]),
    st.lists(st.tuples(st.integers(1, 3), st.sampled_from(["dubbo", "tri"])), max_size=3),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(change, min_size=1, max_size=10), st.integers(1, 3))
def test_hinted_incremental_render_equals_a_fresh_render(
    changes: list[tuple[str, list[tuple[int, str]]]], every: int
) -> None:
    builder = CatalogBuilder(["zk"])
    builder.apply(ListingComplete("zk"))
    incremental = Renderer(MeshSettings())
    for i, (iface, providers) in enumerate(changes):
        names = frozenset(name(iface, h, p) for h, p in providers)
        builder.apply(ProvidersChanged("zk", "/dubbo", iface, names))
        if i % every == 0:  # sometimes skip snapshots: the hint chain breaks, full compare
            incremental.render(builder.snapshot())
    catalog = builder.snapshot()
    got = incremental.render(catalog)
    want = Renderer(MeshSettings()).render(catalog)
    assert got.version == want.version
    assert {k: o.version for k, o in got.objects.items()} == {
        k: o.version for k, o in want.objects.items()
    }


workload_part = st.sampled_from(["{address}", "{application}", "{namespace}", "w", "{address}-x"])
workload_template = st.tuples(
    st.lists(workload_part, max_size=2), st.lists(workload_part, max_size=2)
).map(lambda parts: ".".join([*parts[0], "{address}", *parts[1]]))


@settings(max_examples=200, deadline=None)
@given(
    workload_template,
    address,
    st.sampled_from(["", "App_1", "x" * 300]),
    st.sampled_from(["", "ns"]),
)
def test_workload_hosts_filled_once_per_application_equal_a_full_fill(
    template: str, text: str, app: str, namespace: str
) -> None:
    settings = MeshSettings(workload_host_template=template, namespace=namespace)
    values = workload_values(text, app, namespace=namespace)
    assert workload_host(text, app, settings) == render_template(template, values)
