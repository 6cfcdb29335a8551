"""The pack's copy of the shared standard is the library's, byte for byte.

The standard is defined once, in ``src/va_platform``; the pack is published on its own
(``pulumi policy publish`` ships only ``policies/``), so it carries a verbatim copy.
"""

import pytest

from tests.paths import PACK_DIR, PROJECT_ROOT

VENDORED = ("standard.py", "catalogue.py", "iam_catalogue.json")


@pytest.mark.parametrize("name", VENDORED)
def test_pack_copy_of_the_standard_is_the_library_s(name: str) -> None:
    """Fails after a change to the library's standard until ``make vendor-standard``."""
    library = (PROJECT_ROOT / "src" / "va_platform" / name).read_bytes()
    assert (PACK_DIR / "va_guard" / name).read_bytes() == library
