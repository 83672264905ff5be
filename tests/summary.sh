#!/bin/sh
# Adds up the automake test logs (*.trs) under $1 and prints one line:
#   N passed, N failed, N skipped
# Counts individual TAP results, not test programs.  Exits 1 if any failed.
top=${1:-.}
find "$top" -name '*.trs' -print0 | xargs -0 -r cat | awk '
  /^:test-result: PASS/  { p++ }
  /^:test-result: XFAIL/ { p++ }
  /^:test-result: FAIL/  { f++ }
  /^:test-result: XPASS/ { f++ }
  /^:test-result: ERROR/ { f++ }
  /^:test-result: SKIP/  { s++ }
  END {
    printf "%d passed, %d failed, %d skipped\n", p, f, s
    exit (f > 0)
  }'
