"""Reading engine properties without ever raising.

The pack is applied org-wide, so a property may be missing, of any type, or unknown (during
preview, a value computed from another resource's output). The SDK hands policies read-only
proxies that raise ``UnknownValueError`` on access to an unknown value, and then skips the whole
policy. These helpers turn that into a value a rule can reason about: ``None`` for missing or
ill-typed, ``UNKNOWN`` for unknown, so a rule checks everything it can and says what it could not.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from pulumi_policy.proxy import UnknownValueError

from .sdk_compat import proxy_types

# Exact types answered without the ABC machinery (``isinstance(x, Mapping)`` on the SDK's
# proxies is most of what reading a property costs); any other type takes the general check.
# The SDK's proxy classes are in the tables only while the SDK is the reviewed one (sdk_compat).
_SCALARS = (str, bytes, int, float, bool, type(None))
_MAPPING_PROXIES, _LIST_PROXIES = proxy_types()
_IS_LIST: Final[dict[type, bool]] = {
    **dict.fromkeys((list, tuple, *_LIST_PROXIES), True),
    **dict.fromkeys((*_SCALARS, dict, *_MAPPING_PROXIES), False),
}
_IS_MAPPING: Final[dict[type, bool]] = {
    **dict.fromkeys((dict, *_MAPPING_PROXIES), True),
    **dict.fromkeys((*_SCALARS, list, tuple, *_LIST_PROXIES), False),
}


class _Unknown:
    """A value the engine does not know yet (preview)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown>"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Final = _Unknown()


def get(value: Any, *path: str | int) -> Any:
    """``value[p0][p1]...``: None if a step is missing or of the wrong shape, UNKNOWN if unknown."""
    for key in path:
        try:
            if isinstance(key, int):
                if not is_list(value) or not -len(value) <= key < len(value):
                    return None
                value = value[key]
            elif is_mapping(value):
                value = value.get(key)
            else:
                return None
        except UnknownValueError:
            return UNKNOWN
        except Exception:  # noqa: BLE001 - an odd shape from another tool must never crash a rule
            return None
        if value is None:
            return None
    return value


def is_list(value: Any) -> bool:
    known = _IS_LIST.get(type(value))
    if known is not None:
        return known
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def is_mapping(value: Any) -> bool:
    known = _IS_MAPPING.get(type(value))
    return known if known is not None else isinstance(value, Mapping)


def plain(value: Any) -> Any:
    """A plain dict/list copy of a (proxied) value, with UNKNOWN where the engine has no value."""
    if is_mapping(value):
        out: dict[Any, Any] = {}
        for key in list(value):
            out[key] = plain(get(value, key))
        return out
    if is_list(value):
        items = []
        for i in range(len(value)):
            items.append(plain(get(value, i)))
        return items
    return value


def items_of(value: Any) -> list[Any]:
    """The elements of a list (plain), ``[]`` for anything else; one value counts as one item."""
    if value is None or value is UNKNOWN:
        return []
    if is_list(value):
        return [plain(get(value, i)) for i in range(len(value))]
    return [plain(value)]


def string_map(value: Any) -> dict[str, Any]:
    """A mapping with string keys (tags, env vars), values plain; ``{}`` for anything else."""
    if not is_mapping(value):
        return {}
    return {key: plain(get(value, key)) for key in list(value) if isinstance(key, str)}


def number(value: Any) -> float | None:
    """A number (engine numbers are floats; bools are not numbers), or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def json_document(value: Any) -> Any:
    """A policy document given as a JSON string or an object; None when it is neither."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    if is_mapping(value):
        return plain(value)
    return None


def shown(value: Any, limit: int = 80) -> str:
    """A property value for a message: a number as written (engine numbers are floats: 64.0
    shows as 64), anything else its plain repr, shortened; never a proxy object's address."""
    n = number(value)
    if n is not None:
        return f"{n:g}"
    text = repr(plain(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def contains_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    return False
