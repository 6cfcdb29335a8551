"""Zip packages are reproducible, cached by content, and carry their requirements."""

from __future__ import annotations

import base64
import hashlib
import os
import zipfile
from pathlib import Path

import pytest

from va_platform.components.artifacts import zip_names
from va_platform.packaging import PackagingError, build_zip


def write_source(root: Path, body: str = "def handler(e, c):\n    return 1\n") -> Path:
    src = root / "src"
    (src / "pkg").mkdir(parents=True, exist_ok=True)
    (src / "handler.py").write_text(body)
    (src / "pkg" / "util.py").write_text("X = 1\n")
    (src / "__pycache__").mkdir(exist_ok=True)
    (src / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"junk")
    return src


def local_wheel(root: Path) -> Path:
    """A pure-Python wheel built by hand, so installing it needs no index and no network."""
    wheels = root / "wheels"
    wheels.mkdir()
    path = wheels / "vahello-1.0-py3-none-any.whl"
    files = {
        "vahello/__init__.py": "GREETING = 'hello'\n",
        "vahello-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: vahello\nVersion: 1.0\n",
        "vahello-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\n"
        "Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{name},,\n" for name in files) + "vahello-1.0.dist-info/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
        zf.writestr("vahello-1.0.dist-info/RECORD", record)
    return wheels


def test_same_source_gives_identical_bytes_in_two_builds(tmp_path):
    src = write_source(tmp_path)
    first = build_zip(src, runtime="python3.11", cache_dir=tmp_path / "c1")
    second = build_zip(src, runtime="python3.11", cache_dir=tmp_path / "c2")
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.sha256_b64 == second.sha256_b64


def test_hash_ignores_file_mtimes(tmp_path):
    src = write_source(tmp_path)
    first = build_zip(src, runtime="python3.11", cache_dir=tmp_path / "c1")
    os.utime(src / "handler.py", (1_000_000_000, 1_000_000_000))
    assert build_zip(src, runtime="python3.11", cache_dir=tmp_path / "c2").sha256_b64 == (
        first.sha256_b64
    )


def test_changed_source_changes_the_hash(tmp_path):
    src = write_source(tmp_path)
    first = build_zip(src, runtime="python3.11", cache_dir=tmp_path / "c")
    (src / "handler.py").write_text("def handler(e, c):\n    return 2\n")
    assert build_zip(src, runtime="python3.11", cache_dir=tmp_path / "c").sha256_b64 != (
        first.sha256_b64
    )


def test_unchanged_source_reuses_the_cached_archive_without_rewriting(tmp_path):
    src = write_source(tmp_path)
    first = build_zip(src, runtime="python3.11", cache_dir=tmp_path / "c")
    stamp = first.path.stat().st_mtime_ns
    second = build_zip(src, runtime="python3.11", cache_dir=tmp_path / "c")
    assert second.path == first.path
    assert second.path.stat().st_mtime_ns == stamp


def test_hash_is_base64_sha256_of_the_archive(tmp_path):
    artifact = build_zip(write_source(tmp_path), runtime="python3.11", cache_dir=tmp_path / "c")
    digest = hashlib.sha256(artifact.path.read_bytes()).digest()
    assert artifact.sha256_b64 == base64.b64encode(digest).decode()


def test_bytecode_and_caches_are_left_out(tmp_path):
    artifact = build_zip(write_source(tmp_path), runtime="python3.11", cache_dir=tmp_path / "c")
    assert zip_names(artifact.path) == ["handler.py", "pkg/util.py"]


def test_entries_have_fixed_timestamps_and_modes(tmp_path):
    src = write_source(tmp_path)
    (src / "bootstrap").write_text("#!/bin/sh\n")
    (src / "bootstrap").chmod(0o755)
    artifact = build_zip(src, runtime="provided.al2023", cache_dir=tmp_path / "c")
    with zipfile.ZipFile(artifact.path) as zf:
        infos = {i.filename: i for i in zf.infolist()}
    assert {i.date_time for i in infos.values()} == {(1980, 1, 1, 0, 0, 0)}
    assert infos["bootstrap"].external_attr >> 16 & 0o777 == 0o755
    assert infos["handler.py"].external_attr >> 16 & 0o777 == 0o644


def test_requirements_are_installed_beside_the_code(tmp_path):
    src = write_source(tmp_path)
    wheels = local_wheel(tmp_path)
    (src / "requirements.txt").write_text(f"--no-index\n--find-links {wheels}\nvahello==1.0\n")
    artifact = build_zip(src, runtime="python3.11", cache_dir=tmp_path / "c")
    names = zip_names(artifact.path)
    assert "vahello/__init__.py" in names
    assert not any(n.endswith(".pyc") for n in names)


def test_layer_requirements_go_under_the_python_prefix(tmp_path):
    layer = tmp_path / "layer"
    layer.mkdir()
    wheels = local_wheel(tmp_path)
    (layer / "requirements.txt").write_text(f"--no-index\n--find-links {wheels}\nvahello==1.0\n")
    artifact = build_zip(layer, runtime="python3.11", prefix="python", cache_dir=tmp_path / "c")
    assert "python/vahello/__init__.py" in zip_names(artifact.path)


def test_requirements_build_is_reproducible(tmp_path):
    src = write_source(tmp_path)
    wheels = local_wheel(tmp_path)
    (src / "requirements.txt").write_text(f"--no-index\n--find-links {wheels}\nvahello==1.0\n")
    first = build_zip(src, runtime="python3.11", cache_dir=tmp_path / "c1")
    second = build_zip(src, runtime="python3.11", cache_dir=tmp_path / "c2")
    assert first.sha256_b64 == second.sha256_b64


def test_failed_pip_install_names_the_requirements_file(tmp_path):
    src = write_source(tmp_path)
    (src / "requirements.txt").write_text("--no-index\nno-such-package-va==9.9\n")
    with pytest.raises(PackagingError, match=r"pip install -r .*requirements.txt failed"):
        build_zip(src, runtime="python3.11", cache_dir=tmp_path / "c")
    assert not list((tmp_path / "c").glob("*.zip"))


def test_missing_source_directory_is_a_clear_error(tmp_path):
    with pytest.raises(PackagingError, match="is not a directory"):
        build_zip(tmp_path / "nope", runtime="python3.11", cache_dir=tmp_path / "c")


def test_requirements_with_a_custom_runtime_are_refused(tmp_path):
    src = write_source(tmp_path)
    (src / "requirements.txt").write_text("requests\n")
    with pytest.raises(PackagingError, match="only applies to Python runtimes"):
        build_zip(src, runtime="provided.al2023", cache_dir=tmp_path / "c")
