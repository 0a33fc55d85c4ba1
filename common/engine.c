/* engine.c: see engine.h. */
#include "engine.h"

static int plain_only;

void engine_set_plain(int plain) { plain_only = plain != 0; }

int engine_plain(void) { return plain_only; }

const char *engine_name(void) { return plain_only ? "plain" : "fast"; }
