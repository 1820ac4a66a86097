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
