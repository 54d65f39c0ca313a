# Shared by the CLI test scripts (source it after setting T, a scratch folder).
# fail MSG: records a failure. expect_error RC PATTERN -- command...: the command
# exits RC with exactly one stderr line that matches PATTERN (extended regex)
# and carries the "gcsim CMD:" prefix once.
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

expect_error() {
  local rc=$1 pat=$2; shift 3
  "$@" >"$T/out" 2>"$T/err"; local got=$?
  [ "$got" -eq "$rc" ] || fail "$* -> exit $got, want $rc ($(cat "$T/err"))"
  [ "$(wc -l <"$T/err")" -eq 1 ] || fail "$* -> stderr is not one line: $(cat "$T/err")"
  grep -qE -- "$pat" "$T/err" || fail "$* -> stderr '$(cat "$T/err")' does not match '$pat'"
  if grep -qE -- "^gcsim ([a-z ]+): gcsim \1:" "$T/err"; then fail "$* -> doubled prefix: $(cat "$T/err")"; fi
}
