# syntax=docker/dockerfile:1
# The sagemaker-guardrails operator image: the operator and its locked dependencies, nothing else
# (no emulator, no test tools, no pip in the runtime).
#
# Two stages on the same pinned base: `build` installs the hash-pinned requirements of
# requirements/operator.lock (`make lock`) with --require-hashes --no-deps, so that every build
# of one commit gets the same files, then the operator's own wheel, checks that the dependencies
# are complete (pip check) and precompiles the bytecode; `runtime` copies only that virtualenv.
# The runtime runs as a fixed non-root UID (10001, the chart's runAsUser) and writes nothing
# outside /tmp, so it works with readOnlyRootFilesystem. Pin the base by digest in release builds
# (--build-arg PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:...). `make image` builds this
# file with docker, or without a Docker engine with buildah (docs/image.md).
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# The build toolchain (pip, setuptools, wheel) gets a virtualenv of its own, from its lock.
COPY requirements/ requirements/
RUN python -m venv /opt/build \
 && /opt/build/bin/pip install --require-hashes --no-deps -r requirements/build.lock
# The runtime virtualenv has no pip: the toolchain's pip installs into it (--python). The
# dependencies are compiled here, so that a change of the operator's code rebuilds only the layer
# below.
RUN python -m venv --without-pip /opt/venv \
 && /opt/build/bin/pip --python /opt/venv/bin/python install --no-compile --require-hashes --no-deps \
      -r requirements/operator.lock \
 && /opt/venv/bin/python -m compileall -q -j 0 /opt/venv
COPY pyproject.toml README.md ./
COPY operator/ operator/
RUN /opt/build/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /tmp/wheels . \
 && /opt/build/bin/pip --python /opt/venv/bin/python install --no-compile --no-deps /tmp/wheels/*.whl \
 && /opt/build/bin/pip --python /opt/venv/bin/python check \
 && /opt/venv/bin/python -m compileall -q -j 0 \
      "$(/opt/venv/bin/python -c 'import os, sagemaker_guardrails; print(os.path.dirname(sagemaker_guardrails.__file__))')"

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
# 8080: /healthz (liveness) and /readyz (readiness); 9090: Prometheus metrics (/metrics).
EXPOSE 8080 9090
ENTRYPOINT ["sagemaker-guardrails"]
CMD ["run", "--all-namespaces", "--standalone"]
