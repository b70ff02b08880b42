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

# VENV may be absolute (VENV=/opt/kms-venv make demo) or relative to the checkout.
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
echo "   WinRM as Windows configures it by default: NTLM with message encryption over HTTP; Basic and plaintext are refused"

# The demo's clients find the KMS host through DNS auto-discovery, an explicit choice of the kms_client role.
playbook() {
  ansible-playbook -i "$work/inventory.yml" "playbooks/$1.yml" -e kms_client_dns_discovery=true "${@:2}"
}
phase() {
  echo
  echo "================================================================================"
  echo "== $*"
  echo "================================================================================"
}
winemu() {
  python tests/emulator/winemu "$1" --inventory "$work/inventory.yml" "${@:2}"
}

phase "1. Before: licensing report (winact.kms.report)"
playbook report -e winact_report_dir="$PWD/build/demo/report-before"

phase "2. Configure the KMS host and its clients, install GVLKs, activate (winact.kms.site)"
echo "   kms01 is a fresh KMS host (count 0): the first pass of requests builds its count (0xC004F038 is"
echo "   recorded, not fatal), the second pass activates the clients refused before."
echo "   srv2016's clock runs 5 hours ahead: its activation is expected to fail, explained."
if playbook site | tee "$work/site1.log"; then
  echo "!! srv2016 was expected to fail its clock preflight check"; exit 1
fi
grep -q "0xC004F06C" "$work/site1.log" || { echo "!! the clock skew was not explained"; exit 1; }
grep -q "Activate (second pass" "$work/site1.log" || { echo "!! no second activation pass ran"; exit 1; }

phase "3. Fix srv2016's time source (winact.kms.time_source), then converge"
ansible srv2016 -i "$work/inventory.yml" -m winact.kms.time_source -a '{"servers": ["time.corp.example.com"]}'
playbook site --limit srv2016

phase "4. Second run of winact.kms.site: nothing left to change"
playbook site | tee "$work/site2.log"
if grep -E "changed=[1-9]" "$work/site2.log"; then
  echo "!! the second run changed something"; exit 1
fi
echo "   second run: changed=0 on every host"

phase "5. Someone points w11pro at another KMS host by hand (slmgr /skms rogue-kms.example.net)"
winemu invoke w11pro SoftwareLicensingService SetKeyManagementServiceMachine --param MachineName=rogue-kms.example.net

phase "6. Drift gate: winact.kms.drift (check mode + diff, zero writes, fails on drift)"
before=$(winemu stats | python -c 'import json, sys; print(sum(h["writes"] for h in json.load(sys.stdin).values()))')
if playbook drift -e winact_drift_report_dir="$PWD/build/demo/drift" | tee "$work/drift.log"; then
  echo "!! the drift gate passed despite the drift"; exit 1
fi
after=$(winemu stats | python -c 'import json, sys; print(sum(h["writes"] for h in json.load(sys.stdin).values()))')
grep -q "rogue-kms.example.net" "$work/drift.log" || { echo "!! the drift was not reported"; exit 1; }
echo "   the gate failed on the drift, as it should; writes during the drift check: $((after - before))"
echo "   drift report: build/demo/drift/drift.json, JUnit: build/demo/drift/drift.xml"

phase "7. After: licensing report (winact.kms.report: lines, an HTML page and its JSON)"
playbook report -e winact_report_dir="$PWD/build/demo/report"
echo "   report page: $PWD/build/demo/report/report.html (data: build/demo/report/report.json)"
