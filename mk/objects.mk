# mk/objects.mk: what every folder that builds a program on top of common/ shares (included by
# mk/program.mk and bench/Makefile, after they set OBJDIR): its .c files compiled into OBJDIR
# against common/'s headers, with dependency files, and common/'s library made first.

$(OBJDIR)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -I$(ROOT)/common -MMD -MP -c $< -o $@

$(LIBCOMMON): FORCE
	@$(MAKE) --no-print-directory -C $(ROOT)/common

FORCE:
.PHONY: FORCE
-include $(OBJDIR)/*.d
