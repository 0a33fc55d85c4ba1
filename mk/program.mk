# mk/program.mk: how every exercise directory builds its program.
#
# The directory's name is the program's name: week05-task2-kl/ builds
# bin/week05-task2-kl from main.c and the directory's other .c files. The
# other .c files (the functions a student writes, such as kl.c) also go into
# a small library that the Check tests link against.
include $(dir $(lastword $(MAKEFILE_LIST)))../config.mk

NAME := $(notdir $(CURDIR))
OBJDIR := $(BUILD)/$(NAME)
PROG := $(BINDIR)/$(NAME)
SRCS := $(wildcard *.c)
LIBSRCS := $(filter-out main.c,$(SRCS))
LIBOBJS := $(LIBSRCS:%.c=$(OBJDIR)/%.o)
EXLIB := $(OBJDIR)/libexercise.a

ifneq ($(wildcard main.c),)
all: $(PROG)
else
all: $(EXLIB)
	@echo "$(NAME): no program yet (no main.c); nothing else to build"
endif

$(PROG): $(OBJDIR)/main.o $(EXLIB) $(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(OBJDIR)/main.o $(EXLIB) $(LIBCOMMON) $(LDLIBS)

# Always an archive, empty when the exercise has no functions of its own yet.
$(EXLIB): $(LIBOBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $(LIBOBJS)

clean:
	rm -rf $(OBJDIR) $(PROG)

.PHONY: all clean
include $(ROOT)/mk/objects.mk
