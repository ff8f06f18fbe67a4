# Developer commands. The two a newcomer needs are `make demo` and `make test`;
# both install what is missing first (Debian packages via apt-get).

R_DEPS    = r-base-dev xz-utils
TEST_DEPS = $(R_DEPS) r-cran-testthat r-cran-roxygen2 r-cran-knitr r-cran-rmarkdown \
            r-cran-brio r-cran-digest r-cran-withr r-cran-processx \
            r-cran-future r-cran-future.apply r-cran-progressr \
            r-cran-robustbase r-cran-pracma \
            pandoc qpdf tidy devscripts b3sum xxhash rhash openssl zip tar python3
BENCH_DEPS = $(TEST_DEPS) r-cran-bench r-cran-openssl openssl coreutils pngquant

# numpy and bagit-python are optional: the tests and benchmarks that compare
# with them skip without them.
PY_HAS = env -u LD_LIBRARY_PATH python3 -c
PIP = env -u LD_LIBRARY_PATH python3 -m pip install --quiet

LIB   = $(CURDIR)/out/lib
RLIB  = R_LIBS="$(LIB)" R_LIBS_USER="$(LIB)"
CRATE = src/rust
VERSION = $(shell sed -n 's/^Version: //p' DESCRIPTION)
TARBALL = rwbridge_$(VERSION).tar.gz

.PHONY: demo test deps-demo deps-test install wrappers document rust-checks \
        check-generated testthat check-config release check check-debian13 bench valgrind \
        long site clean

## The main job on the bundled example data.
demo: deps-demo install
	mkdir -p out/demo
	$(RLIB) RWBRIDGE_DEMO_DIR=$(CURDIR)/out/demo \
	  Rscript -e 'demo("rwbridge", package = "rwbridge", ask = FALSE, echo = TRUE)'

## Every test: Rust checks and tests, generated files up to date, testthat,
## and the offline release build checked with R CMD check --as-cran.
test: deps-test rust-checks install check-generated testthat check-config check check-debian13

deps-demo:
	@tools/setup-debian.sh $(R_DEPS)
	@command -v cargo >/dev/null 2>&1 || [ -x "$$HOME/.cargo/bin/cargo" ] || \
	  { echo "Rust is needed: see https://rustup.rs"; exit 1; }

deps-test: deps-demo
	@tools/setup-debian.sh $(TEST_DEPS)
	@$(PY_HAS) 'import numpy' 2>/dev/null || $(PIP) numpy >/dev/null 2>&1 || \
	  echo "numpy unavailable: the comparison with numpy is skipped"
	@$(PY_HAS) 'import bagit' 2>/dev/null || $(PIP) bagit >/dev/null 2>&1 || \
	  echo "bagit-python unavailable: the interoperability tests with it are skipped"

## A developer build, kept incremental (NOT_CRAN=true), into out/lib.
install:
	mkdir -p $(LIB)
	NOT_CRAN=true $(RLIB) R CMD INSTALL --preclean --no-multiarch -l $(LIB) .

wrappers: install
	$(RLIB) Rscript tools/make-wrappers.R $(LIB)

document: install
	$(RLIB) Rscript -e 'roxygen2::roxygenise(load_code = roxygen2::load_installed)'

## Clippy checks the code against the minimum Rust version, Cargo.toml's
## rust-version, which must equal DESCRIPTION's.
MSRV = $(shell sed -n 's/.*rustc >= \([0-9.]*\).*/\1/p' DESCRIPTION)

rust-checks:
	@grep -qx 'rust-version = "$(MSRV)"' $(CRATE)/Cargo.toml || \
	  { echo "Cargo.toml's rust-version differs from DESCRIPTION's rustc >= $(MSRV)"; exit 1; }
	cd $(CRATE) && cargo fmt --check
	cd $(CRATE) && cargo clippy --all-targets --locked -- -D warnings
	cd $(CRATE) && cargo test --locked

