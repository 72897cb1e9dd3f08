#!/usr/bin/env bash
# Put promtool (Prometheus's rule checker and rule unit tester) at .tools/prometheus/usr/bin/,
# for `promtool test rules` in tests/observability. Unpacks Debian's `prometheus` package
# without installing it: no root, no service started, nothing outside the project directory.
# Idempotent: does nothing when promtool is already there.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${ROOT}/.tools/prometheus"
PROMTOOL="${DEST}/usr/bin/promtool"

if [[ -x "${PROMTOOL}" ]]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
  echo "install-promtool: needs apt-get and dpkg-deb (Debian/Ubuntu); elsewhere install" \
    "Prometheus's promtool and set PROMTOOL=/path/to/promtool" >&2
  exit 1
fi

WORK="$(mktemp -d /tmp/install-promtool.XXXXXX)"
trap 'rm -rf -- "${WORK}"' EXIT
cd "${WORK}"

download() { apt-get download prometheus >"${WORK}/apt.log" 2>&1; }
if ! download; then
  # No package lists yet (a fresh container): refresh them when allowed to.
  if [[ "$(id -u)" -eq 0 ]]; then
    apt-get update -qq >/dev/null
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo -n apt-get update -qq >/dev/null
  else
    echo "install-promtool: 'apt-get download prometheus' failed and the package lists cannot" \
      "be refreshed without root; run 'sudo apt-get update' once, then 'make promtool'" >&2
    tail -n 5 "${WORK}/apt.log" >&2
    exit 1
  fi
  download || { tail -n 5 "${WORK}/apt.log" >&2; exit 1; }
fi

dpkg-deb -x prometheus_*.deb "${WORK}/root"
mkdir -p "${DEST}/usr/bin"
# promtool for the rule tests; the server too, for end-to-end scrapes of /metrics endpoints.
install -m 0755 "${WORK}/root/usr/bin/promtool" "${WORK}/root/usr/bin/prometheus" "${DEST}/usr/bin/"
"${PROMTOOL}" --version | head -n 1
