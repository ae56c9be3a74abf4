# Signal for Go. `make test` is what CI runs (through .ci/run); `make dev`
# runs the local runtime. Every target installs what it needs itself.

GO      ?= go
PKGS    ?= ./...
BENCH   ?= .
COUNT   ?= 5
# build: the Lambda architecture; arm64 is what the stack deploys.
ARCH    ?= arm64
FUNCTIONS := command query projector

# Tools the tests run, pinned, installed into ./.tools/bin (not GOPATH), so
# a checkout uses the version its Makefile names.
TOOLS       := $(CURDIR)/.tools/bin
RIE_MODULE  := github.com/aws/aws-lambda-runtime-interface-emulator
RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d
RIE         := $(TOOLS)/aws-lambda-rie
STATICCHECK_MODULE  := honnef.co/go/tools
STATICCHECK_VERSION := v0.8.2
STATICCHECK         := $(TOOLS)/staticcheck

.PHONY: all deps test lint fmt vet staticcheck tools unit race bench build dev tidy infra-test synth diff deploy

all: test

## test: everything CI checks: formatting, vet, every test with the race
## detector, and the CDK app's tests (infra-test).
test: lint deps tools unit fuzz-short infra-test

## lint: gofmt must have nothing to say, go vet and staticcheck must pass.
## A finding that is deliberate (a test fixture's odd field, say) is kept
## with a //lint:ignore comment that says why.
lint: fmt vet staticcheck

