#!/usr/bin/env bash
# make demo: start an emulated Windows fleet, run the collection's playbooks against it over WinRM,
# print the result, stop the fleet.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
FLEET=${FLEET:-tests/emulator/fleets/demo.yml}
work=$(mktemp -d)
emulator_pid=""
cleanup() {
  if [ -n "$emulator_pid" ] && kill -0 "$emulator_pid" 2>/dev/null; then
    if kill -TERM "$emulator_pid"; then
      wait "$emulator_pid" || true
    fi
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# VENV may be absolute (make passes $(CURDIR)/.venv) or relative to the checkout.
case "$VENV" in
  /*) ;;
  *) VENV="$PWD/$VENV" ;;
esac
export PATH="$VENV/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$PWD/build/collections"
export ANSIBLE_HOME="$work/ansible-home" ANSIBLE_LOCAL_TEMP="$work/ansible-tmp"
export ANSIBLE_RETRY_FILES_ENABLED=false ANSIBLE_FORKS=20
mkdir -p build/collections/ansible_collections/winact
[ -e build/collections/ansible_collections/winact/kms ] || ln -s "$PWD" build/collections/ansible_collections/winact/kms

echo "== Starting the emulated fleet ($FLEET)"
python tests/emulator/winemu serve --fleet "$FLEET" --inventory "$work/inventory.yml" >"$work/ready" 2>"$work/winemu.log" &
emulator_pid=$!
for _ in $(seq 1 600); do
  grep -qx ready "$work/ready" 2>/dev/null && break
  kill -0 "$emulator_pid" 2>/dev/null || { cat "$work/winemu.log"; exit 1; }
  sleep 0.1
done
grep -qx ready "$work/ready" || { echo "emulator did not start"; cat "$work/winemu.log"; exit 1; }
echo "   $(python -c 'import sys, yaml; print(len(yaml.safe_load(open(sys.argv[1]))["all"]["hosts"]))' "$work/inventory.yml") hosts listening on 127.0.0.1"

for step in ${DEMO_PLAYBOOKS:-report}; do
  echo
  echo "== ansible-playbook winact.kms.$step"
  ansible-playbook -i "$work/inventory.yml" "playbooks/$step.yml"
done
