#!/usr/bin/env bash
# Keeps Catch2 case names discoverable: catch_discover_tests registers each
# case under its name and runs it with the name as a test spec, so a name must
# not hold characters that CMake lists or Catch2 test specs give a meaning to:
#   ;  [  ]  (CMake list separator and bracket grouping: they merged 108 cases
#            into one CTest entry that ran nothing)
#   ,  *  \  "  (Catch2 spec: alternatives, wildcard, escape, quoting)
#   a leading ~ (exclusion), leading or trailing blanks, and names that differ
#   only in case (specs match case-insensitively: one entry would run two).
# Usage: check_test_names.sh CATCH_BINARY...
set -euo pipefail
bad=0
for bin in "$@"; do
  names=$("$bin" --list-test-names-only) || true
  count=$(printf '%s\n' "$names" | grep -c . || true)
  if [ "$count" -eq 0 ]; then
    echo "check_test_names: $bin lists no test cases" >&2; bad=1; continue
  fi
  if offending=$(printf '%s\n' "$names" | grep -n -e '[][;,*\\"]' -e '^~' -e '^[[:space:]]' -e '[[:space:]]$'); then
    echo "check_test_names: $bin: names that break CTest discovery or Catch2 specs:" >&2
    printf '  %s\n' "$offending" >&2; bad=1
  fi
  if dups=$(printf '%s\n' "$names" | tr '[:upper:]' '[:lower:]' | sort | uniq -d | grep .); then
    echo "check_test_names: $bin: names equal up to case:" >&2
    printf '  %s\n' "$dups" >&2; bad=1
  fi
  echo "check_test_names: $bin: $count names"
done
exit $bad
