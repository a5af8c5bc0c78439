# sentry-access — see README.md. `make demo` and `make test` are the quick start.
SHELL := /bin/bash
GO ?= go
BIN := bin/sentry-access
PW_DRIVER_DIR := $(CURDIR)/.cache/playwright-driver
NODE := $(shell command -v node)
CHROMIUM ?= $(shell command -v chromium || echo /usr/bin/chromium)
E2E_ENV := PLAYWRIGHT_DRIVER_PATH=$(PW_DRIVER_DIR) PLAYWRIGHT_NODEJS_PATH=$(NODE) CHROMIUM_PATH=$(CHROMIUM)
FUZZTIME ?= 5s

.PHONY: build demo sim test unit e2e e2e-deps fuzz bench generate check-generated lint clean

build: generate
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/sentry-access

## demo: simulator + built-in dev IdP + first sync + dashboard, on loopback.
## make demo LISTEN=127.0.0.1:9090 DEMO_FLAGS="--members 10000" (README: Demo flags)
LISTEN ?= 127.0.0.1:8080
DEMO_FLAGS ?=
demo: build
	./$(BIN) demo --listen $(LISTEN) $(DEMO_FLAGS)

## sim: the Sentry simulator alone, with the demo org
sim: build
	./$(BIN) sim

## test: everything CI runs: generated code check, lint (gofmt, vet, staticcheck), unit tests with -race, a short fuzz run, browser tests
test: check-generated lint unit fuzz e2e

unit:
	$(GO) test -race -count=1 ./...

# Short fuzz runs over every fuzz target (seed corpora live in testdata/fuzz).
fuzz:
	@for pkg in $$($(GO) list ./... ); do \
	  dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	  for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/func //'); do \
	    echo "fuzz $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

e2e-deps:
	@command -v chromium >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }
	npm ci --prefix e2e/driver --no-audit --no-fund
	mkdir -p $(PW_DRIVER_DIR)
	ln -sfn $(CURDIR)/e2e/driver/node_modules/playwright-core $(PW_DRIVER_DIR)/package
	$(NODE) $(PW_DRIVER_DIR)/package/cli.js --version

e2e: generate e2e-deps
	$(E2E_ENV) E2E=1 $(GO) test -count=1 -timeout 15m ./e2e/...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/access/...
	$(GO) run ./cmd/sentry-access bench
	$(GO) run ./cmd/sentry-access loadtest

generate:
	$(GO) tool templ generate -include-version=false

check-generated: generate
	@git diff --exit-code -- '*_templ.go' || { echo "generated templ code is stale: run make generate and commit"; exit 1; }

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

clean:
	rm -rf bin .cache e2e/artifacts
