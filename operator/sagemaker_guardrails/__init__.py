"""sagemaker-guardrails: SageMaker deployment guardrails for Kubernetes, the GitOps way."""

__version__ = "0.1.0"
