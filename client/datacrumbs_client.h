/* SPDX-License-Identifier: MIT */
/*
 * The datacrumbs client: how a process opts in to a datacrumbs-run server
 * (datacrumbs-run --server). The server watches these functions with
 * uprobes, so calling them is all there is: no connection, no messages,
 * nothing to configure, and a no-op when no server runs.
 *
 * Loading the library opts in already (its constructor calls
 * datacrumbs_client_start()), so LD_PRELOAD=libdatacrumbs-client.so is
 * enough; a program linked with -ldatacrumbs-client may also call these to
 * opt out and back in around the parts it wants traced.
 */
#ifndef DATACRUMBS_CLIENT_H
#define DATACRUMBS_CLIENT_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Asks a server to trace this process, all its threads, and the processes
 * it starts from now on. Returns 0.
 */
int datacrumbs_client_start(void);

/*
 * Asks a server to stop tracing this process; processes it started before
 * stay traced. Returns 0.
 */
int datacrumbs_client_stop(void);

#ifdef __cplusplus
}
#endif

#endif
