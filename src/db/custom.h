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

#endif
