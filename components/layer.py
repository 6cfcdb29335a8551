"""VaLayer: dependencies shared by several functions, as one reproducible layer version.

A layer is rebuilt and republished only when its requirements (or files) change, thanks to the
same content-addressed packaging as function zips; each function then references its ARN.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.base import VaComponent
from components.context import VaContext
from components.packaging import ZipArtifact
from components.stack_config import LayerSpec


@dataclass(frozen=True)
class VaLayerArgs:
    context: VaContext
    spec: LayerSpec
    package: ZipArtifact


class VaLayer(VaComponent):
    MODULE = "layer"

    def __init__(
        self, name: str, args: VaLayerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args.context, opts=opts)
        spec = args.spec
        self.layer_name = args.context.name(spec.purpose, "layer")
        self.layer = aws.lambda_.LayerVersion(
            f"{name}-layer",
            layer_name=self.layer_name,
            description=f"VA {args.context.environment} shared dependencies: {spec.purpose}",
            code=pulumi.FileArchive(str(args.package.path)),
            source_code_hash=args.package.sha256_b64,
            compatible_runtimes=list(spec.runtimes),
            compatible_architectures=list(spec.architectures),
            opts=self.child_opts(),
        )
        self.arn: pulumi.Output[str] = self.layer.arn
        self.register_outputs({"arn": self.arn})
