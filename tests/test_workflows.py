"""The GitHub workflows: what a broken or unsafe change to them must not get past.

zizmor (in `make lint`) audits their security; these tests pin down the delivery rules of the
VA standard: AWS and Pulumi Cloud by OIDC only (no stored secret), every action by commit SHA,
prod behind its environment, and the policy pack on every preview and update.

Each rule is a checker over a workflows directory that lists what breaks it; every checker is
run on the real workflows (nothing) and on a copy broken the way the rule forbids (something).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from org.access import READ, publish_subject, team_grants

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
AUTH_ACTION = "pulumi/auth-actions@"
AWS_CREDENTIALS = "aws-actions/configure-aws-credentials@"
RUNS_PULUMI = re.compile(r"(^|[\s;&|(])pulumi\s")
TEAM_TOKEN = "urn:pulumi:token-type:access_token:team"
ORG_TOKEN = "urn:pulumi:token-type:access_token:organization"
# The repository org/ grants tokens to (its stack config), and what it grants each subject.
REPO = yaml.safe_load((ROOT / "org" / "Pulumi.org.yaml").read_text())["config"][
    "va-org:githubRepository"
]
GRANTS = {g.subject: g for g in team_grants(REPO)}


def load(name: str, workflows: Path = WORKFLOWS) -> dict[str, Any]:
    return yaml.safe_load((workflows / name).read_text())


def load_all(workflows: Path) -> dict[str, dict[str, Any]]:
    return {p.name: yaml.safe_load(p.read_text()) for p in sorted(workflows.glob("*.yml"))}


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for job in workflow["jobs"].values() for s in job.get("steps", [])]


def jobs(workflows: Path) -> list[tuple[str, dict[str, Any]]]:
    """Every job as ``("<file>:<job>", job)``."""
    return [
        (f"{name}:{job_name}", job)
        for name, workflow in load_all(workflows).items()
        for job_name, job in workflow["jobs"].items()
    ]


def broken_copy(tmp_path: Path, name: str, old: str, new: str) -> Path:
    """The workflows copied to ``tmp_path``, with ``old`` replaced by ``new`` in ``name``."""
    copy = tmp_path / "workflows"
    shutil.copytree(WORKFLOWS, copy)
    text = (copy / name).read_text()
    assert old in text, f"{old!r} not in {name}: the breakage no longer applies"
    (copy / name).write_text(text.replace(old, new))
    return copy


def step_text(name: str, uses: str) -> str:
    """The text of the first step of ``name`` that uses ``uses`` (to cut or move it)."""
    match = re.search(
        rf"      - uses: {re.escape(uses)}.*?(?=\n      - |\n\n|\Z)",
        (WORKFLOWS / name).read_text(),
        re.S,
    )
    assert match, f"no step using {uses} in {name}"
    return match.group(0) + "\n"


def runs_pulumi(step: dict[str, Any]) -> bool:
    uses = step.get("uses", "")
    return (uses.startswith("pulumi/actions@") and "command" in step.get("with", {})) or bool(
        RUNS_PULUMI.search(step.get("run", ""))
    )


# --- the checkers ---------------------------------------------------------------------------


def unpinned_actions(workflows: Path) -> list[str]:
    """``uses:`` lines not pinned by full commit SHA with the release in a comment."""
    problems = []
    for path in sorted(workflows.glob("*.yml")):
        for line in path.read_text().splitlines():
            if not re.match(r"\s*-? *uses:", line):
                continue
            ref, _, comment = line.split("uses:", 1)[1].partition("#")
            if not PINNED.match(ref.strip()) or not re.match(r"\s*v\d+\.\d+\.\d+", comment):
                problems.append(f"{path.name}: {line.strip()}")
    return problems


def stored_secrets(workflows: Path) -> list[str]:
    """Reads of a stored secret (``secrets.<NAME>``); only GitHub's own job token is allowed."""
    return [
        f"{path.name}: {m.group(0)}"
        for path in sorted(workflows.glob("*.yml"))
        for m in re.finditer(r"secrets\s*\.\s*(\w+)|secrets\s*\[[^\]]*\]", path.read_text())
        if m.group(1) != "GITHUB_TOKEN"
    ]


