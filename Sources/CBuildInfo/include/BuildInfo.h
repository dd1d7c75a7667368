// The git commit the binary was built from, set by Package.swift from the
// WORKOS_DSYNC_COMMIT environment variable at build time ("unknown" without it).
#pragma once

const char *workos_dsync_build_commit(void);
