"""``python -m va_platform.provider.schema``: the provider's package schema, as GetSchema
returns it, formatted for review (``make schema`` writes it to schema.json)."""

import json
import sys

from va_platform.provider.host import VaComponentProvider


def schema_text() -> str:
    return json.dumps(VaComponentProvider().schema_dict(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    sys.stdout.write(schema_text())