def pulumi_without_oidc_token(workflows: Path) -> list[str]:
    """Jobs that run pulumi without first exchanging GitHub's id-token for a Pulumi token."""
    problems = []
    for where, job in jobs(workflows):
        exchanged = False
        for step in job.get("steps", []):
            if step.get("uses", "").startswith(AUTH_ACTION):
                exchanged = True
            elif runs_pulumi(step) and not exchanged:
                problems.append(f"{where}: {step.get('name') or step.get('uses')}")
    return problems


def id_token_not_where_used(workflows: Path) -> list[str]:
    """``id-token: write`` on a job that exchanges no id-token, or missing on one that does."""
    problems = []
    for where, job in jobs(workflows):
        granted = (job.get("permissions") or {}).get("id-token") == "write"
        exchanges = any(
            s.get("uses", "").startswith((AUTH_ACTION, AWS_CREDENTIALS))
            for s in job.get("steps", [])
        )
        if granted != exchanges:
            problems.append(f"{where}: id-token {'granted, unused' if granted else 'missing'}")
    return problems


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    return on if isinstance(on, dict) else {name: None for name in [on] if isinstance(on, str)}


def subject(workflow: dict[str, Any], job: dict[str, Any]) -> str:
    """The ``sub`` claim GitHub puts in this job's id-token (default claims)."""
    if "environment" in job:
        env = job["environment"]
        return f"repo:{REPO}:environment:{env['name'] if isinstance(env, dict) else env}"
    on = triggers(workflow)
    if "pull_request" in on or "pull_request_target" in on:
        return f"repo:{REPO}:pull_request"
    branches = (on.get("push") or {}).get("branches", [])
    tags = (on.get("push") or {}).get("tags", [])
    return (
        f"repo:{REPO}:ref:refs/heads/{branches[0]}"
        if branches
        else f"repo:{REPO}:ref:refs/tags/{tags[0]}"
    )


def token_requests(workflows: Path) -> list[tuple[str, str, dict[str, Any]]]:
    """Every Pulumi token exchange as ``(where, the job's subject, the action's inputs)``."""
    return [
        (f"{name}:{job_name}", subject(workflow, job), step.get("with", {}))
        for name, workflow in load_all(workflows).items()
        for job_name, job in workflow["jobs"].items()
        for step in job.get("steps", [])
        if step.get("uses", "").startswith(AUTH_ACTION)
    ]


def tokens_not_granted(workflows: Path) -> list[str]:
    """Exchanges org/ would refuse: a team token other than the one granted to the job's
    subject, or an organization token outside the publishing environment."""
    problems = []
    for where, sub, inputs in token_requests(workflows):
        kind = inputs.get("requested-token-type")
        if kind == TEAM_TOKEN and sub in GRANTS:
            if inputs.get("scope") != f"team:{GRANTS[sub].team}":
                problems.append(f"{where}: {inputs.get('scope')} for {sub}")
        elif not (kind == ORG_TOKEN and sub == publish_subject(REPO)):
            problems.append(f"{where}: {kind} for {sub}")
    return problems


def update_tokens_on_pull_requests(workflows: Path) -> list[str]:
    """Pull-request jobs asking for anything but a team token whose team may only read."""
    problems = []
    for where, sub, inputs in token_requests(workflows):
        if not sub.endswith(":pull_request"):
            continue
        team = inputs.get("scope", "").removeprefix("team:")
        levels = {
            level for g in GRANTS.values() if g.team == team for level in g.permissions.values()
        }
        if inputs.get("requested-token-type") != TEAM_TOKEN or levels != {READ}:
            problems.append(f"{where}: {inputs.get('requested-token-type')} {inputs.get('scope')}")
    return problems


