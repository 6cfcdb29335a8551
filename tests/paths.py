"""Where this repository is, for tests that read its files (the library knows no repository)."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PACK_DIR = PROJECT_ROOT / "policies"
