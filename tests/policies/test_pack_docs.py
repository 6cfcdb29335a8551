"""What the docs say of va-guard's policies holds: the pack's README names each policy the pack
builds in its table, and a number of policies or rule families stated in the docs is the pack's.
ADRs (docs/adr/) are left out: each records the pack as it was when it was decided.
"""

from __future__ import annotations

import re
from pathlib import Path

from policies.va_guard.pack import FAMILIES, build_policies
from tests.paths import PROJECT_ROOT

NUMBER_WORDS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty",
)  # fmt: skip
NUMBERS = {word: n for n, word in enumerate(NUMBER_WORDS)}
# "11 policies", "nine rule families", "2 notice policies", "13 va-guard policies".
COUNT_RE = re.compile(
    r"\b(\d+|" + "|".join(NUMBERS) + r")\s+(?:va-guard\s+)?(policies|rule families|"
    r"notice policies)\b",
    re.IGNORECASE,
)
TABLE_ROW_RE = re.compile(r"^\| ((?:`va-[a-z-]+`(?:, )?)+) \|", re.MULTILINE)


def docs(root: Path = PROJECT_ROOT) -> list[Path]:
    files = [root / "README.md", root / "policies" / "README.md", root / "org" / "README.md"]
    files += [f for f in sorted((root / "docs").rglob("*.md")) if "adr" not in f.parts]
    return [f for f in files if f.is_file()]


def pack_counts() -> dict[str, int]:
    policies = len(build_policies())
    return {
        "policies": policies,
        "rule families": len(FAMILIES),
        "notice policies": policies - len(FAMILIES),
    }


def wrong_counts(text: str, counts: dict[str, int]) -> list[str]:
    found = []
    for match in COUNT_RE.finditer(text):
        number, what = match.group(1).lower(), match.group(2).lower()
        stated = NUMBERS[number] if number in NUMBERS else int(number)
        if stated != counts[what]:
            found.append(f"{match.group(0)!r} (the pack has {counts[what]} {what})")
    return found


def test_counts_of_the_packs_policies_in_the_docs_are_the_packs():
    counts = pack_counts()
    wrong = {
        str(f.relative_to(PROJECT_ROOT)): problems
        for f in docs()
        if (problems := wrong_counts(f.read_text(encoding="utf-8"), counts))
    }
    assert wrong == {}


def test_the_count_check_sees_a_stale_count():
    counts = {"policies": 13, "rule families": 11, "notice policies": 2}
    text = "va-guard's 11 policies; nine rule families and two notice policies; 13 policies."
    assert wrong_counts(text, counts) == [
        "'11 policies' (the pack has 13 policies)",
        "'nine rule families' (the pack has 11 rule families)",
    ]


def test_the_packs_readme_table_names_every_policy_it_builds():
    readme = (PROJECT_ROOT / "policies" / "README.md").read_text(encoding="utf-8")
    listed = [name.strip("`") for row in TABLE_ROW_RE.findall(readme) for name in row.split(", ")]
    assert listed == [p.name for p in build_policies()]
