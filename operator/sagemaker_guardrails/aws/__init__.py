"""The AWS boundary: the only package that imports boto3/botocore.

``ports`` declares the calls in the operator's own types, ``sagemaker``/``cloudwatch`` implement
them with boto3, ``translate`` turns botocore exceptions into :mod:`sagemaker_guardrails.errors`,
``ratelimit`` is the shared per-region token bucket and ``clients`` builds it all per region.
"""
