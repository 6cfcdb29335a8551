import os
from typing import Any


def handler(event: dict[str, Any], context: object) -> dict[str, object]:
    return {"table": os.environ["DYNAMODB_TABLE"], "records": len(event.get("Records", []))}
