"""Packaging for Lambda: reproducible zips and layers from a directory, and the revisions that
name them after the last commit that changed them (so a commit that changes nothing deployed
changes no resource). Run it before registering any resource.

Reproducible Lambda zip packages: same inputs, same bytes, same hash - so no re-upload.

The usual complaint about Lambda packaging tools is a diff (and an upload) on every run, because
zip entries carry mtimes, pip leaves ``.pyc`` files and paths leak in. Here every entry gets a
fixed timestamp and mode, entries are sorted, bytecode and pip's path records are dropped, and the
result is cached under a key that hashes the inputs, so an unchanged function is neither rebuilt
nor re-uploaded. Building happens before any resource is registered (see ``__main__.py``), so a
failing ``pip install`` leaves nothing half-created.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from va_platform.components.artifacts import ZipArtifact
from va_platform.components.errors import VaError

__all__ = [
    "BUILDER_VERSION",
    "PackagingError",
    "build_zip",
    "code_revision",
    "content_revision",
    "last_change",
    "revision",
]

# Bump when the archive layout changes: old cache entries are not reused, and every zip's
# revision gains a ``-b<version>`` suffix, so a new layout is a new object name (from "1" on).
BUILDER_VERSION = "1"
DEFAULT_CACHE_DIR = Path(".va-build")
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
SKIP_DIRS = frozenset({"__pycache__", ".git", ".venv", "venv", ".pytest_cache", ".mypy_cache"})
SKIP_SUFFIXES = (".pyc", ".pyo")
SKIP_NAMES = frozenset({".DS_Store", "direct_url.json"})
PIP_PLATFORMS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}


class PackagingError(VaError, ValueError):
    """A package cannot be built; the message says which directory and why. A
    ``pulumi.RunError``, as every refusal of the library: one line under ``pulumi preview``."""


def _files(root: Path) -> Iterator[tuple[str, Path]]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for filename in sorted(filenames):
            if filename in SKIP_NAMES or filename.endswith(SKIP_SUFFIXES):
                continue
            path = Path(dirpath, filename)
            yield path.relative_to(root).as_posix(), path


def _is_executable(path: Path) -> bool:
    return bool(path.stat().st_mode & 0o111)


def input_digest(
    source_dir: Path, requirements: Path | None, prefix: str, runtime: str, architecture: str
) -> str:
    """Hash of everything that decides the archive's bytes: the cache key."""
    digest = hashlib.sha256()
    for part in (BUILDER_VERSION, prefix, runtime, architecture):
        digest.update(part.encode() + b"\0")
    for rel, path in _files(source_dir):
        digest.update(rel.encode() + b"\0" + (b"x" if _is_executable(path) else b"-"))
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    if requirements is not None:
        digest.update(b"requirements\0" + requirements.read_bytes())
    return digest.hexdigest()


def _pip_install(requirements: Path, target: Path, runtime: str, architecture: str) -> None:
    """Install for Lambda's platform, not this machine's: wheels only, for the runtime's Python."""
    if not runtime.startswith("python"):
        raise PackagingError(
            f"{requirements}: requirements.txt only applies to Python runtimes, not {runtime!r}"
        )
    cmd = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-compile", "--only-binary=:all:", "--implementation", "cp",
        "--python-version", runtime.removeprefix("python"),
        "--platform", PIP_PLATFORMS[architecture],
        "--target", str(target), "-r", str(requirements),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        raise PackagingError(f"pip install -r {requirements} failed:\n{tail}")