def publish_tag_refused(workflows: Path, tag: str) -> bool:
    """Run policy-publish's steps that read the tag, before publishing, as GitHub would for
    ``tag``: True when one of them stops the job."""
    job = load("policy-publish.yml", workflows)["jobs"]["publish"]
    for step in job["steps"]:
        if runs_pulumi(step):
            return False
        if step.get("env", {}).get("TAG") == "${{ github.ref_name }}":
            env = {**os.environ, "TAG": tag}
            done = subprocess.run(
                ["bash", "-e", "-c", step["run"]], cwd=ROOT, env=env, capture_output=True
            )
            if done.returncode != 0:
                return True
    return False


def unpinned_installs(workflows: Path) -> list[str]:
    """``pip install`` of a tool without an exact version (``-r`` files pin their own)."""
    problems = []
    for name, workflow in load_all(workflows).items():
        for step in steps(workflow):
            for line in step.get("run", "").splitlines():
                if "pip install" not in line:
                    continue
                args = line.split("pip install", 1)[1].split()
                packages = [
                    a for i, a in enumerate(args) if not a.startswith("-") and args[i - 1] != "-r"
                ]
                problems += [f"{name}: {a}" for a in packages if "==" not in a]
    return problems


def commands(script: str) -> list[str]:
    """The commands of a ``run:`` script or recipe: continuations joined, split on ``;``,
    ``&&`` and ``||``."""
    joined = re.sub(r"\\\n\s*", " ", script)
    return [
        c.strip()
        for line in joined.splitlines()
        for c in re.split(r";|&&|\|\|", line)
        if c.strip() and not c.strip().startswith("#")
    ]


def make_recipes(command: str) -> list[str]:
    """What ``make <targets>`` runs here: its recipes, dry-run (``-n``) with every
    prerequisite out of date (``-B``), so nothing is installed to find out."""
    words = shlex.split(command)
    done = subprocess.run(
        ["make", "-n", "-B", *words[1:]], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return commands(done.stdout)


VALUE_OPTIONS = ("-r", "--requirement", "-e", "--editable", "-c", "--constraint", "-i",
                 "--index-url", "--extra-index-url", "-f", "--find-links")  # fmt: skip


def unlocked_install(command: str) -> bool:
    """A ``pip install`` that is neither hash-locked (``--require-hashes``, only ``-r
    <file>.lock``) nor the library itself without its dependencies or a build environment
    (``--no-deps --no-build-isolation -e .``)."""
    if "pip install" not in command:
        return False
    args = shlex.split(command.split("pip install", 1)[1])
    flags, pairs, packages = set(), [], []
    words = iter(args)
    for word in words:
        if word in VALUE_OPTIONS:
            short = {"--requirement": "-r", "--editable": "-e"}.get(word, word)
            pairs.append((short.lstrip("-"), next(words, "")))
        elif word.startswith("-"):
            flags.add(word)
        else:
            packages.append(word)
    locked = (
        "--require-hashes" in flags
        and bool(pairs)
        and all(o == "r" and v.endswith(".lock") for o, v in pairs)
    )
    library = {"--no-deps", "--no-build-isolation"} <= flags and pairs == [("e", ".")]
    return bool(packages) or not (locked or library)


def installs_with_the_token(workflows: Path) -> list[str]:
    """In a job that holds ``id-token: write``, every install (its steps, and the recipes of
    the ``make`` targets they run) must be hash-locked: any code that runs there can ask for
    the job's OIDC token (issue 22, item 7)."""
    problems = []
    for where, job in jobs(workflows):
        if (job.get("permissions") or {}).get("id-token") != "write":
            continue
        for step in job.get("steps", []):
            for command in commands(step.get("run", "")):
                run = make_recipes(command) if re.match(r"make(\s|$)", command) else [command]
                problems += [f"{where}: {c}" for c in run if unlocked_install(c)]
    return problems


# --- the rules on the real workflows, and each one catching its breakage ---------------------


def test_every_action_is_pinned_by_full_commit_sha_with_its_release():
    assert unpinned_actions(WORKFLOWS) == []
    assert any("uses:" in p.read_text() for p in FILES)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2", "@v4 # v4.2.2"),
        (
            "@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2",
            "@11bd71901bbe5b1630ceea73d27597364c9af683",
        ),
    ],
    ids=["tag-instead-of-sha", "no-release-comment"],
)
def test_unpinned_action_is_caught(tmp_path, old, new):
    assert unpinned_actions(broken_copy(tmp_path, "deploy.yml", old, new))


