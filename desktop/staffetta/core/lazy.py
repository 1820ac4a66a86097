"""Modules imported at their first use rather than with the module that names them.

The window starts with only what its first screen needs: the HTTP stack, image handling and
Markdown rendering are loaded when something first sends, inspects an image or renders a post.
A module names such a dependency as::

    if TYPE_CHECKING:
        import httpx
    else:
        httpx = lazy_module("httpx")

and uses it as usual (``httpx.Response``, ``except httpx.HTTPError``); the type checker sees the
real module. Only attribute access imports it, so module-level code must not touch it.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyModule:
    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attribute)

    def __repr__(self) -> str:
        state = "loaded" if self._module is not None else "not loaded yet"
        return f"<module {self._name!r}, imported at first use: {state}>"


def lazy_module(name: str) -> Any:
    """A stand-in for module ``name`` that imports it at its first attribute access."""
    return _LazyModule(name)


class _LazyPattern:
    """A ``regex`` pattern compiled at its first use. Its methods are then copied onto it, so
    later calls cost what calls on the compiled pattern cost."""

    def __init__(self, pattern: str, flags: tuple[str, ...]) -> None:
        self._source = (pattern, flags)

    def __getattr__(self, attribute: str) -> Any:
        regex = importlib.import_module("regex")
        pattern, flag_names = self._source
        flags = 0
        for name in flag_names:
            flags |= getattr(regex, name)
        compiled = regex.compile(pattern, flags)
        for name in dir(compiled):
            if not name.startswith("_"):
                self.__dict__[name] = getattr(compiled, name)
        return getattr(compiled, attribute)


def lazy_regex(pattern: str, *flags: str) -> Any:
    """``regex.compile(pattern, flags)`` at the pattern's first use; ``flags`` are the names of
    ``regex`` flags ("IGNORECASE"). The ``regex`` module and its Unicode tables load with the first
    pattern used, which a window opening on an empty draft never needs."""
    return _LazyPattern(pattern, flags)
