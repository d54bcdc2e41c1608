/*
 * custom.h - what custom.c (the command-defined databases "custom" and
 * "none") shares with its unit tests: how a command template from db_opts
 * becomes the text sent to a node.
 */
#ifndef FAULTLINE_CUSTOM_H
#define FAULTLINE_CUSTOM_H

#include <stdbool.h>

#include "util.h"

struct test;

/* Append tmpl to out with {node}, {host}, {nodes} (every node's host,
 * comma-separated), {workdir}, {pidfile} and {port} of node replaced:
 * shell-quoted when quote is set (commands), as they are otherwise
 * (paths: pidfile, logs). Any other text, braces included, is copied. */
void custom_expand(struct buf *out, const char *tmpl, const struct test *t, int node, bool quote);

/* The whole script db operation op sends to node: "pid" (prints the
 * pidfile's pid while it is still the process first seen under it, else
 * -1), "kill", "pause", "resume" (db_opts' command if given, else the
 * signal to that pid; kill waits until the process is gone). */
void custom_script(struct buf *b, const struct test *t, int node, const char *op);

#endif
