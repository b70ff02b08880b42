#!/usr/bin/env bash
# Run `ansible-test units` on a copy of the collection and fail unless it ran tests.
#
#   tools/ansible_test_units.sh VENV COLLECTION_COPY
#
# ansible-test exits 0 when pytest collected nothing (every worker crashing at start-up looks like that), so the
# count of test cases in its JUnit report must be above zero.
set -euo pipefail

venv=${1:?usage: tools/ansible_test_units.sh VENV COLLECTION_COPY}
copy=${2:?usage: tools/ansible_test_units.sh VENV COLLECTION_COPY}
version=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
report="$copy/tests/output/junit/python$version-controller-units.xml"
rm -f "$report"

echo "== ansible-test units --python $version ($copy)"
(cd "$copy" && env -u ANSIBLE_COLLECTIONS_PATH -u PYTHONPATH PATH="$venv/bin:$PATH" \
  "$venv/bin/ansible-test" units --python "$version" --color no)
[ -f "$report" ] || { echo "== ansible-test units wrote no report ($report)"; exit 1; }
ran=$("$venv/bin/python" - "$report" <<'PY'
import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
print(sum(int(suite.get("tests", 0)) - int(suite.get("skipped", 0)) for suite in suites))
PY
)
echo "== ansible-test units --python $version: $ran tests ran"
[ "$ran" -gt 0 ] || { echo "== ansible-test units ran no test"; exit 1; }
