# CRAN asks tests to use at most two threads.
withr::local_options(rwbridge.threads = 2, .local_envir = teardown_env())
