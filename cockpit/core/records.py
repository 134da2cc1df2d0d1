"""Immutable value classes without `dataclasses`, for the few that every store-only command
loads (`note`, `timeline`, `incidents`): the store's `Event` and `IncidentRecord`, the
config's `StoreSettings`, a PostgreSQL `PgTarget`.

`import dataclasses` imports `inspect` (with `ast`, `dis`, `tokenize`) and each decorated
class compiles its methods at import: about 9 ms of CPU plus 0.5-1 ms per class on every
start, measured with bench/bench_startup.py. A `Record` behaves as a frozen dataclass does:
keyword or positional construction in field order, `==` and `hash` over the compared fields
(only between instances of the same class), a `Name(field=value, ...)` repr, attributes that
cannot be set or deleted, `__match_args__`, and `replace(**changes)` for `dataclasses.replace`.
Each subclass writes its own `__init__` (as fast as the generated one) and names its fields.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's own, without importing typing (~3 ms at every start)
if TYPE_CHECKING:
    from typing import Any, ClassVar, Self


class FrozenRecordError(AttributeError):
    """An attribute of a `Record` was set or deleted (as `dataclasses.FrozenInstanceError`)."""


class Record:
    """Base of an immutable value class: `_fields` in `__init__` order; `_compared`, the fields
    `==` and `hash` look at (default: all of them)."""

    _fields: ClassVar[tuple[str, ...]] = ()
    __match_args__: ClassVar[tuple[str, ...]] = ()
    _compared: ClassVar[tuple[str, ...] | None] = None
    _hashable: ClassVar[bool] = True
    _mutable: ClassVar[bool] = False
    """True: attributes can be set (as a dataclass without `frozen`); unhashable then."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__match_args__ = cls._fields  # type: ignore[misc]
        if cls._compared is None:
            cls._compared = cls._fields
        if cls._mutable:
            cls.__setattr__ = object.__setattr__  # type: ignore[method-assign,assignment]
            cls.__delattr__ = object.__delattr__  # type: ignore[method-assign]
        if cls._mutable or not cls._hashable:
            setattr(cls, "__hash__", None)  # noqa: B010 - as a dataclass with a mutable field

    def _key(self) -> tuple[Any, ...]:
        values = self.__dict__
        return tuple(values[name] for name in self._compared or ())

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        values = self.__dict__
        shown = ", ".join(f"{name}={values[name]!r}" for name in self._fields)
        return f"{self.__class__.__qualname__}({shown})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenRecordError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenRecordError(f"cannot delete field {name!r}")

    def replace(self, **changes: Any) -> Self:
        """A copy with `changes` (as `dataclasses.replace`; TypeError for an unknown field)."""
        values = {name: self.__dict__[name] for name in self._fields}
        values.update(changes)
        return self.__class__(**values)
