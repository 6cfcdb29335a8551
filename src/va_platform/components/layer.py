"""VaLayer: dependencies shared by several functions, as one reproducible layer version.

A layer is rebuilt and republished only when its requirements (or files) change, thanks to the
same content-addressed packaging as function zips; each function then references its ARN.
"""

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import pulumi
import pulumi_aws as aws
from pydantic import AfterValidator, Field

from va_platform import standard
from va_platform.components.artifacts import ArtifactStore, ZipArtifact, stage
from va_platform.components.base import VaComponent
from va_platform.components.context import VaContext
from va_platform.components.lambda_function.spec import VaModel


class LayerSpec(VaModel):
    """Dependencies shared by several functions: ``requirements.txt`` installed under python/."""

    purpose: Annotated[str, AfterValidator(standard.validate_purpose)] = Field(
        description="Names the layer va-<env>-<purpose>-layer; functions list it in `layers`."
    )
    path: str = Field(description="Directory with requirements.txt and/or files for the layer.")
    runtimes: tuple[str, ...] = Field(
        default=(standard.DEFAULT_RUNTIME,),
        description="Compatible runtimes; the first decides which Python the wheels are for.",
    )
    architectures: tuple[Literal["x86_64", "arm64"], ...] = Field(
        default=("x86_64",),
        description="Compatible architectures; the first decides the wheels' platform.",
    )


@dataclass(frozen=True)
class VaLayerArgs:
    """A layer's spec and its built zip."""

    # Environment and owner (names and tags).
    context: VaContext
    # Its purpose, directory, runtimes and architectures.
    spec: LayerSpec
    # The zip, its requirements under python/: va_platform.packaging.build_zip(spec.path,
    # runtime=spec.runtimes[0], prefix="python").
    package: ZipArtifact
    # Staged in S3 like function packages. Give it a revision of its content,
    # not the commit: a layer is republished only when its content changes.
    artifacts: ArtifactStore | None = None


class VaLayer(VaComponent):
    """Layer version ``va-<env>-<purpose>-layer``, republished only when its zip changes;
    ``arn`` is what VaLambdaArgs.layer_arns takes."""

    MODULE = "layer"

    def __init__(
        self, name: str, args: VaLayerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args.context, opts=opts)
        spec = args.spec
        self.layer_name = args.context.name(spec.purpose, "layer")
        code: dict[str, Any] = {"code": pulumi.FileArchive(str(args.package.path))}
        if args.artifacts is not None:
            key = standard.artifact_key(self.layer_name, args.artifacts.revision)
            self.artifact, code = stage(
                f"{name}-artifact", self.layer_name, args.package, args.artifacts,
                args.context.tags(spec.purpose, key), self.child_opts(),
            )  # fmt: skip
        self.layer = aws.lambda_.LayerVersion(
            f"{name}-layer",
            layer_name=self.layer_name,
            description=f"VA {args.context.environment} shared dependencies: {spec.purpose}",
            source_code_hash=args.package.sha256_b64,
            compatible_runtimes=list(spec.runtimes),
            compatible_architectures=list(spec.architectures),
            opts=self.child_opts(),
            **code,
        )
        self.arn: pulumi.Output[str] = self.layer.arn
        self.register_outputs({"arn": self.arn})
