# shakedown — two commands for a fresh machine:
#   make run    the demo: the e-RS outage scenario against the naive and the
#               resilient reference integrations, side by side (no Docker)
#   make test   the whole suite (unit, conformance, end-to-end), race detector on
SHELL := /bin/bash
GO    ?= go
BIN   := $(CURDIR)/bin
OUT   := $(CURDIR)/out
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

export TESTCONTAINERS_RYUK_DISABLED := true
export TESTCONTAINERS_HOST_OVERRIDE := 127.0.0.1

# The demo scenarios: name, the reference integration it pilots, and the
# checks the naive mode is expected to fail (the naive integration is the
# control: the demo only passes if shakedown catches it, and the resilient
# one passes every check).
DEMOS := \
  ers-outage-referrals:referral-gateway:no-duplicate-referrals,latency[all],error-rate[fault-1] \
  irefer-host-freeze:imaging-cds:host-responsive,ordering-continues \
  duplicate-pathology-results:pathology-router:no-lost-results,no-duplicate-results,ack-integrity \
  lab-outage-backlog:pathology-router:no-lost-results,ack-integrity,mesh-acknowledged
# Every demo run shares one seed (so naive and resilient see the same
# synthetic patients); a new one each time unless given: make run SEED=42
SEED := $(or $(SEED),$(shell od -An -N4 -tu4 /dev/urandom | tr -d ' '))

.PHONY: all build run test npm-deps test-unit test-e2e bench fuzz vet lint toxiproxy-cli golden clean

all: build

build:
	@mkdir -p $(BIN)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/shakedown ./cmd/shakedown
	$(GO) build -o $(BIN)/ ./examples/...

toxiproxy-cli:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/toxiproxy-cli github.com/Shopify/toxiproxy/v2/cmd/cli

# Every run of every demo goes in parallel (they are light: a few requests a
# second each); then the verdicts are printed side by side per scenario.
# Exit 0 exactly when every naive run fails the checks it should and every
# resilient run passes them all.
run: build
	@rm -rf $(OUT)/demo && mkdir -p $(OUT)/demo
	@echo "== shakedown demo, seed $(SEED): $(foreach d,$(DEMOS),$(word 1,$(subst :, ,$(d)))) against naive and resilient reference integrations, in parallel"
	@set +e; pids=""; \
	for d in $(DEMOS); do \
	  IFS=: read -r name sut fail <<< "$$d"; \
	  for mode in naive resilient; do \
	    expect=""; [ $$mode = naive ] && expect="--expect-fail $$fail"; \
	    ( $(BIN)/shakedown run scenarios/$$name.yaml --seed $(SEED) --out $(OUT)/demo/$$mode \
	        --sut-cmd "$(BIN)/$$sut --mode $$mode" $$expect 2>&1 \
	      | tee $(OUT)/demo/$$name.$$mode.log | grep --line-buffered '^\[' \
	      | sed -u "s/^/  $$(printf '%-22.22s %-9s' $$name $$mode) /"; \
	      echo $${PIPESTATUS[0]} > $(OUT)/demo/$$name.$$mode.exit ) & pids="$$pids $$!"; \
	  done; \
	done; \
	wait $$pids; ok=1; \
	for d in $(DEMOS); do \
	  IFS=: read -r name sut fail <<< "$$d"; \
	  n=$$(cat $(OUT)/demo/$$name.naive.exit); r=$$(cat $(OUT)/demo/$$name.resilient.exit); \
	  echo; echo "== $$name: verdicts side by side (full summaries: $(OUT)/demo/$$name.{naive,resilient}.log)"; \
	  $(BIN)/shakedown report compare $(OUT)/demo/naive/$$name $(OUT)/demo/resilient/$$name --label naive,resilient; \
	  if [ "$$n" = 0 ] && [ "$$r" = 0 ]; then \
	    echo "OK: shakedown caught the naive $$sut ($$fail failed) and passed the resilient one."; \
	  else \
	    echo "FAILED: naive exit $$n (want 0: every one of $$fail fails), resilient exit $$r (want 0: every check passes)"; ok=0; \
	  fi; \
	done; \
	echo; if [ $$ok = 1 ]; then echo "DEMO OK"; else echo "DEMO FAILED"; exit 1; fi

# Independent real clients from npm used by the conformance tests (fhir-kit-client,
# cds-validator); installed from the committed lockfiles.
NPM_DIRS := $(patsubst %/package.json,%,$(wildcard mocks/*/testdata/npm/package.json))
npm-deps:
	@for d in $(NPM_DIRS); do \
	  if [ ! -d $$d/node_modules ]; then echo "npm ci --prefix $$d"; npm ci --prefix $$d --no-audit --no-fund --loglevel=error || exit 1; fi; \
	done

# SHAKEDOWN_REQUIRE_NPM=1: the conformance tests against npm clients fail
# (rather than skip) when their packages are missing.
# The end-to-end suite runs after the rest so its timing-sensitive runs do not
# compete for the CPU with every other package's race-enabled tests.
test: vet npm-deps
	SHAKEDOWN_REQUIRE_NPM=1 $(GO) test -race -count=1 -timeout 10m $$($(GO) list ./... | grep -v '/scenarios$$')
	$(GO) test -race -count=1 -timeout 10m ./scenarios/...

test-unit:
	$(GO) test -race -count=1 -short ./...

test-e2e:
	$(GO) test -race -count=1 -timeout 14m ./scenarios/...

vet:
	$(GO) vet ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Each fuzz target runs for a bounded time; the corpus lives in testdata/fuzz.
FUZZTIME ?= 20s
fuzz:
	@set -e; for spec in \
	  ./harness/scenario:FuzzParse \
	  ./mocks/synthetic:FuzzValidateNHSNumber \
	  ./mocks/fhir:FuzzNegotiate \
	  ./mocks/fhir:FuzzDecodeParameters \
	  ./mocks/ers:FuzzRequestBody \
	  ./mocks/gpconnect:FuzzRequestBody \
	  ./mocks/gpconnect:FuzzJWT \
	  ./mocks/cdshooks:FuzzValidateResponse \
	  ./harness/record:FuzzReadOperations \
	  ./mocks/hl7:FuzzParse \
	  ./mocks/hl7:FuzzMLLP \
	  ./mocks/mesh:FuzzParseAuthorization \
	  ./cmd/shakedown:FuzzSplitCommand \
	  ; do pkg=$${spec%%:*}; fn=$${spec##*:}; \
	  echo "== $$fn ($$pkg, $(FUZZTIME))"; \
	  $(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$pkg; done

golden:
	$(GO) test ./reports/... -update

clean:
	rm -rf $(BIN) $(OUT)
