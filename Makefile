# Everything a fresh machine needs: `make demo` and `make test` create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LINT_VENV  := .venv-lint
LINT_STAMP := $(LINT_VENV)/.installed
CLI    := $(BIN)/dativo-infra

.PHONY: install demo test unit lint schema golden bench clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

$(LINT_STAMP): requirements-lint.txt
	$(PYTHON) -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-lint.txt
	touch $(LINT_STAMP)

demo: install
	@echo "== validate every example job"
	$(CLI) validate jobs
	@echo
	@echo "== tags of one example per cloud (with provenance)"
	$(CLI) tags jobs/acme/stripe_customers_aws.yaml --explain
	$(CLI) tags jobs/acme/stripe_customers_gcp.yaml
	$(CLI) tags jobs/globex/salesforce_accounts_azure.yaml
	$(CLI) tags jobs/acme/hubspot_contacts_kubernetes.yaml --provider kubernetes
	@echo
	@echo "== Terraform variables of every example (build/tfvars)"
	$(CLI) terraform export --all jobs --output-dir build/tfvars

unit: install
	$(BIN)/python -m pytest -q

test: unit

schema: install
	$(BIN)/python -m dativo_infra.schema > schemas/job-config.schema.json

golden: install
	$(BIN)/python -m tests.golden

clean:
	rm -rf $(VENV) $(LINT_VENV) build .pytest_cache .hypothesis

bench: install
	$(BIN)/python -m benchmarks.run