def _write_zip(dest: Path, entries: list[tuple[str, Path]]) -> None:
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for arcname, path in sorted(entries, key=lambda e: e[0]):
            info = zipfile.ZipInfo(arcname, date_time=FIXED_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the mode below is honoured by Lambda
            info.external_attr = ((0o755 if _is_executable(path) else 0o644) | 0o100000) << 16
            zf.writestr(info, path.read_bytes(), compresslevel=9)


def build_zip(
    source_dir: str | Path,
    *,
    runtime: str,
    architecture: str = "x86_64",
    prefix: str = "",
    cache_dir: str | Path = DEFAULT_CACHE_DIR,
) -> ZipArtifact:
    """Zip ``source_dir`` with its ``requirements.txt`` installed beside the code (or under
    ``prefix``, e.g. ``python`` for a layer), reusing the cached archive when inputs are unchanged.
    """
    source = Path(source_dir)
    if not source.is_dir():
        raise PackagingError(f"code path {str(source)!r} is not a directory")
    if architecture not in PIP_PLATFORMS:
        raise PackagingError(
            f"architecture {architecture!r} is not one of {', '.join(PIP_PLATFORMS)}"
        )
    requirements = source / "requirements.txt"
    req = requirements if requirements.is_file() and requirements.read_text().strip() else None
    key = input_digest(source, req, prefix, runtime, architecture)
    cache = Path(cache_dir)
    dest = cache / f"{source.name}-{key[:16]}.zip"
    if not dest.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="va-build-") as tmp:
            entries = list(_files(source))
            if req is not None:
                target = Path(tmp, "deps")
                _pip_install(req, target, runtime, architecture)
                entries += [
                    (f"{prefix}/{rel}" if prefix else rel, path) for rel, path in _files(target)
                ]
            if not entries:
                raise PackagingError(f"code path {str(source)!r} has no files to package")
            # Written beside its final name and renamed, so a concurrent reader never sees a
            # half-written cache entry.
            partial = dest.with_name(f"{dest.name}.{os.getpid()}.partial")
            _write_zip(partial, entries)
            os.replace(partial, dest)
    data = dest.read_bytes()
    return ZipArtifact(
        path=dest,
        sha256_b64=base64.b64encode(hashlib.sha256(data).digest()).decode(),
        size=len(data),
        runtime=runtime,
        architecture=architecture,
    )


# --- Revisions: which commit a build comes from (artifacts and image tags are named after it) ---


def last_change(root: Path, paths: Sequence[str]) -> tuple[str | None, bool]:
    """(the last commit that changed any of ``paths``, whether any of them differ from it).

    ``paths`` are git glob pathspecs relative to ``root`` (``agent_image/faalf/*.py``). Naming a
    build after the last commit that changed its inputs, not after HEAD, is what keeps a
    docs-only commit from re-uploading every zip and rebuilding the image. (None, True) outside
    git, or when no commit has touched the paths yet.
    """
    specs = [f":(glob){p}" for p in paths]
    try:
        commit = _git(root, "log", "-1", "--format=%H", "--", *specs)[:12]
        status = _git(root, "status", "--porcelain", "--", *specs)
    except (OSError, subprocess.CalledProcessError):
        return None, True
    return (commit or None), bool(status) or not commit


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()


def content_revision(content_sha256_hex: str) -> str:
    """For what should change only with its content (layers): 12 hex digits of its hash."""
    return content_sha256_hex[:12]


def revision(commit: str | None, dirty: bool, content_sha256_hex: str) -> str:
    """The commit for a clean tree; otherwise commit + content hash, so the name still changes
    exactly when the content does (a dirty tree has no commit that describes it)."""
    if commit and not dirty:
        return commit
    return f"{commit or 'nogit'}-dirty-{content_revision(content_sha256_hex)}"


def code_revision(source_dir: str | Path, package: ZipArtifact, *extra: str) -> str:
    """The revision a zip of ``source_dir`` is staged under: the last commit that changed the
    directory (or the ``extra`` git pathspecs, relative to it), so a commit that changes nothing
    in it changes no object name and no function; commit + content hash for a dirty tree; and
    the builder's version once its layout has changed (``BUILDER_VERSION``)."""
    commit, dirty = last_change(Path(source_dir), ("**", *extra))
    base = revision(commit, dirty, package.sha256_hex)
    return base if BUILDER_VERSION == "1" else f"{base}-b{BUILDER_VERSION}"