## Fails when R/extendr-wrappers.R, NAMESPACE or man/ differ from what the
## generators make of the current sources.
check-generated:
	$(RLIB) Rscript tools/make-wrappers.R --check $(LIB)
	$(RLIB) Rscript tools/check-docs.R

## configure stops with a helpful message without cargo or with an old rustc.
check-config:
	tools/test-config.sh

testthat:
	$(RLIB) NOT_CRAN=true Rscript -e 'testthat::test_local(".", load_package = "installed", stop_on_failure = TRUE)'

## The CRAN-style release: crates vendored into src/rust/vendor.tar.xz, then
## R CMD build (the tarball carries them), so the build needs no network.
## R CMD build copies the whole folder before it drops what .Rbuildignore
## names, so it builds from a copy without out/ (the Debian 13 chroot, bench
## data), the cargo target folder and git's objects.
release: deps-test
	tools/vendor.sh
	rm -rf out/release && mkdir -p out/release/rwbridge
	tar -cf - --exclude=./out --exclude=./.git --exclude=./src/rust/target \
	  --exclude=./rwbridge.Rcheck --exclude='./*.tar.gz' . | tar -xf - -C out/release/rwbridge
	cd out/release && $(RLIB) R CMD build rwbridge
	mv out/release/$(TARBALL) .

## R CMD check --as-cran of the release tarball with cargo offline; fails on
## any ERROR or WARNING, or a tarball over CRAN's 5 MB. The testthat suite
## runs once here, in `testthat` above, whose output names the failing
## test; here it is skipped (the Debian 13 check runs it).
check: release
	@size=$$(wc -c < $(TARBALL)); echo "$(TARBALL): $$size bytes"; \
	  [ $$size -le 5000000 ] || { echo "over CRAN's 5 MB: vendor less (tools/vendor.sh)"; exit 1; }
	rm -rf rwbridge.Rcheck
	$(RLIB) CARGO_NET_OFFLINE=true _R_CHECK_CRAN_INCOMING_REMOTE_=false \
	  R CMD check --as-cran --no-manual --no-tests $(TARBALL)
	@! grep -E "^Status: .*(ERROR|WARNING)" rwbridge.Rcheck/00check.log

## The release tarball on Debian 13 (R 4.5, glibc 2.41, rustc 1.85), in a
## chroot kept under out/trixie: installed offline, R CMD check --as-cran
## with its tests, and the library built here loaded there. Needs root.
check-debian13: release install
	tools/check-debian13.sh $(TARBALL) $(LIB)/rwbridge/libs/rwbridge.so

## Benchmarks: ratios against peers measured in the same run (bench/README.md).
## Data go to out/bench (about 3 GB).
bench: deps-test install
	@tools/setup-debian.sh $(BENCH_DEPS)
	mkdir -p out/bench
	$(RLIB) RWB_BENCH_DIR=$(CURDIR)/out/bench RWB_BENCH_RESULTS=$(CURDIR)/bench/results.csv \
	  Rscript bench/run-all.R

## The testthat suite under valgrind memcheck; fails on a leak in rwbridge.
valgrind: deps-test install
	@tools/setup-debian.sh valgrind
	tools/valgrind.sh $(LIB)

## Long-vector tests (about 20 GB of memory): readit() past 2 GiB,
## detect_outliers() past 2^31 - 1 elements.
long: deps-test install
	$(RLIB) RWB_LONG=1 NOT_CRAN=true Rscript -e 'testthat::test_local(".", filter = "long", load_package = "installed", stop_on_failure = TRUE)'

## The pkgdown site in docs/, checked in headless Chromium.
site: deps-test install
	@tools/setup-debian.sh r-cran-pkgdown chromium
	$(RLIB) Rscript -e 'options(pkgdown.internet = FALSE); pkgdown::build_site(".", install = FALSE, new_process = FALSE)'
	tools/check-site.sh

clean:
	rm -rf out rwbridge.Rcheck $(TARBALL) $(CRATE)/target $(CRATE)/vendor.tar.xz src/*.o src/*.so
