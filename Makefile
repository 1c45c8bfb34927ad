# dualchain's make targets. `make demo` is the README's first command;
# `make test` is its test command and what CI runs.

.PHONY: demo run test build bench bench-export perf-report vet soak robustness contracts fuzz

DEMO_ARGS ?=
demo: ## the whole story on a local 3-node cluster, narrated and verified (installs Debian's redis-server when missing and it can)
	bash scripts/demo.sh $(DEMO_ARGS)

run: ## a one-node dev chain on real Redis (installed when missing)
	bash scripts/dev.sh

test: ## the whole suite: gofmt, vet, race + invariants tests on real redis-server, short fuzz
	bash scripts/test.sh

build:
	go build -o bin/dualchain ./cmd/dualchain

vet:
	go vet ./...

contracts: ## rebuild every committed .wasm from its source (installs Debian's wabt and rustc when missing)
	bash scripts/contracts.sh --install

bench: ## the micro-benchmarks behind docs/benchmarks.md (several runs each)
	bash scripts/bench.sh

PERF_ARGS ?=
perf-report: ## regenerate docs/performance.md and docs/perf/*.png from a `dualchain bench --report` run (about ten minutes)
	bash scripts/perf-report.sh $(PERF_ARGS)

DURATION ?= 30m
SEED ?=
robustness: ## a long randomized fault-injection soak of a real 3-node cluster, checked (DURATION=30m SEED=N); keeps histories and data dirs of a failing run
	DURATION=$(DURATION) SEED=$(SEED) bash scripts/robustness.sh

FUZZTIME ?= 30s
fuzz: ## every fuzz target of the module for FUZZTIME each (FUZZTIME=5m); a crasher is saved in its package's testdata/fuzz
	FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

SOAK_COUNT ?= 20
soak: ## the kill -9 / restart tests of real processes on real Redis (one node, the cluster's failures, the bridge story), SOAK_COUNT times (CI runs each once)
	go test -race -tags invariants -run 'TestKillNodeLosesNothing|TestClusterRecovery|TestBridgeStoryOnThreeNodes' -count $(SOAK_COUNT) -timeout 120m ./internal/e2e

bench-export: ## the benchmark of `dualchain export` in docs/export.md: a dev node with TXS traced transfers (1,000,000), exported by range and --per-tx (1 to 1,000 workers, and against a 200 ms delay); about 25 minutes
	bash scripts/bench-export.sh
