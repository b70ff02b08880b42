#!/usr/bin/env bash
# Run `ansible-test windows-integration` on tests/integration/targets against an emulated fleet.
#
#   tools/ansible_test_windows.sh VENV COLLECTION_COPY [EMULATOR_PYTHON]
#
# COLLECTION_COPY is a copy of the checkout at .../ansible_collections/winact/kms (`make sanity-copy`). The
# emulator serves tests/integration/fleets/ansible_test.yml and writes the inventory ansible-test reads; the
# targets run unchanged against real Windows with an inventory of your own (docs/testing.md). Fails when
# ansible-test fails or ran no target.
set -euo pipefail

venv=${1:?usage: tools/ansible_test_windows.sh VENV COLLECTION_COPY}
copy=${2:?usage: tools/ansible_test_windows.sh VENV COLLECTION_COPY}
py="$venv/bin/python"
# The emulated fleet is a test fixture with its own needs (pyspnego's NTLM acceptor, psrpcore): it may run on
# another interpreter than the one under test (the oldest end of the version matrix passes the dev venv's).
emulator_py=${3:-$py}
version=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
inventory="$copy/tests/integration/inventory.winrm"
emulator_inventory="$copy/tests/output/winemu-inventory.yml"
log="$copy/tests/output/winemu.log"
mkdir -p "$copy/tests/output"

ready=$(mktemp)
"$emulator_py" "$copy/tests/emulator/winemu" serve --fleet "$copy/tests/integration/fleets/ansible_test.yml" \
  --inventory "$emulator_inventory" >"$ready" 2>"$log" &
emulator=$!
trap 'kill "$emulator" 2>/dev/null || true; wait "$emulator" 2>/dev/null || true; rm -f "$ready"' EXIT
for _ in $(seq 1 600); do
  grep -qx ready "$ready" && break
  kill -0 "$emulator" 2>/dev/null || { echo "emulator did not start:"; cat "$log"; exit 1; }
  sleep 0.1
done
grep -qx ready "$ready" || { echo "emulator not ready after 60 s"; exit 1; }
"$emulator_py" "$(dirname "$0")/winemu_ini_inventory.py" "$emulator_inventory" "$inventory"

echo "== ansible-test windows-integration --python $version (emulated fleet, $copy)"
rc=0
(cd "$copy" && env -u ANSIBLE_COLLECTIONS_PATH PATH="$venv/bin:$PATH" \
  "$venv/bin/ansible-test" windows-integration --python "$version" --color no --inventory "$inventory" -v) \
  | tee "$copy/tests/output/windows-integration.log" || rc=$?
[ "$rc" -eq 0 ] || exit "$rc"
ran=$(grep -c '^Running .* integration test role$' "$copy/tests/output/windows-integration.log" || true)
echo "== ansible-test windows-integration: $ran targets passed"
[ "$ran" -gt 0 ] || { echo "== ansible-test windows-integration ran no target"; exit 1; }
