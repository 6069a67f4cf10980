"""FlowyML on AWS SageMaker: orchestrator, model registry and endpoint deployer (plain boto3)."""

__version__ = "0.1.0"
#: The flowyml plugin API this package is written for (checked when a stack loads it).
FLOWYML_PLUGIN_API = "0.1"
