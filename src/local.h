/*
 * local.h - the database side of a local cluster (cluster/ builds the
 * namespaces and sshds and knows nothing of databases): set the database
 * up over SSH once the nodes answer, and the status of every node as the
 * controller sees it.
 */
#ifndef FAULTLINE_LOCAL_H
#define FAULTLINE_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Set database db up on every node of local cluster name, over SSH. */
int local_db_setup(const char *name, const char *db, char *err, size_t errlen);
/* Print the cluster's node status (a table, or JSON); 0 all healthy,
 * 1 some unhealthy, -1 the cluster is not up. */
int local_status(const char *name, bool as_json, FILE *out);

#endif
