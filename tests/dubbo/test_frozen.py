"""quick_init: the replaced __init__ behaves exactly like the generated one."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from dubbomesh.dubbo.frozen import quick_init


@dataclasses.dataclass(frozen=True, slots=True)
class Plain:
    a: str
    b: int = 3
    c: tuple[int, ...] = dataclasses.field(default_factory=lambda: (1, 2))
    d: str = dataclasses.field(default="x", compare=False)


Quick: type = quick_init(
    dataclasses.make_dataclass(
        "Quick",
        [
            ("a", str),
            ("b", int, dataclasses.field(default=3)),
            ("c", tuple, dataclasses.field(default_factory=lambda: (1, 2))),
            ("d", str, dataclasses.field(default="x", compare=False)),
        ],
        frozen=True,
        slots=True,
    )
)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [(("v",), {}), (("v", 5), {}), (("v",), {"c": (9,)}), ((), {"a": "v", "d": "y", "b": 0})],
)
def test_same_values_as_the_generated_init(
    args: tuple[object, ...], kwargs: dict[str, object]
) -> None:
    plain, quick = Plain(*args, **kwargs), Quick(*args, **kwargs)  # type: ignore[arg-type]
    assert dataclasses.astuple(plain) == dataclasses.astuple(quick)
    assert repr(plain).replace("Plain", "Quick") == repr(quick)


def test_same_signature_and_errors() -> None:
    assert list(inspect.signature(Plain).parameters) == list(inspect.signature(Quick).parameters)
    with pytest.raises(TypeError):
        Quick()
    with pytest.raises(TypeError):
        Quick("v", 1, (), "d", "extra")


def test_still_frozen_hashable_and_replaceable() -> None:
    one = Quick("v")
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.a = "w"
    assert one == Quick("v", d="other")  # d is not compared, as declared
    assert hash(one) == hash(Quick("v"))
    assert dataclasses.replace(one, b=7).b == 7
    assert Quick("v").c == (1, 2)


def test_factories_run_per_instance() -> None:
    @quick_init
    @dataclasses.dataclass(frozen=True, slots=True)
    class Box:
        items: list[int] = dataclasses.field(default_factory=list)

    assert Box().items is not Box().items


def test_refuses_what_it_cannot_serve_exactly() -> None:
    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclasses.dataclass(slots=True)
    class NotFrozen:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class PostInit:
        a: int

        def __post_init__(self) -> None:
            pass

    @dataclasses.dataclass(frozen=True, slots=True)
    class Hidden:
        a: int
        b: int = dataclasses.field(init=False, default=0)

    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class KeywordOnly:
        a: int

    for cls in (NoSlots, NotFrozen, PostInit, Hidden, KeywordOnly):
        with pytest.raises(TypeError):
            quick_init(cls)
