#!/bin/bash
# LocalStack READY hook (mounted at /etc/localstack/init/ready.d/).
#
# It does not deploy: building the Go bootstraps and synthesizing the CDK
# app need Go, Node and the CDK CLI, which the LocalStack image does not
# have, so ../deploy.sh runs on the host. Nothing has to exist in LocalStack
# before that either (`cdklocal bootstrap` creates the CDK toolkit stack).
#
# What it does: check, from inside the container, that the Docker socket
# Lambda needs is mounted and answers, so a missing mount shows up now (as
# this script's ERROR state at /_localstack/init/ready, which deploy.sh
# reads) and not later as a function stuck in "Failed: Docker not available".
set -u

sock=/var/run/docker.sock
if [ ! -S "$sock" ]; then
	echo "signal-preflight: $sock is not mounted: Lambda functions cannot start." >&2
	echo "signal-preflight: mount it (docker-compose.yml does: /var/run/docker.sock:/var/run/docker.sock)." >&2
	exit 1
fi

# Ping the engine through the socket (python3 is in the LocalStack image;
# curl may not be).
if ! python3 - "$sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
reply = s.recv(256).decode("latin-1")
sys.exit(0 if reply.split(" ", 2)[1:2] == ["200"] else 1)
PY
then
	echo "signal-preflight: the Docker engine behind $sock does not answer /_ping." >&2
	exit 1
fi

echo "signal-preflight: Docker socket OK; LocalStack is ready for ./deploy.sh on the host."
