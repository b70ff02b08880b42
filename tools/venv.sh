#!/usr/bin/env bash
# Create or refresh the development virtualenv given as $1.
#
# New venvs use the newest CPython found among 3.13 and 3.12 (tool chain: requirements/dev-py312.txt,
# ansible-core 2.21); with neither, 3.11 (requirements/dev-py311.txt, ansible-core 2.19, the last line whose
# controller runs on 3.11). An existing working venv is kept whatever its version, as long as one of those
# files fits it. Requirements are installed only when the file's content changed since the last install
# (stamp inside the venv), so a rerun costs one hash.
#
# `tools/venv.sh VENV_DIR MINOR REQUIREMENTS` makes a venv of the version matrix instead: CPython MINOR only
# (e.g. 3.11) with REQUIREMENTS (e.g. requirements/matrix-oldest.txt).
set -euo pipefail

venv=${1:?usage: tools/venv.sh VENV_DIR [MINOR REQUIREMENTS]}
only_minor=${2:-}
fixed_requirements=${3:-}
root=$(cd "$(dirname "$0")/.." && pwd)
stamp="$venv/.winact-requirements"

log() { printf 'venv: %s\n' "$*" >&2; }

# Prints "X.Y" when $1 runs and can build a venv with pip; fails otherwise. A bare pyenv shim exists in
# PATH for every version pyenv knows but fails unless that version is selected, hence the real run.
usable_version() {
  "$1" -c 'import sys, venv, ensurepip; print("%d.%d" % sys.version_info[:2])' 2>/dev/null
}

runs() { "$1" -c 'import sys' >/dev/null 2>&1; }

pyenv_root() {
  if command -v pyenv >/dev/null 2>&1; then
    pyenv root 2>/dev/null && return
  fi
  printf '%s\n' "${PYENV_ROOT:-$HOME/.pyenv}"
}

# Interpreters worth trying for minor version $1, best first.
candidates_for() {
  local minor=$1 found
  found=$(command -v "python$minor" 2>/dev/null || true)
  [ -n "$found" ] && printf '%s\n' "$found"
  # Newest patch release first.
  # shellcheck disable=SC2012
  ls -d "$(pyenv_root)"/versions/"$minor".*/bin/"python$minor" 2>/dev/null | sort -rV || true
  printf '%s\n' "/usr/local/bin/python$minor" "/usr/bin/python$minor"
}

pick_python() {
  local minor candidate
  for minor in ${only_minor:-3.13 3.12 3.11}; do
    while IFS= read -r candidate; do
      [ -x "$candidate" ] || continue
      if [ "$(usable_version "$candidate" || true)" = "$minor" ]; then
        printf '%s\n' "$candidate"
        return 0
      fi
      # Debian splits venv/ensurepip into python3.X-venv; install it when that is all that is missing.
      if runs "$candidate" && [ "${candidate#/usr/bin/}" != "$candidate" ] && command -v apt-get >/dev/null \
        && [ "$(id -u)" = 0 ]; then
        log "$candidate lacks venv/ensurepip: installing python$minor-venv"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "python$minor-venv" >&2 \
          || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "python$minor-venv" >&2; } \
          || continue
        if [ "$(usable_version "$candidate" || true)" = "$minor" ]; then
          printf '%s\n' "$candidate"
          return 0
        fi
      fi
    done < <(candidates_for "$minor" | awk '!seen[$0]++')
  done
  return 1
}

if [ -e "$venv" ] && ! runs "$venv/bin/python"; then
  log "$venv exists but its python does not run: recreating it"
  rm -rf "$venv"
fi

if [ ! -e "$venv/bin/python" ]; then
  python=$(pick_python) || {
    log "no usable CPython ${only_minor:-3.13, 3.12 or 3.11} found (PATH, $(pyenv_root)/versions, /usr/bin)"
    exit 1
  }
  log "creating $venv with $python ($("$python" -V 2>&1))"
  "$python" -m venv "$venv"
fi

version=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
case ${fixed_requirements:+fixed}$version in
  fixed*) requirements=$fixed_requirements ;;
  3.1[2-9]) requirements=requirements/dev-py312.txt ;;
  3.11) requirements=requirements/dev-py311.txt ;;
  *)
    log "$venv runs Python $version; 3.11 or newer is required (remove $venv to recreate it)"
    exit 1
    ;;
esac

# The stamp names the file and the hash of everything it pulls in (runtime.txt via -r).
want="$requirements $(cat "$root/$requirements" "$root/requirements/runtime.txt" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" = "$want" ]; then
  exit 0
fi

log "installing $requirements into $venv (Python $version)"
# -qq: errors only (pip's warnings about unreachable extra index locations are noise here).
"$venv/bin/python" -m pip install --disable-pip-version-check -qq -r "$root/$requirements"
printf '%s\n' "$want" >"$stamp"
