#!/usr/bin/env bash
# Remove Signal's stack from the LocalStack of docker-compose.yml (the
# reverse of deploy.sh). LocalStack itself keeps running; stop it with
#
#   docker compose -f localstack/docker-compose.yml down
#
# which also drops everything in it, as this set-up keeps no state.
#
# Environment: LOCALSTACK_ENDPOINT, LOCALSTACK_REGION, SIGNAL_STACK, ARCH,
# SKIP_NPM as for deploy.sh.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

edge=${LOCALSTACK_ENDPOINT:-http://localhost:4566}
edge=${edge%/}
stack=${SIGNAL_STACK:-Signal}
arch=${ARCH:-$(host_arch)}
stack_context "$arch" # sets ctx, the -c arguments

need curl "used to reach LocalStack"
need node "the CDK CLI runs on Node.js"
need npm "installs the CDK CLI and cdklocal"
need go "the CDK app (infra/) is Go and is synthesized to find the stack"
need make "make build (the app's Lambda assets must exist to synthesize)"

curl -fsS --max-time 5 "$edge/_localstack/health" >/dev/null 2>&1 ||
	die "no LocalStack at $edge: nothing to destroy (is it running? docker compose -f localstack/docker-compose.yml ps)"

# `cdk destroy` synthesizes the app, which needs the assets it names.
for fn in command query projector; do
	if [ ! -s "$repo/dist/$fn/bootstrap" ]; then
		make -C "$repo" --no-print-directory build ARCH="$arch"
		break
	fi
done

if [ "${SKIP_NPM:-}" != 1 ] && { [ ! -x "$here/node_modules/.bin/cdklocal" ] || [ ! -f "$repo/infra/node_modules/aws-cdk/package.json" ]; }; then
	npm_install "$repo" "$here"
fi
cdk_env "$repo" "$here"

cd "$repo/infra"
note "cdklocal destroy $stack"
"$here/node_modules/.bin/cdklocal" destroy "$stack" "${ctx[@]}" --force
rm -rf "$here/.out"
note "stack $stack removed from LocalStack at $edge"
