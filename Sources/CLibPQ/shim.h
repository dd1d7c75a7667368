#ifndef WORKOS_DSYNC_CLIBPQ_SHIM_H
#define WORKOS_DSYNC_CLIBPQ_SHIM_H

#include <libpq-fe.h>

#endif
