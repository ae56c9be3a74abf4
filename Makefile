# Signal for Go. `make test` is what CI runs (through .ci/run); `make dev`
# runs the local runtime. Every target installs what it needs itself.

GO      ?= go
PKGS    ?= ./...
BENCH   ?= .
COUNT   ?= 5

.PHONY: all test lint fmt vet unit race bench dev tidy

all: test

## test: everything CI checks: formatting, vet, and every test with the race detector.
test: lint unit

## lint: gofmt must have nothing to say and go vet must pass.
lint: fmt vet

fmt:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.tools/*'))"; \
	if [ -n "$$out" ]; then echo "gofmt -l reports unformatted files:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

## unit: all Go tests, with the race detector (needs cgo; gcc is on the machine).
## DynamoDB tests start moto_server themselves (or use AWS_ENDPOINT_URL).
unit:
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

## bench: the benchmarks recorded in docs/BENCHMARKS.md (the DynamoDB
## ones against moto_server, where only request counts are meaningful).
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -count=$(COUNT) ./pkg/signal/
	$(GO) test -run '^$$' -bench 'CommandRequests' -benchtime 100x ./pkg/dynstore/

## dev: run the cart example in-process and print what happens.
dev:
	$(GO) run ./cmd/signal dev

tidy:
	$(GO) mod tidy