def test_no_workflow_reads_a_stored_secret():
    assert stored_secrets(WORKFLOWS) == []


def test_stored_pulumi_token_is_caught(tmp_path):
    broken = broken_copy(
        tmp_path,
        "deploy.yml",
        "          policyPacks: policies\n",
        "          policyPacks: policies\n"
        "        env:\n          PULUMI_ACCESS_TOKEN: ${{ secrets.PULUMI_ACCESS_TOKEN }}\n",
    )
    assert stored_secrets(broken) == ["deploy.yml: secrets.PULUMI_ACCESS_TOKEN"] * 2


def test_every_job_running_pulumi_first_exchanges_an_oidc_token():
    assert pulumi_without_oidc_token(WORKFLOWS) == []


def test_pulumi_without_oidc_token_is_caught(tmp_path):
    broken = broken_copy(
        tmp_path, "policy-publish.yml", step_text("policy-publish.yml", AUTH_ACTION), ""
    )
    assert pulumi_without_oidc_token(broken) == ["policy-publish.yml:publish: publish"]


def test_id_token_is_granted_exactly_to_the_jobs_that_exchange_it():
    assert id_token_not_where_used(WORKFLOWS) == []


def test_id_token_granted_to_a_job_that_does_not_use_it_is_caught(tmp_path):
    broken = broken_copy(
        tmp_path,
        "pull-request.yml",
        "    permissions:\n      contents: read  # checkout\n",
        "    permissions:\n      contents: read  # checkout\n      id-token: write\n",
    )
    assert id_token_not_where_used(broken) == [
        f"pull-request.yml:{job}: id-token granted, unused"
        for job in ("checks", "plan-diff", "workflows", "audit")
    ]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_workflow_grants_nothing_by_default(path):
    assert yaml.safe_load(path.read_text())["permissions"] == {}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_no_long_lived_aws_keys(path):
    text = path.read_text()
    assert "aws-access-key-id" not in text
    assert "AWS_SECRET_ACCESS_KEY" not in text


def test_aws_credentials_come_from_oidc_role_assumption_only():
    for name in ("pull-request.yml", "deploy.yml"):
        for job_name, job in load(name)["jobs"].items():
            creds = [
                s for s in job.get("steps", []) if "configure-aws-credentials" in s.get("uses", "")
            ]
            if creds:
                assert job["permissions"]["id-token"] == "write", job_name
                assert set(creds[0]["with"]) >= {"role-to-assume", "aws-region"}
                assert creds[0]["with"]["aws-region"] == "eu-central-1"


def test_each_environment_is_reached_with_a_role_of_its_own():
    """One account per environment: dev and prod are never previewed or deployed with one
    role (issue 22); the deploy jobs name their environment's role, the preview job picks it
    by the matrix stack."""
    deploy = load("deploy.yml")["jobs"]
    preview = load("pull-request.yml")["jobs"]["preview"]

    def role(job: dict) -> str:
        step = next(s for s in job["steps"] if "configure-aws-credentials" in s.get("uses", ""))
        return str(step["with"]["role-to-assume"])

    assert role(deploy["dev"]) == "${{ vars.AWS_DEPLOY_ROLE_ARN_DEV }}"
    assert role(deploy["prod"]) == "${{ vars.AWS_DEPLOY_ROLE_ARN_PROD }}"
    assert role(preview) == (
        "${{ matrix.stack == 'prod' && vars.AWS_PREVIEW_ROLE_ARN_PROD "
        "|| vars.AWS_PREVIEW_ROLE_ARN_DEV }}"
    )


