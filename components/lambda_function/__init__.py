"""The VaLambda component and the pieces it is made of."""

from components.artifacts import ArtifactStore
from components.lambda_function.component import (
    LambdaNetworking,
    VaLambda,
    VaLambdaArgs,
)
from components.lambda_function.iam import IamStatement
from components.lambda_function.spec import FunctionSpec, ImageCode, SecretRef, ZipCode

__all__ = [
    "ArtifactStore",
    "FunctionSpec",
    "IamStatement",
    "ImageCode",
    "LambdaNetworking",
    "SecretRef",
    "VaLambda",
    "VaLambdaArgs",
    "ZipCode",
]
