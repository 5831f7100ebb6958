# Everything a fresh machine needs: `make demo` and `make test` create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LINT_VENV  := .venv-lint
LINT_STAMP := $(LINT_VENV)/.installed
CLI    := $(BIN)/dativo-infra

.PHONY: install demo test unit lint typecheck schema golden bench clean

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
	@echo "== validate every example job, each in its stack's settings (Pulumi.<tenant>-<environment>.yaml over Pulumi.yaml)"
	$(CLI) validate jobs
	@echo
	@echo "== the same under a tag policy (docs/policy.md): exit 2 naming file, key, rule and level (exit code shown)"
	-$(CLI) validate jobs --policy examples/policies/prod.yaml > /dev/null; echo "exit code $$?"
	@echo
	@echo "== tags of one example per cloud (with provenance)"
	$(CLI) tags jobs/acme/stripe_customers_aws.yaml --explain
	$(CLI) tags jobs/acme/stripe_customers_gcp.yaml
	$(CLI) tags jobs/globex/salesforce_accounts_azure.yaml
	$(CLI) tags jobs/acme/hubspot_contacts_kubernetes.yaml --provider kubernetes
	@echo
	@echo "== Terraform variables of every example (build/tfvars)"
	$(CLI) terraform export --all jobs --output-dir build/tfvars
	@echo
	@echo "== a ready Terraform root configuration per example job (build/roots), modules pinned to the family's version"
	$(CLI) terraform scaffold --all jobs --output-dir build/roots
	@echo
	@echo "== offline plan of every example tenant stack (the Pulumi program under the SDK's mock runtime)"
	$(CLI) plan --all --parallel 2 --output-dir build/plans
	@echo
	@echo "== the plan of one stack, resource by resource"
	$(CLI) plan --tenant globex --environment staging
	@echo
	@echo "== tag coverage of every stack: taggable resources carrying every required tag; untaggable ones and their parent"
	$(CLI) plan --all --parallel 2 --coverage --policy examples/policies/baseline.yaml | grep -v '^  untagged'
	@echo
	@echo "== estimated monthly cost of every job before anything is deployed, rolled up by cost center (docs/cost.md)"
	$(CLI) cost --all --by dativo:cost-center
	@echo
	@echo "== the fleet's AWS tag keys, and the Cost Explorer activation requests"
	$(CLI) tags activation --provider aws | tail -n 8
	@echo
	@echo "== a typo in a tenant is exit 2 with a did-you-mean, never a new stack (exit code shown)"
	-$(CLI) plan --tenant acm --environment prod; echo "exit code $$?"
	@echo
	@echo "== without the Pulumi CLI, deployments say what to install (exit code shown)"
	-$(CLI) up --tenant acme --environment prod; echo "exit code $$?"

unit: install
	$(BIN)/python -m pytest -q

# Static checks of the Terraform modules that run without provider downloads (terraform_compat/README.md).
TERRAFORM ?= terraform
TF_DIR    := terraform_compat
lint: $(LINT_STAMP) install
	@echo "== terraform fmt -check -recursive $(TF_DIR): $$(find $(TF_DIR) -name '*.tf' | wc -l | tr -d ' ') files"
	@$(TERRAFORM) fmt -check -recursive -diff $(TF_DIR) && echo "   all formatted"
	@echo "== checkov --framework terraform over $(TF_DIR)/modules: $$(ls -d $(TF_DIR)/modules/*/ | wc -l | tr -d ' ') modules (skips are inline, with reasons)"
	@$(LINT_VENV)/bin/checkov --directory $(TF_DIR)/modules --framework terraform --compact --quiet --skip-download
	@echo "== checkov over the roots dativo-infra terraform scaffold writes for every example job (local module sources: checkov follows the calls)"
	@rm -rf build/scaffold-lint && $(CLI) terraform scaffold --all jobs --output-dir build/scaffold-lint --module-source-base $(CURDIR)/$(TF_DIR)/modules > /dev/null
	@$(LINT_VENV)/bin/checkov --directory build/scaffold-lint --framework terraform --compact --quiet --skip-download

# ruff and mypy over the Python sources (pyproject.toml: [tool.ruff], [tool.mypy] with its strict modules).
PY_SOURCES := dativo_infra terraform_compat
PY_OTHER   := tests benchmarks examples policy_pack
typecheck: install
	@echo "== ruff check $(PY_SOURCES) $(PY_OTHER)"
	@$(BIN)/ruff check --quiet --output-format concise $(PY_SOURCES) $(PY_OTHER) && echo "   no findings"
	@echo "== mypy $(PY_SOURCES) (strict modules: pyproject.toml [[tool.mypy.overrides]])"
	@$(BIN)/mypy

test: lint unit typecheck  # lint first: it installs checkov, which tests/test_scaffold.py then uses too

schema: install
	$(BIN)/python -m dativo_infra.schema > schemas/job-config.schema.json
	$(BIN)/python -m dativo_infra.policy.schema > schemas/policy.schema.json
	$(BIN)/python -m dativo_infra.cost.schema > schemas/prices.schema.json

golden: install
	$(BIN)/python -m tests.golden

clean:
	rm -rf $(VENV) $(LINT_VENV) build .pytest_cache .hypothesis

bench: install
	$(BIN)/python -m benchmarks.run
