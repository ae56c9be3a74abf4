#!/usr/bin/env bash
# Deploy Signal's CDK stack to the LocalStack of docker-compose.yml, from a
# clean clone, on the host (README.md says why not from an init hook):
#
#   docker compose -f localstack/docker-compose.yml up -d
#   localstack/deploy.sh
#
# Steps: check the tools, wait for LocalStack, `make build` for this
# machine's CPU, install the CDK CLI (infra/) and cdklocal (localstack/),
# `cdklocal bootstrap`, `cdklocal deploy Signal -c api=rest -c arch=<cpu>
# -c removalPolicy=destroy`, derive the local invoke URL of the REST API,
# smoke-test it with curl.
#
# Environment (all optional):
#   ARCH                 Lambda CPU, amd64 or arm64 (default: this machine's)
#   LOCALSTACK_ENDPOINT  LocalStack's edge URL (default http://localhost:4566)
#   LOCALSTACK_REGION    region to deploy to (default us-east-1)
#   SIGNAL_STACK         stack name (default Signal)
#   SKIP_BUILD=1         reuse dist/*/bootstrap as they are
#   SKIP_NPM=1           reuse infra/node_modules and localstack/node_modules
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

edge=${LOCALSTACK_ENDPOINT:-http://localhost:4566}
edge=${edge%/}
stack=${SIGNAL_STACK:-Signal}
out="$here/.out"

need docker "LocalStack runs in Docker: https://docs.docker.com/get-docker/"
docker info >/dev/null 2>&1 || die "docker is installed but its engine does not answer (docker info failed): start Docker, or check your permissions on /var/run/docker.sock"
need curl "used to wait for LocalStack and to smoke-test the API"
need node "the CDK CLI runs on Node.js (18 or newer)"
need npm "installs the CDK CLI and cdklocal"
need go "builds the Lambda bootstraps and runs the CDK app (infra/ is Go)"
need make "make build writes dist/<function>/bootstrap"
arch=${ARCH:-$(host_arch)}
stack_context "$arch" # sets ctx, the -c arguments

note "waiting for LocalStack at $edge"
wait_for_localstack "$edge" 120
check_ready_hook "$edge" 60

if [ "${SKIP_BUILD:-}" != 1 ]; then
	note "make build ARCH=$arch"
	make -C "$repo" --no-print-directory build ARCH="$arch"
fi
for fn in command query projector; do
	[ -s "$repo/dist/$fn/bootstrap" ] || die "dist/$fn/bootstrap is missing: run make build ARCH=$arch"
done

[ "${SKIP_NPM:-}" = 1 ] || npm_install "$repo" "$here"
cdk_env "$repo" "$here"
check_dns
cdklocal=("$here/node_modules/.bin/cdklocal")

mkdir -p "$out"
cd "$repo/infra"
note "cdklocal bootstrap aws://000000000000/$AWS_REGION"
"${cdklocal[@]}" bootstrap "aws://000000000000/$AWS_REGION"
# api=rest: LocalStack's free edition has API Gateway v1 (REST APIs) but
# not v2 (HTTP APIs), the stack's default; the functions answer both.
# arch: the functions declare the CPU the bootstraps were built for, so
# LocalStack runs them natively. removalPolicy=destroy: destroy.sh (or a
# failed deploy's rollback) also removes the tables, which the stack
# otherwise retains.
note "cdklocal deploy $stack ${ctx[*]}"
"${cdklocal[@]}" deploy "$stack" "${ctx[@]}" --require-approval never --outputs-file "$out/outputs.json"

api_url=$(stack_output "$out/outputs.json" "$stack" ApiUrl)
urls=$(api_urls "$api_url" "$edge")
host_url=$(sed -n 1p <<<"$urls")
path_url=$(sed -n 2p <<<"$urls")

# The first request starts the query function's container; allow for it.
note "smoke test: GET /healthz"
api=""
deadline=$((SECONDS + 120))
while [ -z "$api" ]; do
	for u in "$host_url" "$path_url"; do
		if curl -fsS --max-time 30 "$u/healthz" >/dev/null 2>&1; then
			api=$u
			break
		fi
	done
	if [ -z "$api" ]; then
		[ "$SECONDS" -lt "$deadline" ] || die "the API answers neither $host_url/healthz nor $path_url/healthz. Look at: docker compose -f localstack/docker-compose.yml logs localstack"
		sleep 3
	fi
done
printf '%s\n' "$api" >"$out/api-url"

cart="smoke-$(date +%s)"
note "smoke test: POST $api/aggregates/cart/$cart/AddItem"
code=$(curl -sS --max-time 60 -o "$out/smoke.json" -w '%{http_code}' -X POST \
	-H 'Content-Type: application/json' -H "Idempotency-Key: $cart-1" \
	-d '{"sku":"apple","quantity":3,"price":50}' "$api/aggregates/cart/$cart/AddItem") || code=000
cat "$out/smoke.json" 2>/dev/null && echo
[ "$code" = 201 ] || die "AddItem answered HTTP $code, want 201"
code=$(curl -sS --max-time 60 -o "$out/smoke.json" -w '%{http_code}' "$api/aggregates/cart/$cart") || code=000
cat "$out/smoke.json" 2>/dev/null && echo
[ "$code" = 200 ] || die "GET the cart answered HTTP $code, want 200"

cat <<EOF

Signal is deployed to LocalStack (stack $stack, REST API).

  API:          $api
  or:           $( [ "$api" = "$host_url" ] && echo "$path_url" || echo "$host_url (needs DNS for localhost.localstack.cloud)")
  outputs:      $out/outputs.json

  curl -X POST $api/aggregates/cart/c1/AddItem -d '{"sku":"apple","quantity":3,"price":50}'
  curl $api/aggregates/cart/c1

The end-to-end suite against it:

  SIGNAL_E2E_API_URL=$api make e2e-remote

Remove the stack with localstack/destroy.sh; stop LocalStack with
docker compose -f localstack/docker-compose.yml down.
EOF
