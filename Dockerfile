# syntax=docker/dockerfile:1
# The sagemaker-guardrails operator image.
#
# Two stages on the same pinned base: `build` installs the package and its dependencies into a
# virtualenv and precompiles the bytecode; `runtime` copies only that virtualenv. The runtime runs
# as a fixed non-root UID (10001, the chart's runAsUser) and writes nothing outside /tmp, so it
# works with readOnlyRootFilesystem. Pin the base by digest in release builds
# (--build-arg PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:...).
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:${PATH}
WORKDIR /src
COPY pyproject.toml README.md ./
COPY operator/ operator/
RUN pip install --no-compile . \
 && python -m compileall -q -j 0 /opt/venv

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="sagemaker-guardrails" \
      org.opencontainers.image.description="Kubernetes operator for Amazon SageMaker deployment guardrails" \
      org.opencontainers.image.source="https://github.com/sagemaker-guardrails/sagemaker-guardrails" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 guardrails \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin guardrails
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:${PATH} \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp
USER 10001:10001
# 8080: kopf liveness (/healthz); 9090: Prometheus metrics (/metrics).
EXPOSE 8080 9090
ENTRYPOINT ["sagemaker-guardrails"]
CMD ["run", "--all-namespaces", "--standalone"]
