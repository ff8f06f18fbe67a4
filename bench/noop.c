/* The baseline for call overhead: a bare .Call into C that does nothing. */
#include <Rinternals.h>
SEXP rwbridge_bench_noop(void) { return R_NilValue; }
