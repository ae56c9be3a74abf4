#!/usr/bin/env bash
# Installs what `make test` needs beyond Go, gcc, git, make and node, when
# it is missing: moto_server (DynamoDB + Streams for the tests), Debian's
# chromium (the page's browser tests) and the PostgreSQL 15 server binaries
# (a throwaway cluster for the Postgres store's tests). Each check is cheap;
# nothing is installed twice. apt-get needs root (CI and this project's
# machines run as root); elsewhere the script says what to install.
set -euo pipefail
export PATH="$PATH:$HOME/.pyenv/shims"

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "install-deps: please install the Debian package(s) $* (needs root)" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "$@"
}

if ! command -v moto_server >/dev/null 2>&1; then
  echo "install-deps: moto_server not found; installing moto[server]"
  python3 -m pip install --quiet 'moto[server]'
fi
if ! command -v chromium >/dev/null 2>&1; then
  echo "install-deps: chromium not found; installing it"
  apt_install chromium
fi
if [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then
  echo "install-deps: PostgreSQL 15 server binaries not found; installing them"
  apt_install postgresql-15
fi
echo "install-deps: moto_server, chromium and PostgreSQL 15 are present"
