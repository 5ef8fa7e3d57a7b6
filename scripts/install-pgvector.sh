#!/usr/bin/env bash
# Installs what the PostgreSQL tests and benchmarks need on Debian 12 (bookworm): the PostgreSQL 15 server and the
# pgvector extension. Bookworm has no pgvector binary package, so pgvector is built from Debian's source package of
# the next release (trixie, pgvector 0.8.x), fetched through a deb-src list kept in a temporary folder so the
# machine's own apt sources are left as they are. Run as root; does nothing when pgvector is already installed.
set -euo pipefail

PG_MAJOR=15
PG_CONFIG=/usr/lib/postgresql/$PG_MAJOR/bin/pg_config

if [[ -x $PG_CONFIG && -f "$($PG_CONFIG --sharedir)/extension/vector.control" ]]; then
  echo "pgvector is already installed for PostgreSQL $PG_MAJOR"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
if ! dpkg -s postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR make gcc dpkg-dev >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR make gcc dpkg-dev >/dev/null
fi

work=$(mktemp -d)
chmod 755 "$work" # apt downloads as the _apt user
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial"
cat >"$work/trixie-src.sources" <<SOURCES
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
apt_options=(-o "Dir::Etc::SourceList=$work/trixie-src.sources" -o "Dir::Etc::SourceParts=-" -o "Dir::State::Lists=$work/lists")
apt-get "${apt_options[@]}" update -qq
(cd "$work" && apt-get "${apt_options[@]}" source -qq pgvector)

source_dir=$(find "$work" -maxdepth 1 -type d -name 'pgvector-*' | head -n 1)
# OPTFLAGS= : no -march=native, so the library runs on any x86-64 machine the cluster is copied to.
make -C "$source_dir" -s PG_CONFIG=$PG_CONFIG OPTFLAGS= -j"$(nproc)"
make -C "$source_dir" -s PG_CONFIG=$PG_CONFIG install
echo "pgvector $(sed -n "s/^default_version = '\(.*\)'/\1/p" "$source_dir/vector.control") installed for PostgreSQL $PG_MAJOR"
