#!/usr/bin/env bash
# Install the real local services that the integration tests (tests/integration) start:
#   * pgvector for the machine's PostgreSQL 15 (built from the Debian trixie source package,
#     because bookworm ships no pgvector package),
#   * Azurite (blob service only is used) from npm, into the project-local prefix .tools/node,
#   * MLflow and the Python clients used by the tests, into the project's .venv
#     (requirements-integration.txt; checked not to move any pin of the main project).
#
# Idempotent: every step checks what is already there and skips itself, so a second run
# takes a few seconds. Needs root (or sudo) for apt and for installing into PostgreSQL's dirs.
# Runs `apt-get update` at most once, and only when an install needs it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

PG_MAJOR="15"
PG_BIN="/usr/lib/postgresql/${PG_MAJOR}/bin"
PG_CONFIG="${PG_BIN}/pg_config"
# Debian suite whose pgvector *source* package is built against PostgreSQL ${PG_MAJOR} here.
PGVECTOR_SUITE="trixie"
PGVECTOR_KEYRING="/usr/share/keyrings/debian-archive-keyring.gpg"

AZURITE_VERSION="3.37.0"
NODE_PREFIX="${ROOT}/.tools/node"

VENV="${ROOT}/.venv"
REQUIREMENTS="${ROOT}/requirements-integration.txt"

SUDO=""
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "install-services: needs root (or sudo) for apt-get and make install" >&2
    exit 1
  fi
fi

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
# apt helpers
# ---------------------------------------------------------------------------------------------
APT_UPDATED=0
apt_update_once() {
  if [[ "${APT_UPDATED}" -eq 0 ]]; then
    log "apt-get update"
    run_logged "apt-get update" ${SUDO} apt-get update
    APT_UPDATED=1
  fi
}

is_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

# apt_install PKG...: installs the packages that are missing; on failure (no candidate, or a
# stale package list that 404s) runs `apt-get update` once and tries again.
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    is_installed "${pkg}" || missing+=("${pkg}")
  done
  [[ "${#missing[@]}" -eq 0 ]] && return 0
  log "apt-get install ${missing[*]}"
  local cmd=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends)
  if ! run_logged "apt-get install" ${SUDO} "${cmd[@]}" "${missing[@]}"; then
    if [[ "${APT_UPDATED}" -eq 1 ]]; then
      return 1
    fi
    log "install failed; retrying after apt-get update"
    apt_update_once
    run_logged "apt-get install" ${SUDO} "${cmd[@]}" "${missing[@]}"
  fi
}

# The URI of the Debian archive this machine already uses (so no mirror is hard-coded here).
debian_archive_uri() {
  local uri
  # shellcheck disable=SC2016  # $(...) here is apt's format syntax, not the shell's
  uri="$(apt-get indextargets --format '$(REPO_URI) $(TARGET_OF) $(COMPONENT) $(RELEASE)' \
    | awk '$2 == "deb" && $3 == "main" && $4 !~ /security/ { print $1; exit }')"
  if [[ -z "${uri}" ]]; then
    # No package list downloaded yet: read the configured sources instead.
    uri="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
      /etc/apt/sources.list.d/*.sources 2>/dev/null | sed 's/#.*//' \
      | grep -Eo '(https?|mirror\+https?)://[^ ]*/debian/?' | grep -v security | head -n1 || true)"
  fi
  if [[ -z "${uri}" ]]; then
    echo "install-services: could not find the Debian archive URI in the apt sources" >&2
    return 1
  fi
  printf '%s\n' "${uri%/}/"
}

# ---------------------------------------------------------------------------------------------
# 1. PostgreSQL 15 + pgvector
# ---------------------------------------------------------------------------------------------
install_postgres() {
  local t0 bin absent=0
  t0="$(now)"
  for bin in postgres initdb pg_ctl pg_isready pg_config; do
    [[ -x "${PG_BIN}/${bin}" ]] || absent=1
  done
  if [[ "${absent}" -eq 1 ]]; then
    apt_install "postgresql-${PG_MAJOR}" "postgresql-client-${PG_MAJOR}"
    record postgres "${t0}" "installed postgresql-${PG_MAJOR}"
  else
    record postgres "${t0}" "present: $("${PG_BIN}/postgres" --version)"
  fi
}

