"""VaAgentImage: the FAALF image's ECR repository and the image, built and pushed by Pulumi.

The functions run the image by digest (``repo_digest``), so a new build always reaches them and
an old one can never be swapped in under the same tag; tags are immutable too, so the tag (the
git commit) always names what was built from that commit.
"""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws

from va_platform import extras
from va_platform.components.agent.profile import AgentImageSettings
from va_platform.components.base import VaComponent
from va_platform.components.context import VaContext

PURPOSE = "agent"
# What the agent image's Dockerfile copies (globs under the context): context_hash reads them.
IMAGE_FILES = ("Dockerfile", "lambda_function.py", "requirements*.txt", "faalf/*.py", "bin/*")


def lifecycle_policy(keep: int) -> str:
    """ECR expires all but the newest ``keep`` images (rollback needs a few of them)."""
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"Keep the newest {keep} images",
                    "selection": {
                        "tagStatus": "any",
                        "countType": "imageCountMoreThan",
                        "countNumber": keep,
                    },
                    "action": {"type": "expire"},
                }
            ]
        }
    )


def context_hash(directory: Path) -> str:
    """A digest of what the Dockerfile copies: a change to any of it is a new image."""
    digest = hashlib.sha256()
    for pattern in IMAGE_FILES:
        for path in sorted(directory.glob(pattern)):
            if path.is_file():
                digest.update(path.relative_to(directory).as_posix().encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@dataclass(frozen=True)
class VaAgentImageArgs:
    """Where the agent image is built from, and its tag."""

    # Environment and owner (names and tags).
    context: VaContext
    # The build context: a Dockerfile and what it copies (IMAGE_FILES).
    directory: Path
    # The image tag (immutable): e.g. va_platform.packaging.revision() of the last commit that
    # changed the context, with context_hash(directory).
    tag: str
    # Platform, extra requirements, how many images ECR keeps.
    settings: AgentImageSettings = field(default_factory=AgentImageSettings)

    def __post_init__(self) -> None:
        if not (self.directory / "Dockerfile").is_file():
            raise ValueError(f"{self.directory}: no Dockerfile (the agent image context)")
        extra = self.settings.extra_requirements
        if extra and not (self.directory / extra).is_file():
            raise ValueError(f"agentImage.extraRequirements: {extra} not in {self.directory}")


class VaAgentImage(VaComponent):
    """ECR repository ``va-<env>-agent-ecr`` and the FAALF image pushed to it."""

    MODULE = "agent"

    def __init__(
        self, name: str, args: VaAgentImageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        docker = extras.require("pulumi_docker", "VaAgentImage (builds and pushes the image)")
        super().__init__(name, args.context, opts=opts)
        ctx, settings = args.context, args.settings
        repo_name = ctx.name(PURPOSE, "ecr")
        self.repository = aws.ecr.Repository(
            f"{name}-repo",
            name=repo_name,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configurations=[{"encryption_type": "KMS"}],
            tags=ctx.tags(PURPOSE, repo_name),
            opts=self.child_opts(),
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=self.repository.name,
            policy=lifecycle_policy(settings.keep_images),
            opts=self.child_opts(),
        )
        token = aws.ecr.get_authorization_token_output(registry_id=self.repository.registry_id)
        build_args = {"EXTRA_REQUIREMENTS": settings.extra_requirements or ""}
        self.image = docker.Image(
            f"{name}-image",
            image_name=pulumi.Output.concat(self.repository.repository_url, ":", args.tag),
            build=docker.DockerBuildArgs(
                context=str(args.directory),
                dockerfile=str(args.directory / "Dockerfile"),
                platform=settings.platform,
                args=build_args,
            ),
            registry=docker.RegistryArgs(
                server=self.repository.repository_url,
                username=token.user_name,
                password=pulumi.Output.secret(token.password),
            ),
            opts=self.child_opts(),
        )
        self.image_uri: pulumi.Output[str] = self.image.repo_digest
        self.repository_url: pulumi.Output[str] = self.repository.repository_url
        self.register_outputs(
            {"repositoryUrl": self.repository_url, "imageUri": self.image_uri, "tag": args.tag}
        )
