from typing import Any


def handler(event: dict[str, Any], context: object) -> dict[str, bool]:
    return {"ok": True}
