"""Which AWS resource types take ``tags``: a data file generated from pulumi-aws, read by the pack.

The pack is applied org-wide and must know that a resource *could* carry tags even when it has
none (then ``tags`` is simply absent from its properties). The engine sends no schema, and the
pack must not depend on pulumi-aws, so the list is generated from the installed pulumi-aws source
(every resource class whose constructor takes ``tags``) and committed beside this module.

Regenerate after a pulumi-aws upgrade: ``python -m policies.va_guard.taggable --write``; a test
fails while the file and the installed pulumi-aws disagree.
"""

from __future__ import annotations

import re
import sys
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).with_name("taggable_types.txt")

_TYPE_TOKEN = re.compile(r"super\(\w+, __self__\).__init__\(\s*'(aws:[^']+)'")
_INTERNAL_INIT = re.compile(r"def _internal_init\(__self__,(.*?)\):", re.S)
_TAGS_PARAM = re.compile(r"\n\s+tags: ")


@cache
def taggable_types() -> frozenset[str]:
    lines = DATA_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def scan_pulumi_aws(package_dir: Path) -> list[str]:
    """Type tokens of the resource classes under ``package_dir`` whose constructor takes tags.

    Reads the source instead of importing 1,700 classes: 0.6 s instead of minutes.
    """
    found: set[str] = set()
    for path in package_dir.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        for init in _INTERNAL_INIT.finditer(source):
            token = _TYPE_TOKEN.search(source, init.end())
            if token and _TAGS_PARAM.search(init.group(1)):
                found.add(token.group(1))
    return sorted(found)


def generated_text() -> str:
    import pulumi_aws

    version = getattr(pulumi_aws, "__version__", "") or _installed_version()
    types = scan_pulumi_aws(Path(pulumi_aws.__file__).parent)
    header = f"# AWS resource types that take tags; generated from pulumi-aws {version}\n"
    return header + "\n".join(types) + "\n"


def _installed_version() -> str:
    from importlib.metadata import version

    return version("pulumi-aws")


if __name__ == "__main__":
    text = generated_text()
    if "--write" in sys.argv:
        DATA_FILE.write_text(text, encoding="utf-8")
        print(f"wrote {DATA_FILE} ({text.count(chr(10)) - 1} types)")
    else:
        sys.stdout.write(text)
