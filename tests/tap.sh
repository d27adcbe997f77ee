# TAP helpers for the shell tests (sourced): ok, is, has, and done_testing,
# which prints the plan and "N passed, N failed" and sets the exit status.
n=0
failed=0

# ok STATUS DESCRIPTION: one check from an exit status (0 passes).
ok() {
  n=$((n + 1))
  if [ "$1" -eq 0 ]; then
    echo "ok $n - $2"
  else
    echo "not ok $n - $2"
    failed=$((failed + 1))
  fi
}

# is GOT WANT DESCRIPTION: the two strings are equal.
is() {
  if [ "$1" == "$2" ]; then ok 0 "$3"; else
    ok 1 "$3"; echo "#   got '$1', expected '$2'"
  fi
}

# has FILE TEXT DESCRIPTION: FILE contains TEXT (shows FILE if not).
has() {
  if grep -qF -- "$2" "$1"; then ok 0 "$3"; else
    ok 1 "$3"; echo "#   '$2' not in $1:"; sed 's/^/#   /' "$1" | head -20
  fi
}

# done_testing: the plan and the totals; returns 1 if a check failed.
done_testing() {
  echo "1..$n"
  echo "$((n - failed)) passed, $failed failed"
  [ "$failed" -eq 0 ]
}
