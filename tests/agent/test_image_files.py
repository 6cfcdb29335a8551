"""What can be checked of the image without a Docker engine (hadolint runs in `make lint`)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

IMAGE = Path(__file__).resolve().parents[2] / "agent_image"
DOCKERFILE = (IMAGE / "Dockerfile").read_text()


def test_final_stage_is_the_lambda_python_311_base_at_a_dated_tag():
    base = re.search(r"^ARG BASE_IMAGE=(\S+)$", DOCKERFILE, re.M)

    assert base is not None
    assert re.fullmatch(r"public\.ecr\.aws/lambda/python:3\.11\.\d{4}\.\d\d\.\d\d\.\d\d", base[1])


def test_no_node_in_the_final_image():
    final_stage = DOCKERFILE.split("FROM ${BASE_IMAGE}", 1)[1]

    assert "npm" not in final_stage.replace("npm registry", "")
    assert "COPY --from=claude --chmod=0755 /build/claude" in final_stage


def test_layers_go_from_binary_to_dependencies_to_code():
    order = [
        DOCKERFILE.index("COPY --from=claude"),
        DOCKERFILE.index("COPY requirements*.txt"),
        DOCKERFILE.index("COPY faalf/"),
    ]

    assert order == sorted(order)


def test_every_handler_module_is_copied_into_the_image():
    copied = {"lambda_function.py", "faalf/", "bin/faalf-invoke", "requirements*.txt"}
    sources = {p.relative_to(IMAGE).as_posix() for p in IMAGE.glob("*.py")} | {"faalf/"}

    assert sources <= copied
    assert all(f"COPY {c}" in DOCKERFILE or f"COPY --chmod=0755 {c}" in DOCKERFILE for c in copied)


def test_compose_runs_like_lambda_read_only_non_root_on_loopback():
    service = yaml.safe_load((IMAGE / "docker-compose.yml").read_text())["services"]["faalf"]

    assert service["read_only"] is True
    assert service["tmpfs"] == ["/tmp:size=2g,exec"]
    assert all(p.startswith("127.0.0.1:") for p in service["ports"])
    assert "USER 65534:65534" in DOCKERFILE
