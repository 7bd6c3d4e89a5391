# The two commands of the README: `make demo` and `make test`. Everything else is a helper.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint tools unit bench peers kube conformance clean

$(BIN)/dubbomesh: pyproject.toml scripts/setup.sh
	@echo "== setup $$(date -u +%T)"
	bash scripts/setup.sh
	@touch $@

setup: $(BIN)/dubbomesh

## First command: a local ZooKeeper with sample providers, and the agent publishing them.
demo: setup
	$(BIN)/dubbomesh demo

## Second command: lint, types, layering, the real peers (built once, cached outside the repo),
## the whole test suite, and the benchmarks in quick (smoke) mode.
test: setup lint tools
	@echo "== pytest $$(date -u +%T)"
	bash scripts/pytest.sh
	@echo "== bench $$(date -u +%T)"
	$(BIN)/python -m bench --quick
	@echo "== done $$(date -u +%T)"

## Real test peers, cached in $${DUBBOMESH_CACHE:-~/.cache/dubbomesh}: helm and Prometheus for the
## chart and dashboard tests, kube-apiserver + etcd, istiod releases and Apache Dubbo providers.
tools:
	@echo "== tools $$(date -u +%T)"
	bash scripts/build-tools.sh

lint: setup
	@echo "== lint $$(date -u +%T)"
	$(BIN)/ruff check dubbomesh tests bench
	$(BIN)/ruff format --check dubbomesh tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: setup
	$(BIN)/pytest -m "not integration and not k8s and not conformance" -q

bench: setup
	$(BIN)/python -m bench

peers:
	bash scripts/build-peers.sh

kube:
	bash scripts/build-go-peers.sh

conformance: setup peers kube
	$(BIN)/pytest tests/conformance -q

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .pytest_cache .ruff_cache