fmt:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.tools/*'))"; \
	if [ -n "$$out" ]; then echo "gofmt -l reports unformatted files:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

staticcheck: tools
	$(STATICCHECK) $(PKGS)

## deps: moto_server, chromium and the PostgreSQL 15 server binaries, installed
## when missing (scripts/install-deps.sh; apt-get needs root).
deps:
	@bash scripts/install-deps.sh

## tools: install aws-lambda-rie and staticcheck into ./.tools/bin, unless
## that version is there. (`go version -m` reads the module version back
## from the binary, so a version bump here reinstalls it.)
tools:
	@if $(GO) version -m $(RIE) 2>/dev/null | grep -q '$(RIE_MODULE).*$(RIE_VERSION)'; then \
		echo "aws-lambda-rie $(RIE_VERSION) is in $(TOOLS)"; \
	else \
		echo "GOBIN=$(TOOLS) $(GO) install $(RIE_MODULE)/cmd/aws-lambda-rie@$(RIE_VERSION)"; \
		GOBIN=$(TOOLS) $(GO) install $(RIE_MODULE)/cmd/aws-lambda-rie@$(RIE_VERSION); \
	fi
	@if $(GO) version -m $(STATICCHECK) 2>/dev/null | grep -q '$(STATICCHECK_MODULE).*$(STATICCHECK_VERSION)'; then \
		echo "staticcheck $(STATICCHECK_VERSION) is in $(TOOLS)"; \
	else \
		echo "GOBIN=$(TOOLS) $(GO) install $(STATICCHECK_MODULE)/cmd/staticcheck@$(STATICCHECK_VERSION)"; \
		GOBIN=$(TOOLS) $(GO) install $(STATICCHECK_MODULE)/cmd/staticcheck@$(STATICCHECK_VERSION); \
	fi

## unit: all Go tests, with the race detector (needs cgo; gcc is on the machine).
## DynamoDB tests start moto_server themselves (or use AWS_ENDPOINT_URL);
## Lambda tests run the bootstraps under aws-lambda-rie (`make tools`).
unit: export AWS_LAMBDA_RIE ?= $(RIE)
unit:
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

## fuzz: every fuzz target, FUZZTIME each (default 60s), one after the
## other (go test -fuzz takes one target at a time). Crashers are written to
## the package's testdata/fuzz: commit them as seeds once fixed.
## fuzz-short: the same for 10,000 inputs each, part of `make test`: a count,
## not a duration, because Go 1.26's fuzz coordinator can report its own
## -fuzztime deadline as a failure ("context deadline exceeded", no input;
## golang/go#75804, fixed in Go 1.27). `make fuzz FUZZTIME=60s` still works
## and may show that message without a crasher.
FUZZTIME ?= 60s
FUZZ_TARGETS := \
	./pkg/signal:FuzzHandleJSON \
	./pkg/signal:FuzzValidateID \
	./pkg/signal:FuzzDecodeStoredEvent \
	./pkg/httpapi:FuzzRequest \
	./pkg/httpapi:FuzzLambdaPayload \
	./pkg/dynstore/dynstream:FuzzDecodeLambdaRecord
.PHONY: fuzz fuzz-short
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t#*:}; \
		echo "$(GO) test -run '^$$' -fuzz '^$$fn$$' -fuzztime $(FUZZTIME) $$pkg"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=10000x

## bench: the benchmarks recorded in docs/BENCHMARKS.md (the DynamoDB
## ones against moto_server, where only request counts are meaningful).
bench: tools
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -count=$(COUNT) ./pkg/signal/
	$(GO) test -run '^$$' -bench 'ProjectOne|ProjectRoundRobin|ObserveOne|ObserveRoundRobin' -cpu 1 -count=$(COUNT) ./pkg/signal/
	$(GO) test -run 'TestPoolMemoryPerAggregate' -v -count 1 ./pkg/signal/
	$(GO) test -run '^$$' -bench 'Rehydrate10k|AppendParallel|ProjectPages' -benchmem -count=$(COUNT) ./pkg/boltstore/
	$(GO) test -run '^$$' -bench 'DevThroughput' -benchtime 1x -count=$(COUNT) ./pkg/cli/
	$(GO) test -run '^$$' -bench 'CommandRequests' -benchtime 100x ./pkg/dynstore/
	AWS_LAMBDA_RIE=$(RIE) $(GO) test -run '^$$' -bench 'ColdStart|WarmCommandRIE' -benchtime 20x ./e2e/

## e2e-remote: the end-to-end suite over real HTTP against a deployed API, in
## AWS or on LocalStack (localstack/README.md):
##   SIGNAL_E2E_API_URL=https://<id>.execute-api.<region>.amazonaws.com/prod make e2e-remote
## e2e/remote_test.go has the build tag e2eremote, so `make test` never builds it.
.PHONY: e2e-remote
e2e-remote:
	$(GO) test -tags e2eremote -count=1 -run Remote -v ./e2e/

## build: the Lambda bootstraps, dist/<function>/bootstrap, for provided.al2023
## on $(ARCH) (`make build ARCH=amd64` for x86_64). Static, no RPC shim, stripped.
build:
	@set -e; for fn in $(FUNCTIONS); do \
		echo "build dist/$$fn/bootstrap (linux/$(ARCH))"; \
		GOOS=linux GOARCH=$(ARCH) CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' -o dist/$$fn/bootstrap ./functions/$$fn; \
	done

## dev: the local runtime: the cart page, the console and the API on http://127.0.0.1:8080
## (SIGNAL_ADDR or `go run ./cmd/signal dev -addr HOST:PORT` to change it), on the embedded
## store in ./.signal, with the projector and the order policy running in-process.
dev:
	$(GO) run ./cmd/signal dev

tidy:
	$(GO) mod tidy

## infra-test: the CDK app's tests (infra/, its own module): the synthesized
## template's resources, properties and IAM, and its tables created through
## CloudFormation on moto_server. Needs no AWS account and no npm install
## (the jsii runtime brings its own JavaScript; node runs it).
CDK_ENV := JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1 JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 CDK_DISABLE_CLI_TELEMETRY=true
infra-test: tools
	cd infra && $(CDK_ENV) $(GO) vet ./...
	cd infra && $(STATICCHECK) ./...
	cd infra && $(CDK_ENV) $(GO) test -count=1 -timeout 10m ./...

## synth, diff, deploy: the CDK CLI (aws-cdk, pinned in infra/package-lock.json,
## installed into infra/node_modules by npm ci) on the stack "Signal". They
## build the bootstraps first (the functions' code assets) and pass ARCH on
## (`make synth ARCH=amd64` builds and declares x86_64). More context with
## CDK_ARGS, e.g. `make synth CDK_ARGS='-c api=rest'` (see infra/README.md).
## synth needs no AWS account: the stack is environment-agnostic. diff and
## deploy use your AWS credentials; deploy needs a bootstrapped environment
## (`cd infra && npx cdk bootstrap`, once per account and region).
CDK_ARGS ?=
CDK_STAMP := infra/node_modules/.installed
CDK := cd infra && $(CDK_ENV) ./node_modules/.bin/cdk

$(CDK_STAMP): infra/package.json infra/package-lock.json
	npm ci --prefix infra --no-audit --no-fund
	@touch $@

synth: build $(CDK_STAMP)
	$(CDK) synth --quiet --no-notices -c arch=$(ARCH) $(CDK_ARGS)
	@echo "synthesized: infra/cdk.out/Signal.template.json"

diff: build $(CDK_STAMP)
	$(CDK) diff -c arch=$(ARCH) $(CDK_ARGS)

deploy: build $(CDK_STAMP)
	$(CDK) deploy -c arch=$(ARCH) $(CDK_ARGS)
