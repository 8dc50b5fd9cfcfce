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

DEMO            := scenarios/ers-outage-referrals.yaml
DEMO_NAME       := ers-outage-referrals
# The checks the naive integration is expected to fail (it is the control:
# the demo only passes if shakedown catches it).
DEMO_NAIVE_FAIL := no-duplicate-referrals,latency[all],error-rate[fault-1]
# Both demo runs share one seed (so they refer the same synthetic patients);
# a new one each time unless given: make run SEED=42
SEED := $(or $(SEED),$(shell od -An -N4 -tu4 /dev/urandom | tr -d ' '))

.PHONY: all build run test test-unit test-e2e bench fuzz vet lint toxiproxy-cli golden clean

all: build

build:
	@mkdir -p $(BIN)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/shakedown ./cmd/shakedown
	$(GO) build -o $(BIN)/referral-gateway ./examples/referral-gateway

toxiproxy-cli:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/toxiproxy-cli github.com/Shopify/toxiproxy/v2/cmd/cli

# Both modes run in parallel; exit 0 exactly when the naive integration fails
# the checks it should and the resilient one passes every check.
run: build
	@rm -rf $(OUT)/demo && mkdir -p $(OUT)/demo
	@echo "== shakedown demo: $(DEMO), naive and resilient referral gateways in parallel, seed $(SEED)"
	@set +e; \
	( $(BIN)/shakedown run $(DEMO) --seed $(SEED) --out $(OUT)/demo/naive \
	    --sut-cmd "$(BIN)/referral-gateway --mode naive" --expect-fail '$(DEMO_NAIVE_FAIL)' 2>&1 \
	    | tee $(OUT)/demo/naive.log | grep --line-buffered '^\[' | sed -u 's/^/  naive     /'; exit $${PIPESTATUS[0]} ) & np=$$!; \
	( $(BIN)/shakedown run $(DEMO) --seed $(SEED) --out $(OUT)/demo/resilient \
	    --sut-cmd "$(BIN)/referral-gateway --mode resilient" 2>&1 \
	    | tee $(OUT)/demo/resilient.log | grep --line-buffered '^\[' | sed -u 's/^/  resilient /'; exit $${PIPESTATUS[0]} ) & rp=$$!; \
	wait $$np; n=$$?; wait $$rp; r=$$?; \
	for m in naive resilient; do \
	  echo; echo "== $$m integration: verdicts (full summary in $(OUT)/demo/$$m.log)"; \
	  sed -n '/^Verdicts/,$$p' $(OUT)/demo/$$m.log; done; \
	echo; echo "== side by side"; \
	$(BIN)/shakedown report compare $(OUT)/demo/naive/$(DEMO_NAME) $(OUT)/demo/resilient/$(DEMO_NAME) --label naive,resilient; \
	echo; \
	if [ "$$n" = 0 ] && [ "$$r" = 0 ]; then \
	  echo "DEMO OK: shakedown caught the naive integration ($(DEMO_NAIVE_FAIL) failed) and passed the resilient one."; \
	else \
	  echo "DEMO FAILED: naive exit $$n (want 0: exactly $(DEMO_NAIVE_FAIL) fail), resilient exit $$r (want 0: every check passes)"; exit 1; \
	fi

test: vet
	$(GO) test -race -count=1 -timeout 14m ./...

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
	  ./cmd/shakedown:FuzzSplitCommand \
	  ; do pkg=$${spec%%:*}; fn=$${spec##*:}; \
	  echo "== $$fn ($$pkg, $(FUZZTIME))"; \
	  $(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$pkg; done

golden:
	$(GO) test ./reports/... -update

clean:
	rm -rf $(BIN) $(OUT)
