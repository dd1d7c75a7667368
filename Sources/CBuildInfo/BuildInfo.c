#include "BuildInfo.h"

#ifndef WORKOS_DSYNC_COMMIT
#define WORKOS_DSYNC_COMMIT "unknown"
#endif

const char *workos_dsync_build_commit(void) { return WORKOS_DSYNC_COMMIT; }