def test_pull_request_previews_both_stacks_with_the_pack_on_the_pr():
    job = load("pull-request.yml")["jobs"]["preview"]
    pulumi = next(s for s in job["steps"] if "pulumi/actions" in s.get("uses", ""))

    assert job["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["policyPacks"] == "policies"
    assert pulumi["with"]["comment-on-pr"] is True


def test_pull_request_runs_the_ci_script_and_audits_every_requirements_file():
    workflow = load("pull-request.yml")
    audit = " ".join(s.get("run", "") for s in workflow["jobs"]["audit"]["steps"])

    assert any(s.get("run") == "bash .ci/run" for s in workflow["jobs"]["checks"]["steps"])
    for req in ("requirements.txt", "policies/requirements.txt", "agent_image/requirements.txt"):
        assert f"-r {req}" in audit
    assert "--strict" in audit


def test_main_deploys_dev_then_prod_behind_the_prod_environment():
    jobs = load("deploy.yml")["jobs"]

    assert jobs["dev"]["needs"] == "checks"
    assert jobs["prod"]["needs"] == "dev"
    assert jobs["prod"]["environment"] == "prod"
    assert "environment" not in jobs["dev"]
    for job in (jobs["dev"], jobs["prod"]):
        pulumi = next(s for s in job["steps"] if "pulumi/actions" in s.get("uses", ""))
        assert (pulumi["with"]["command"], pulumi["with"]["policyPacks"]) == ("up", "policies")


def pack_version() -> str:
    return str(yaml.safe_load((ROOT / "policies" / "PulumiPolicy.yaml").read_text())["version"])


def test_policy_publish_runs_on_policy_tags_only():
    assert triggers(load("policy-publish.yml")) == {"push": {"tags": ["policy-v*"]}}


def test_policy_tag_naming_the_packs_version_is_published():
    assert not publish_tag_refused(WORKFLOWS, f"policy-v{pack_version()}")


@pytest.mark.parametrize(
    "tag",
    [lambda v: f"policy-v{v}.1", lambda v: f"policy-v{v}-rc", lambda v: "policy-v"],
    ids=["other-version", "suffix", "no-version"],
)
def test_policy_tag_not_naming_the_packs_version_is_refused(tag):
    assert publish_tag_refused(WORKFLOWS, tag(pack_version()))


def test_publish_without_the_tag_check_is_caught(tmp_path):
    broken = broken_copy(tmp_path, "policy-publish.yml", "            exit 1\n", "")
    assert not publish_tag_refused(broken, f"policy-v{pack_version()}.1")


def test_every_pulumi_token_a_job_requests_is_the_one_org_grants_its_subject():
    assert token_requests(WORKFLOWS)
    assert tokens_not_granted(WORKFLOWS) == []


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        ("deploy.yml", "scope: team:va-ci-prod", "scope: team:va-ci-dev"),
        ("policy-publish.yml", "    environment: policy-publish\n", ""),
        ("deploy.yml", f"{TEAM_TOKEN}\n          scope: team:va-ci-dev", ORG_TOKEN),
    ],
    ids=["prod-job-asks-for-dev-team", "publish-outside-its-environment", "org-token-on-main"],
)
def test_token_org_does_not_grant_is_caught(tmp_path, name, old, new):
    assert tokens_not_granted(broken_copy(tmp_path, name, old, new))


def test_pull_requests_never_ask_for_a_token_that_can_update():
    assert any(sub.endswith(":pull_request") for _, sub, _ in token_requests(WORKFLOWS))
    assert update_tokens_on_pull_requests(WORKFLOWS) == []


