# Shared by deploy.sh and destroy.sh (sourced, not run). Functions only:
# sourcing it changes nothing, so e2e/localstack_files_test.go can call
# them one by one.

# die prints its arguments to stderr and exits 1.
die() {
	printf 'localstack: %s\n' "$*" >&2
	exit 1
}

note() {
	printf '==> %s\n' "$*"
}

# need CMD HINT: fail clearly when CMD is not on PATH.
need() {
	command -v "$1" >/dev/null 2>&1 || die "$1 is not installed (or not on PATH): $2"
}

# host_arch prints the Go/Lambda name of this machine's CPU: amd64 or arm64.
host_arch() {
	case "$(uname -m)" in
	x86_64 | amd64) echo amd64 ;;
	aarch64 | arm64) echo arm64 ;;
	*) die "unsupported CPU $(uname -m): Lambda runs amd64 (x86_64) or arm64; set ARCH=amd64 or ARCH=arm64" ;;
	esac
}

# edge_port URL prints the port of an http(s) URL (4566 when it has none
# and is http, 443 for https).
edge_port() {
	local rest=${1#*://}
	rest=${rest%%/*}
	case "$rest" in
	*:*) echo "${rest##*:}" ;;
	*) case "$1" in https://*) echo 443 ;; *) echo 4566 ;; esac ;;
	esac
}

# api_urls API_URL EDGE prints the two local invoke URLs of the REST API
# whose deployed URL is API_URL, one per line, without a trailing slash:
#
#   http://<id>.execute-api.localhost.localstack.cloud:<port>/<stage>
#   <EDGE>/_aws/execute-api/<id>/<stage>
#
# The first is LocalStack's recommended form; the second needs no DNS
# (localhost.localstack.cloud is a public DNS name for 127.0.0.1, which
# some resolvers refuse). The older .../restapis/<id>/<stage>/_user_request_/
# form is deprecated since LocalStack 4.0. Source: docs.localstack.cloud,
# API Gateway, "Accessing HTTP APIs via Local Domain Name".
#
# API_URL may be AWS's form (https://<id>.execute-api.<region>.amazonaws.com/<stage>/,
# the CDK's RestApi.url) or LocalStack's rewrite of it; only the id and the
# stage are taken from it.
api_urls() {
	local url=$1 edge=${2%/} id="" stage="" rest
	rest=${url#*://}
	case "$rest" in
	*/_aws/execute-api/*) # LocalStack's path form: <edge>/_aws/execute-api/<id>/<stage>/
		rest=${rest#*/_aws/execute-api/}
		id=${rest%%/*}
		rest=${rest#"$id"}
		rest=${rest#/}
		stage=${rest%%/*}
		;;
	*/restapis/*/_user_request_*) # the deprecated <edge>/restapis/<id>/<stage>/_user_request_/
		rest=${rest#*/restapis/}
		id=${rest%%/*}
		rest=${rest#"$id"/}
		stage=${rest%%/*}
		;;
	*.execute-api.*) # https://<id>.execute-api.<region>.amazonaws.com/<stage>/ and LocalStack's host form
		id=${rest%%.execute-api.*}
		case "$rest" in */*) rest=${rest#*/} ;; *) rest="" ;; esac
		stage=${rest%%/*}
		;;
	*) die "ApiUrl '$url' is not an API Gateway invoke URL (<id>.execute-api.<...>/<stage>/)" ;;
	esac
	[ -n "$id" ] || die "no API id in ApiUrl '$url'"
	[ -n "$stage" ] || die "ApiUrl '$url' has no stage: a REST API's URL ends in /<stage>/ (was the stack deployed with -c api=rest?)"
	echo "http://$id.execute-api.localhost.localstack.cloud:$(edge_port "$edge")/$stage"
	echo "$edge/_aws/execute-api/$id/$stage"
}

# stack_context ARCH sets the array ctx to the CDK context arguments of a
# LocalStack deployment (infra/main.go documents the keys), followed by
# those of CDK_CONTEXT, split on spaces (CDK_CONTEXT='-c auth=none'). A
# function setting a global rather than printing: bash 3.2 (macOS) has no
# mapfile.
stack_context() {
	case "$1" in amd64 | arm64) ;; *) die "ARCH=$1: want amd64 or arm64" ;; esac
	ctx=(-c api=rest -c "arch=$1" -c removalPolicy=destroy)
	if [ -n "${CDK_CONTEXT:-}" ]; then
		# shellcheck disable=SC2206 # split into words on purpose
		ctx+=(${CDK_CONTEXT})
	fi
}

# stack_output FILE STACK KEY prints one value of a `cdk deploy
# --outputs-file` file ({"<stack>": {"<key>": "<value>"}}).
stack_output() {
	node -e '
const [file, stack, key] = process.argv.slice(1);
const all = JSON.parse(require("fs").readFileSync(file, "utf8"));
const v = (all[stack] || {})[key];
if (typeof v !== "string" || v === "") {
  console.error(`no output ${key} of stack ${stack} in ${file}: ${JSON.stringify(all)}`);
  process.exit(1);
}
console.log(v);
' "$1" "$2" "$3"
}

# check_health JSON: the /_localstack/health answer must list every service
# the stack needs as available or running. Prints the version line.
check_health() {
	node -e '
const h = JSON.parse(process.argv[1]);
const need = ["cloudformation", "s3", "ssm", "iam", "sts", "lambda", "logs", "dynamodb", "dynamodbstreams", "apigateway", "sqs"];
const bad = need.filter((s) => !["available", "running"].includes((h.services || {})[s]));
if (bad.length) {
  console.error("LocalStack does not offer: " + bad.map((s) => `${s} (${(h.services || {})[s] || "absent"})`).join(", ") +
    ". Check SERVICES in docker-compose.yml (LOCALSTACK_SERVICES) and the image.");
  process.exit(1);
}
console.log(`LocalStack ${h.version || "?"} (${h.edition || "?"} edition)`);
' "$1"
}

# wait_for_localstack EDGE SECONDS: poll /_localstack/health until it
# answers, then check the services.
wait_for_localstack() {
	local edge=$1 deadline=$((SECONDS + $2)) health=""
	until health=$(curl -fsS --max-time 5 "$edge/_localstack/health" 2>/dev/null); do
		if [ "$SECONDS" -ge "$deadline" ]; then
			die "no LocalStack at $edge after $2 s. Start it first: docker compose -f localstack/docker-compose.yml up -d (and see: docker compose -f localstack/docker-compose.yml logs localstack)"
		fi
		sleep 2
	done
	check_health "$health" || die "LocalStack at $edge is up but cannot host the stack (above)"
}

# check_ready_hook EDGE SECONDS: wait for LocalStack's READY init stage and
# fail if our preflight hook reported an error.
check_ready_hook() {
	local edge=$1 deadline=$((SECONDS + $2)) state=""
	while :; do
		state=$(curl -fsS --max-time 5 "$edge/_localstack/init/ready" 2>/dev/null | node -e '
let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
  let r; try { r = JSON.parse(s); } catch { console.log("unknown"); return; }
  const ours = (r.scripts || []).find((x) => /signal-preflight\.sh$/.test(x.name || ""));
  if (!ours) console.log(r.completed ? "absent" : "pending");
  else console.log(ours.state === "SUCCESSFUL" ? "ok" : ours.state === "ERROR" ? "error" : "pending");
});') || state=unknown
		case "$state" in
		ok) return 0 ;;
		error) die "the LocalStack init hook signal-preflight.sh failed: the Docker socket is not usable inside the container, so no Lambda function can start. See: docker compose -f localstack/docker-compose.yml logs localstack" ;;
		absent)
			printf 'localstack: warning: init hook signal-preflight.sh did not run (was LocalStack started from localstack/docker-compose.yml?); going on\n' >&2
			return 0
			;;
		esac
		if [ "$SECONDS" -ge "$deadline" ]; then
			printf 'localstack: warning: the READY init stage has not finished after %s s (state: %s); going on\n' "$2" "$state" >&2
			return 0
		fi
		sleep 2
	done
}

# cdk_env REPO DIR: the environment cdklocal runs in. Test credentials,
# always: these scripts must never reach a real AWS account. cdklocal (for
# CDK >= 2.177) strips other AWS_* variables itself and points the SDK at
# http://localhost.localstack.cloud:4566 (its src/index.js); a user who
# sets AWS_ENDPOINT_URL must set AWS_ENDPOINT_URL_S3 too, or it refuses.
cdk_env() {
	local repo=$1 dir=$2
	export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
	unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE
	export AWS_REGION=${LOCALSTACK_REGION:-us-east-1}
	export AWS_DEFAULT_REGION=$AWS_REGION
	export AWS_ENVAR_ALLOWLIST=AWS_REGION,AWS_DEFAULT_REGION
	if [ -n "${AWS_ENDPOINT_URL:-}" ] && [ -z "${AWS_ENDPOINT_URL_S3:-}" ]; then
		die "AWS_ENDPOINT_URL is set but AWS_ENDPOINT_URL_S3 is not; cdklocal needs both (e.g. AWS_ENDPOINT_URL_S3=http://s3.localhost.localstack.cloud:4566), or unset AWS_ENDPOINT_URL"
	fi
	# cdklocal finds the CDK CLI with require("aws-cdk"): the CLI the
	# project pins is infra's, so add infra/node_modules to Node's path.
	export NODE_PATH="$repo/infra/node_modules${NODE_PATH:+:$NODE_PATH}"
	export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1 JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
	[ -x "$dir/node_modules/.bin/cdklocal" ] || die "cdklocal is not installed in $dir/node_modules (npm ci --prefix $dir)"
	[ -f "$repo/infra/node_modules/aws-cdk/package.json" ] || die "the CDK CLI (npm package aws-cdk) is not in infra/node_modules: infra/package.json must list it (npm ci --prefix infra)"
}

# check_dns: cdklocal reaches LocalStack at localhost.localstack.cloud and
# uploads assets to <bucket>.s3.localhost.localstack.cloud, public DNS
# names for 127.0.0.1. Some resolvers (DNS rebinding protection, offline
# machines) do not answer them; cdklocal then fails with a misleading
# "no credentials have been configured". Say what is wrong instead.
check_dns() {
	[ -z "${AWS_ENDPOINT_URL:-}" ] || return 0
	local bad
	bad=$(node -e '
const dns = require("dns");
const names = ["localhost.localstack.cloud", `cdk-hnb659fds-assets-000000000000-${process.argv[1]}.s3.localhost.localstack.cloud`];
Promise.all(names.map((n) => dns.promises.lookup(n).then(() => null, () => n))).then((bad) => {
  bad = bad.filter(Boolean);
  if (bad.length) { console.log(bad.join(" ")); process.exit(1); }
});
' "${AWS_REGION:-us-east-1}") ||
		die "this machine does not resolve ${bad:-localhost.localstack.cloud} (public DNS names for 127.0.0.1 that cdklocal uses). Add them to /etc/hosts as 127.0.0.1, or allow them in your resolver"
}

# npm_install REPO DIR: the CDK CLI from infra/package.json and cdklocal
# from localstack/package.json, each at its locked version.
npm_install() {
	local repo=$1 dir=$2
	[ -f "$repo/infra/package.json" ] || die "infra/package.json is missing: this checkout has no CDK app (infra/) to deploy"
	[ -f "$repo/infra/package-lock.json" ] || die "infra/package-lock.json is missing: npm ci needs it"
	note "npm ci --prefix infra (the CDK CLI)"
	npm ci --prefix "$repo/infra" --no-audit --no-fund --loglevel=error
	note "npm ci --prefix localstack (cdklocal)"
	npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
}
