"""FAALF: Claude Code as a Lambda function. The handler lives in ``lambda_function``."""
