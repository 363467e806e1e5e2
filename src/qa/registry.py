"""Lazy name -> implementation registries: an optional dependency is imported only when chosen."""

from __future__ import annotations

import importlib
import shlex
from collections.abc import Iterator, Mapping
from typing import Any

from qa.errors import ConfigError, QAError

__all__ = ["Registry"]


class Registry(Mapping[str, str]):
    """Maps a name to a `"module:attribute"` string, imported on first `load(name)`.

    Args:
        what: what the names are, for messages ("vector store", "embedding backend").
        entries: name -> `"package.module:Attribute"`.
        packages: name -> the pip package that provides it, named when its import fails.
        error: the error class raised for an unknown name or a missing package.
    """

    def __init__(
        self,
        what: str,
        entries: Mapping[str, str],
        *,
        packages: Mapping[str, str] | None = None,
        error: type[QAError] = ConfigError,
    ) -> None:
        self.what = what
        self._entries = dict(entries)
        self._packages = dict(packages or {})
        self._error = error
        self._loaded: dict[str, Any] = {}

    def __getitem__(self, name: str) -> str:
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def check(self, name: str) -> str:
        """`name` if it is registered, else an error that lists the valid names."""
        if name not in self._entries:
            raise self._error(f"unknown {self.what} {name!r}; choose one of {sorted(self._entries)}")
        return name

    def load(self, name: str) -> Any:
        """The attribute registered as `name`, importing its module now if needed."""
        self.check(name)
        if name not in self._loaded:
            module, _, attribute = self._entries[name].partition(":")
            try:
                self._loaded[name] = getattr(importlib.import_module(module), attribute)
            except ImportError as exc:
                package = self._packages.get(name, exc.name or module)
                raise self._error(
                    f"the {self.what} {name!r} needs the package {package!r}, which is not installed "
                    f"({exc}); run `pip install {shlex.quote(package)}`"
                ) from exc
        return self._loaded[name]
