"""FlowyML on AWS SageMaker: orchestrator, model registry and endpoint deployer (plain boto3)."""

__version__ = "0.1.0"
