"""The provider's inputs turned into the real args in this process, as Construct does it before
calling a component (the SDK's mapping of the schema's names, then inputs.py), under
pulumi.runtime.set_mocks: the same children as the Python API, and the refusals as one line."""

from typing import Any

import pulumi
import pytest

from tests.provider.test_construct import AGENT_INPUTS, CASES, PROFILE, SPEC, _lambda_inputs, _tree
from va_platform.preflight.runner import run_under_mocks
from va_platform.provider import components, inputs
from va_platform.provider.derive import to_model_input
from va_platform.provider.host import VaComponentProvider
from va_platform.provider.inputs import InputsRefusedError


@pytest.fixture(scope="module")
def host() -> VaComponentProvider:
    return VaComponentProvider()


def _as_deserialized(value: Any) -> Any:
    """What the SDK hands a provider for an engine value: an archive as a FileArchive."""
    if isinstance(value, dict) and "path" in value and len(value) == 2:
        return pulumi.FileArchive(value["path"])
    if isinstance(value, dict):
        return {k: _as_deserialized(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_deserialized(v) for v in value]
    return value


def _mapped(host: VaComponentProvider, name: str, raw: dict[str, Any]) -> Any:
    return host.map_inputs(_as_deserialized(raw), host._component_defs[name])


@pytest.mark.parametrize("case", list(CASES))
def test_mapped_inputs_make_the_children_the_python_api_makes(host, tmp_path, case):
    zip_path = str(tmp_path / "reports.zip")
    _write_zip(zip_path)
    token, raw, python = CASES[case]
    raw = raw(zip_path) if callable(raw) else raw
    name = token.rsplit(":", 1)[-1]
    cls = getattr(components, name)
    made = run_under_mocks(lambda: cls("it", _mapped(host, name, raw)))
    py_cls, args = python(zip_path)
    expected = run_under_mocks(lambda: py_cls("it", args))
    assert made.error is None
    assert _tree(made.resources) == _tree(expected.resources)


def _write_zip(path: str) -> None:
    import zipfile

    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("handler.py", "def handler(event, context):\n    return {'ok': True}\n")


def _refusal(make) -> InputsRefusedError:
    with pytest.raises(InputsRefusedError) as caught:
        make()
    assert "\n" not in str(caught.value)
    return caught.value


def test_spec_problem_is_refused_with_its_path(host, tmp_path):
    zip_path = str(tmp_path / "r.zip")
    _write_zip(zip_path)
    raw = {**_lambda_inputs(zip_path), "spec": {**SPEC, "timeout": 900}}
    refused = _refusal(lambda: inputs.lambda_args(_mapped(host, "VaLambda", raw)))
    assert refused.path == "spec.timeout"


def test_several_spec_problems_are_one_line_each_named(host, tmp_path):
    zip_path = str(tmp_path / "r.zip")
    _write_zip(zip_path)
    raw = {**_lambda_inputs(zip_path), "spec": {**SPEC, "timeout": 900, "memory": 64}}
    refused = _refusal(lambda: inputs.lambda_args(_mapped(host, "VaLambda", raw)))
    assert refused.path == "spec.memory"
    assert "; spec.timeout: " in refused.reason


def test_directory_archive_is_zipped_as_build_zip_does(tmp_path):
    (tmp_path / "handler.py").write_text("def handler(event, context):\n    return 1\n")
    spec = inputs.va.FunctionSpec.model_validate({"purpose": "dirzip", "code": {"path": "x"}})
    made = inputs.package_of(pulumi.FileArchive(str(tmp_path)), spec)
    assert made.path.suffix == ".zip"


def test_in_memory_archive_is_refused_in_one_line():
    spec = inputs.va.FunctionSpec.model_validate({"purpose": "memzip", "code": {"path": "x"}})
    archive = pulumi.AssetArchive({"handler.py": pulumi.StringAsset("x = 1")})
    refused = _refusal(lambda: inputs.package_of(archive, spec))
    assert refused.path == "package"


def test_artifacts_revision_off_the_standard_is_refused(host, tmp_path):
    zip_path = str(tmp_path / "r.zip")
    _write_zip(zip_path)
    raw = {**_lambda_inputs(zip_path), "artifacts": {"bucket": "va-dev-artifacts-bucket",
                                                      "revision": "not a revision!"}}  # fmt: skip
    refused = _refusal(lambda: inputs.lambda_args(_mapped(host, "VaLambda", raw)))
    assert refused.path == "artifacts"


def test_staged_zip_goes_to_the_artifacts_bucket_as_the_python_api_stages_it(host, tmp_path):
    zip_path = str(tmp_path / "r.zip")
    _write_zip(zip_path)
    raw = {**_lambda_inputs(zip_path), "artifacts": {"bucket": "va-dev-artifacts-bucket",
                                                      "revision": "0123456789ab"}}  # fmt: skip
    made = run_under_mocks(lambda: components.VaLambda("it", _mapped(host, "VaLambda", raw)))
    staged = made.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
    assert [s.inputs["key"] for s in staged] == ["va-dev-reports-lambda-0123456789ab.zip"]


def test_agent_profile_enums_reach_the_model_as_values(host):
    mapped = _mapped(host, "VaAgent", AGENT_INPUTS)
    profile = to_model_input(mapped["profile"], inputs.AgentProfile)
    assert profile["authMode"] == PROFILE["authMode"]
