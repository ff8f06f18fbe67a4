#!/bin/sh
# Runs the testthat suite under valgrind memcheck (R -d valgrind) and fails
# when a definite or indirect leak has rwbridge's code on its stack. R itself
# keeps some memory until exit; those records are counted but not blamed.
# Usage: tools/valgrind.sh LIBRARY   (where rwbridge is installed)
set -eu
lib="$1"
mkdir -p out
log="out/valgrind.log"
R_LIBS="$lib" R -d "valgrind --leak-check=full --show-leak-kinds=definite,indirect \
  --num-callers=50 --log-file=$log" --vanilla --no-echo -e \
  'testthat::test_dir("tests/testthat", package = "rwbridge", load_package = "installed", stop_on_failure = TRUE)'

# One record per "are definitely/indirectly lost" block, up to the blank line.
awk '
  /are (definitely|indirectly) lost/ { inrec = 1; rec = $0; next }
  inrec && /^==[0-9]+== *$/ { inrec = 0; if (rec ~ /rwbridge/) { blamed++; print rec "\n" }; total++; next }
  inrec { rec = rec "\n" $0 }
  END { printf "leak records: %d definite or indirect, %d with rwbridge on the stack\n", total, blamed;
        exit blamed > 0 }
' "$log"
grep -A6 "LEAK SUMMARY" "$log" | sed 's/^==[0-9]*== //'
grep "ERROR SUMMARY" "$log" | sed 's/^==[0-9]*== //'
