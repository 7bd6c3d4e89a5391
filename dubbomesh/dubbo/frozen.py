"""Cheaper construction for the frozen, slotted dataclasses built once per registry node.

Why this module exists: a frozen dataclass's generated ``__init__`` stores every field through
``object.__setattr__`` (an attribute lookup and a generic call per field: about 130 ns each on
CPython 3.11), because the class's own ``__setattr__`` refuses writes. The decoder builds a
:class:`~dubbomesh.dubbo.url.DubboUrl` and a ``Decoded`` per ZooKeeper child name and the builder
an ``Endpoint`` per provider: at 100,000 names that is a tenth of the initial sync. Storing
through each slot's own descriptor (``Cls.field.__set__``) does the same thing at half the cost.

:func:`quick_init` swaps the generated ``__init__`` for one that does exactly that, and nothing
else changes: same signature and defaults (default factories included), same immutability, same
``__eq__``/``__hash__``/``__repr__``, ``dataclasses.replace`` still works. Only classes it can
serve exactly are accepted (frozen, slots, every field in ``__init__``, no ``__post_init__``, no
``InitVar``); anything else is a TypeError at import time, never a silent difference.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")

_FACTORY = object()
"""Stands for "call the default factory" in generated signatures (as dataclasses itself does)."""


def quick_init(cls: type[T]) -> type[T]:
    """Replace the generated ``__init__`` of the frozen, slotted dataclass ``cls`` (decorator,
    applied above ``@dataclass``)."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"quick_init needs a frozen dataclass with slots, not {cls.__name__}")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"quick_init cannot run {cls.__name__}.__post_init__")
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    every = cls.__dataclass_fields__  # type: ignore[attr-defined]
    if len(fields) != len(every) or any(not f.init or f.kw_only is True for f in fields):
        raise TypeError(
            f"quick_init needs every field of {cls.__name__} positional in __init__ (no InitVar)"
        )
    names: dict[str, Any] = {"_FACTORY": _FACTORY}
    args: list[str] = []
    body: list[str] = []
    for f in fields:
        name = f.name
        names[f"_set_{name}"] = cls.__dict__[name].__set__
        if f.default is not dataclasses.MISSING:
            names[f"_default_{name}"] = f.default
            args.append(f"{name}=_default_{name}")
        elif f.default_factory is not dataclasses.MISSING:
            names[f"_factory_{name}"] = f.default_factory
            args.append(f"{name}=_FACTORY")
            body.append(f"  if {name} is _FACTORY: {name} = _factory_{name}()")
        else:
            args.append(name)
        body.append(f"  _set_{name}(self, {name})")
    source = f"def __init__(self, {', '.join(args)}):\n" + "\n".join(body or ["  pass"]) + "\n"
    exec(source, names)  # generated from field names only, as dataclasses itself does
    init = names["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[method-assign]
    return cls
