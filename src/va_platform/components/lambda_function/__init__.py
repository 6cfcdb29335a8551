"""The VaLambda component and the pieces it is made of."""

from va_platform.components.artifacts import ArtifactStore
from va_platform.components.lambda_function.component import (
    LambdaNetworking,
    VaLambda,
    VaLambdaArgs,
)
from va_platform.components.lambda_function.iam import IamStatement
from va_platform.components.lambda_function.spec import (
    ExistingSecret,
    FunctionSpec,
    ImageCode,
    SecretRef,
    ZipCode,
)

__all__ = [
    "ArtifactStore",
    "ExistingSecret",
    "FunctionSpec",
    "IamStatement",
    "ImageCode",
    "LambdaNetworking",
    "SecretRef",
    "VaLambda",
    "VaLambdaArgs",
    "ZipCode",
]
