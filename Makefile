# The course repository's Makefile. The everyday commands:
#
#   make test        install what is missing, build everything, run the Check suites
#   make             build every program into bin/
#   make data        put Fashion-MNIST in data/fashion-mnist (or use $FASHION_MNIST_DIR)
#   make clean       remove everything built or generated
#
# Variants (see config.mk): SANITIZE=1, BLAS=gsl, WERROR=1.
include config.mk

.PHONY: all deps programs test data sample clean help

all: deps
	@$(MAKE) --no-print-directory programs

# Installs the system packages only when pkg-config or gnuplot says one is missing.
deps:
	@scripts/check-deps.sh --quiet || scripts/install-deps.sh

programs:
	@$(MAKE) --no-print-directory -C common
	@for d in $(EXERCISES); do $(MAKE) --no-print-directory -C $$d || exit 1; done

test: deps
	@$(MAKE) --no-print-directory programs
	@$(MAKE) --no-print-directory -C tests run

data:
	@scripts/get-data.sh

# Rebuilds data/sample from a full copy (maintainers only; the sample is committed).
sample:
	@$(MAKE) --no-print-directory -C common
	@LIBCOMMON='$(LIBCOMMON)' LDLIBS='$(LDLIBS)' CC='$(CC)' scripts/make-sample.sh

clean:
	rm -rf build bin out

help:
	@sed -n '1,12p' Makefile
