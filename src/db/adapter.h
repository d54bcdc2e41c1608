/*
 * adapter.h - the adapter client (adapter_client.c): a client for any
 * database and any workload, driven by a program the user writes in any
 * language, which faultline runs on the controller and speaks to in JSON
 * lines over its stdin/stdout (protocol 1, docs/ADAPTERS.md).
 *
 * A test runs through it when the config's "client" object has "exec"
 * (flag --client-exec): test_client() is the one lookup of the client a
 * test uses, for the runner and for config validation alike.
 */
#ifndef FAULTLINE_ADAPTER_H
#define FAULTLINE_ADAPTER_H

#include <jansson.h>
#include <stddef.h>

struct test;
struct client_ops;

/* The protocol version faultline speaks ("protocol" in init). */
#define ADAPTER_PROTOCOL 1

extern const struct client_ops adapter_client_ops;

/* Validate the config's client object and fill in its defaults, before
 * any node is touched: exec (a non-empty array of strings, or one string
 * split on blanks; exec[0] must be found), env (object of strings), opts
 * (any JSON, handed to the adapter in init), port, max_line, init_timeout,
 * hook_timeout. 0, or -1 with err naming the key ("client.exec: ..."). */
int adapter_check(const struct test *t, json_t *client, char *err, size_t errlen);

/* A command line split on blanks (spaces, tabs) into a JSON array of
 * strings; no shell is involved, so nothing in it is expanded. */
json_t *adapter_split_command(const char *cmd);

/* The client test t runs through: the adapter when t->client has "exec",
 * else its database's client for its workload; NULL if there is none. */
const struct client_ops *test_client(const struct test *t);

#endif