@pytest.mark.parametrize(
    ("old", "new"),
    [("scope: team:va-ci-preview", "scope: team:va-ci-dev"), (TEAM_TOKEN, ORG_TOKEN)],
    ids=["deploy-team", "organization-token"],
)
def test_update_token_on_a_pull_request_is_caught(tmp_path, old, new):
    broken = broken_copy(tmp_path, "pull-request.yml", old, new)
    problems = update_tokens_on_pull_requests(broken)
    assert [p.split(": ")[0] for p in problems] == ["pull-request.yml:preview"]


def test_pull_requests_run_actionlint_on_the_workflows():
    job = load("pull-request.yml")["jobs"]["workflows"]
    assert any(re.search(r"^actionlint\b", s.get("run", ""), re.M) for s in job["steps"])


def test_every_tool_a_workflow_installs_is_pinned():
    assert unpinned_installs(WORKFLOWS) == []


def test_unpinned_tool_install_is_caught(tmp_path):
    broken = broken_copy(tmp_path, "pull-request.yml", "pip-audit==2.10.1", "pip-audit")
    assert unpinned_installs(broken) == ["pull-request.yml: pip-audit"]


def test_pull_requests_get_the_plan_diff_against_their_base_without_credentials():
    job = yaml.safe_load((WORKFLOWS / "pull-request.yml").read_text())["jobs"]["plan-diff"]
    script = "\n".join(step.get("run", "") for step in job["steps"])

    assert 'DIFF="${BASE_SHA}"' in script
    assert job["permissions"] == {"contents": "read"}


def test_jobs_holding_the_id_token_install_only_hash_locked_requirements():
    """Issue 22, item 7: what runs with the token is what was reviewed."""
    assert any(
        (job.get("permissions") or {}).get("id-token") == "write" for _, job in jobs(WORKFLOWS)
    )
    assert installs_with_the_token(WORKFLOWS) == []


@pytest.mark.parametrize(
    ("name", "old", "new", "where"),
    [
        ("deploy.yml", "make venv-deploy", "make venv", {"deploy.yml:dev", "deploy.yml:prod"}),
        (
            "policy-publish.yml",
            "run: make venv-pack",
            "run: |\n          python -m venv policies/venv\n"
            "          policies/venv/bin/pip install -r policies/requirements.txt",
            {"policy-publish.yml:publish"},
        ),
        (
            "pull-request.yml",
            "run: make venv-deploy",
            "run: |\n          make venv-deploy\n"
            "          .venv/bin/pip install --require-hashes -r requirements.lock debugpy",
            {"pull-request.yml:preview"},
        ),
    ],
    ids=["make-venv-with-dev-tools", "unlocked-pack-venv", "package-beside-the-lock"],
)
def test_an_unlocked_install_in_a_job_holding_the_token_is_caught(tmp_path, name, old, new, where):
    broken = broken_copy(tmp_path, name, old, new)
    assert {p.split(": ")[0] for p in installs_with_the_token(broken)} == where


@pytest.mark.parametrize(
    ("command", "unlocked"),
    [
        ("pip install --require-hashes -r requirements.lock", False),
        ("python -m pip install --quiet --require-hashes -r a.lock -r b.lock", False),
        ("pip install --no-deps --no-build-isolation -e .", False),
        ("pip install -r requirements.lock", True),
        ("pip install --require-hashes -r requirements.txt", True),
        ("pip install --no-deps -e .", True),
        ("pip install --require-hashes -r a.lock pulumi==3.272.0", True),
        ("pip install --require-hashes --extra-index-url https://x -r a.lock", True),
        ("uv pip install -r requirements.txt", True),
        ("python -m venv .venv", False),
    ],
)
def test_what_counts_as_a_locked_install(command, unlocked):
    assert unlocked_install(command) is unlocked
