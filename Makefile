# The course repository's Makefile. The everyday commands:
#
#   make figures     run every exercise, draw every figure, write REPORT.md
#   make test        install what is missing, build everything, run the Check suites
#   make             build every program into bin/
#   make grade       grade this checkout (or SUBMISSION=DIR) against solutions/
#   make student     write the student edition (DEST=DIR): the exercises to fill in
#   make grade-all   grade a class (SUBMISSIONS="DIR ...") into one table
#   make docs        refresh each README's results, file and line-count blocks
#   make bench       time training against PyTorch (bench/README.md)
#   make fuzz        fuzz every parser with libFuzzer (FUZZ_SECONDS=60 each; needs clang)
#   make data        put Fashion-MNIST in data/fashion-mnist (or use $FASHION_MNIST_DIR)
#   make clean       remove everything built or generated
#
# Variants (see config.mk): SANITIZE=1, BLAS=gsl, WERROR=1, O=DIR.
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

# make grade [SUBMISSION=DIR]: grades this checkout, or the one in DIR, against the reference
# solutions; tables on the terminal and in grade-report.md (see solutions/README.md).
.PHONY: grade grade-all student
grade:
	@if [ -x solutions/grade.sh ]; then solutions/grade.sh $(SUBMISSION); else \
	  echo "make grade: the grader and its reference solutions are not part of the student edition." >&2; \
	  echo "  Check your work with the exercise's program and 'make test'; your course grades what you hand in." >&2; \
	  exit 2; fi

# make grade-all SUBMISSIONS="DIR ...": every submission graded, one class table in out/grade-all/.
grade-all:
	@if [ -x solutions/grade-all.sh ]; then solutions/grade-all.sh $(SUBMISSIONS); else \
	  echo "make grade-all: the grader is not part of the student edition." >&2; exit 2; fi

# make student DEST=DIR: the student edition (scripts/student-edition.sh; solutions/README.md).
student:
	@scripts/student-edition.sh $(DEST)

# make figures [FORCE=1] [SEED=N] [ONLY="dir ..."]: builds, finds the data, runs every exercise
# (skipping runs that did not change; FORCE=1 reruns all) and writes REPORT.md (scripts/figures.sh).
# make docs: rewrites each README's results block from its out/<dir>/results.tsv, its file
# blocks from the files they name, and its line-count blocks from the code (scripts/docs.sh).
.PHONY: figures docs
figures: deps
	@MAKE='$(MAKE)' FORCE='$(FORCE)' SEED='$(SEED)' scripts/figures.sh --bin '$(BINDIR)' --only '$(ONLY)'

docs:
	@scripts/docs.sh

# make bench: trains models A and B and the dense VAE with PyTorch and with this repository's
# code, one run after the other, and prints the time ratios, losses and peak memory (bench/README.md).
# make fuzz [FUZZ_SECONDS=60] [FUZZ_ONLY="idx layers"]: every parser fuzzed with libFuzzer (fuzz/Makefile)
.PHONY: fuzz
fuzz:
	@scripts/install-deps.sh --fuzz
	@$(MAKE) --no-print-directory -C fuzz run FUZZ_SECONDS='$(or $(FUZZ_SECONDS),60)' \
	  $(if $(FUZZ_ONLY),FUZZ_ONLY='$(FUZZ_ONLY)')

.PHONY: bench
bench: all
	@if [ -d bench ]; then $(MAKE) --no-print-directory -C bench run; \
	 else echo "make bench: bench/ is not part of the student edition (the full repository has it)"; exit 2; fi

clean:
	rm -rf build bin out REPORT.md report.html grade-report.md grade-report.tsv

help:
	@sed -n '1,15p' Makefile