install_pgvector() {
  local t0 ext_dir lib_dir
  t0="$(now)"
  ext_dir="$("${PG_CONFIG}" --sharedir)/extension"
  lib_dir="$("${PG_CONFIG}" --pkglibdir)"
  if [[ -f "${ext_dir}/vector.control" && -f "${lib_dir}/vector.so" ]]; then
    record pgvector "${t0}" "present: $(grep -E '^default_version' "${ext_dir}/vector.control")"
    return 0
  fi

  apt_install "postgresql-server-dev-${PG_MAJOR}" make gcc dpkg-dev

  local work uri
  work="$(mktemp -d /tmp/pgvector-build.XXXXXX)"
  CLEANUP_PATHS+=("${work}")
  uri="$(debian_archive_uri)"
  mkdir -p "${work}/lists/partial" "${work}/cache/archives/partial" "${work}/parts" "${work}/src"
  printf 'deb-src [signed-by=%s] %s %s main\n' "${PGVECTOR_KEYRING}" "${uri}" \
    "${PGVECTOR_SUITE}" >"${work}/sources.list"
  # A private apt configuration: its own sources, lists and caches; the system's are untouched.
  local apt_private=(
    -o "Dir::Etc::SourceList=${work}/sources.list"
    -o "Dir::Etc::SourceParts=${work}/parts"
    -o "Dir::State::Lists=${work}/lists"
    -o "Dir::Cache=${work}/cache"
    -o "Acquire::Languages=none"
    -o "APT::Sandbox::User=root"
  )
  log "fetching the pgvector source package from ${PGVECTOR_SUITE}"
  run_logged "apt-get update (private ${PGVECTOR_SUITE} deb-src list)" \
    apt-get "${apt_private[@]}" update
  pushd "${work}/src" >/dev/null
  run_logged "apt-get source pgvector" apt-get "${apt_private[@]}" source --download-only pgvector
  popd >/dev/null
  local dsc
  dsc="$(find "${work}/src" -maxdepth 1 -name 'pgvector_*.dsc' | head -n1)"
  [[ -n "${dsc}" ]] || { echo "install-services: no pgvector .dsc downloaded" >&2; return 1; }
  run_logged "dpkg-source -x" dpkg-source --no-check -x "${dsc}" "${work}/pgvector"

  log "building $(basename "${dsc}" .dsc) against $("${PG_CONFIG}" --version)"
  run_logged "make (pgvector)" \
    make -C "${work}/pgvector" PG_CONFIG="${PG_CONFIG}" OPTFLAGS="" -j"$(nproc)"
  run_logged "make install (pgvector)" \
    ${SUDO} make -C "${work}/pgvector" PG_CONFIG="${PG_CONFIG}" OPTFLAGS="" install

  if [[ ! -f "${ext_dir}/vector.control" ]]; then
    echo "install-services: pgvector built but ${ext_dir}/vector.control is missing" >&2
    return 1
  fi
  record pgvector "${t0}" "built $(basename "${dsc}" .dsc) ($(grep -E '^default_version' \
    "${ext_dir}/vector.control"))"
}

# ---------------------------------------------------------------------------------------------
# 2. Azurite (npm, project-local prefix)
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
  if ! command -v npm >/dev/null 2>&1; then
    apt_install nodejs
    command -v npm >/dev/null 2>&1 || apt_install npm
  fi
  log "npm install azurite@${AZURITE_VERSION} into ${NODE_PREFIX}"
  mkdir -p "${NODE_PREFIX}"
  run_logged "npm install azurite" npm install --global --prefix "${NODE_PREFIX}" \
    --no-audit --no-fund --loglevel=error "azurite@${AZURITE_VERSION}"
  "${NODE_PREFIX}/bin/azurite-blob" --version >/dev/null
  record azurite "${t0}" "installed azurite@${AZURITE_VERSION}"
}

# ---------------------------------------------------------------------------------------------
# 3. MLflow and the test clients, into the main .venv
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

install_postgres
install_pgvector
install_azurite
install_python_deps

log "timings:"
for line in "${TIMINGS[@]}"; do
  log "  ${line}"
done
log "  total      $(printf '%6s' "$(elapsed "${SCRIPT_START}")") s"
