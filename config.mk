# config.mk: compiler, flags and libraries, shared by every Makefile in the tree.
#
#   make                 release build: programs in bin/, objects in build/release/
#   make SANITIZE=1      AddressSanitizer + UndefinedBehaviorSanitizer (build/sanitize/)
#   make BLAS=gsl        GSL's own CBLAS instead of OpenBLAS (build/release-gslblas/)
#   make WERROR=1        turn every compiler warning into an error (CI uses it)
#   make O=DIR           build into DIR/<variant>/ (programs in DIR/<variant>/bin/)

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))

EXERCISES := week05-task1 week05-task2-kl week05-task3-transposed week05-task4-ae vae-elbo vae-reparam

SANITIZE ?= 0
BLAS ?= openblas
WERROR ?= 0

VARIANT := release
ifeq ($(SANITIZE),1)
  VARIANT := sanitize
endif
ifeq ($(BLAS),gsl)
  VARIANT := $(VARIANT)-gslblas
endif
# The default build puts programs in bin/; the others keep theirs beside their objects.
ifdef O
  BUILD := $(abspath $(O))/$(VARIANT)
  BINDIR := $(BUILD)/bin
else
  BUILD := $(ROOT)/build/$(VARIANT)
  ifeq ($(VARIANT),release)
    BINDIR := $(ROOT)/bin
  else
    BINDIR := $(BUILD)/bin
  endif
endif

CC ?= cc
CFLAGS := -std=c11 -Wall -Wextra -O2 -g -D_DEFAULT_SOURCE
CFLAGS += $(shell pkg-config --cflags gsl zlib 2>/dev/null)
CFLAGS += -DAE_ROOT='"$(ROOT)"'
LDLIBS := $(shell pkg-config --libs-only-L gsl 2>/dev/null) -lgsl

ifeq ($(BLAS),gsl)
  LDLIBS += -lgslcblas
else ifeq ($(BLAS),openblas)
  CFLAGS += -DAE_OPENBLAS
  LDLIBS += $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
else
  $(error BLAS must be openblas or gsl, not '$(BLAS)')
endif
LDLIBS += $(shell pkg-config --libs zlib 2>/dev/null || echo -lz) -lm -lpthread

ifeq ($(SANITIZE),1)
  SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  CFLAGS += $(SANFLAGS)
  LDFLAGS += $(SANFLAGS)
endif
ifeq ($(WERROR),1)
  CFLAGS += -Werror
endif

CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

LIBCOMMON := $(BUILD)/common/libcommon.a
