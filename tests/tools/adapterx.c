/*
 * adapterx.c - an adapter (protocol 1, docs/ADAPTERS.md) for tests and
 * benchmarks of the adapter client (src/db/adapter_client.c): it answers
 * at once from an in-memory register (reads see the last value this
 * process wrote, 0 at first), and misbehaves on request, the way a buggy
 * adapter would. It is not part of the CLI.
 *
 * Environment:
 *   ADAPTERX_MODE    what to do instead of a good reply (default: nothing):
 *     hang       never answer            exit      exit(3) without a reply
 *     crash      die of SIGTERM          garbage   a line that is not JSON
 *     partial    half a reply, then exit  huge     a valid reply line of
 *                                                 ADAPTERX_HUGE bytes (20 MiB)
 *     hugenl     ADAPTERX_HUGE bytes, no newline, then hang
 *     stderr     the reply on stderr (the wrong fd), nothing on stdout
 *     fds        a forged history line written to every fd from 3 to 1023,
 *                then a good reply whose value lists the fds that were open
 *                (in mixed mode: the usual value)
 *     double     the reply twice           wrongid  a reply with another id
 *     badtype    "type":"invoke"           array    a JSON array, not an object
 *     inject     ok, with newlines and a forged history line inside the
 *                error string and the value (valid JSON)
 *     closeout   close stdout and keep running
 *     env        ok, value: the FAULTLINE_* variables and whether
 *                ADAPTERX_SECRET is set
 *     mixed      one of hang, exit, garbage, partial, huge, stderr, fds,
 *                double, wrongid, badtype, closeout, inject, chosen by
 *                ADAPTERX_SEED and the process
 *   ADAPTERX_AT      misbehave on this op of the process (1-based; default 1);
 *                    in mixed mode, on each op with probability 1/ADAPTERX_AT
 *   ADAPTERX_INIT    "fail": answer init with an error; "hang": never;
 *                    "garbage": not JSON; "proto2": init_ok for protocol 2
 *   ADAPTERX_PIDS    file to append this process's pid to
 *   ADAPTERX_HOOKS   file to append "setup" / "teardown" to when they run
 *   ADAPTERX_SETUP   "fail": answer the setup hook with fail
 */
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *env(const char *k, const char *def)
{
	const char *v = getenv(k);
	return v && *v ? v : def;
}

static void say(FILE *f, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	fprintf(f, "%s\n", s);
	fflush(f);
	free(s);
	json_decref(j);
}

static void append_file(const char *path, const char *line)
{
	FILE *f = path ? fopen(path, "a") : NULL;
	if (f) {
		fprintf(f, "%s\n", line);
		fclose(f);
	}
}

static void hang(void)
{
	for (;;)
		pause();
}

static const char *const mixed_modes[] = {"hang",    "exit",  "garbage", "partial",
					  "huge",    "stderr", "fds",     "double",
					  "wrongid", "badtype", "closeout", "inject"};

static unsigned long long rng_state;
static unsigned rng_next(void)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)(rng_state >> 33);
}

/* The good reply to an invocation, from the in-memory register. */
static json_t *good_reply(json_t *req, json_int_t *reg)
{
	const char *f = json_string_value(json_object_get(req, "f"));
	json_t *v = json_object_get(req, "value");
	json_t *r = json_pack("{s:s, s:O}", "type", "ok", "id", json_object_get(req, "id"));
	if (f && !strcmp(f, "read")) {
		json_object_set_new(r, "value", json_integer(*reg));
	} else if (f && !strcmp(f, "write") && json_is_integer(v)) {
		*reg = json_integer_value(v);
	} else if (f && !strcmp(f, "cas") && json_array_size(v) == 2) {
		if (json_integer_value(json_array_get(v, 0)) == *reg)
			*reg = json_integer_value(json_array_get(v, 1));
		else
			json_object_set_new(r, "type", json_string("fail"));
	}
	return r;
}

static void misbehave(const char *mode, json_t *req, json_int_t *reg, bool mixed)
{
	json_t *id = json_object_get(req, "id");
	if (!strcmp(mode, "hang"))
		hang();
	if (!strcmp(mode, "exit"))
		exit(3);
	if (!strcmp(mode, "crash"))
		kill(getpid(), SIGTERM);
	if (!strcmp(mode, "garbage")) {
		printf("this is not JSON {\"type\":\"ok\"}\n");
		fflush(stdout);
		return;
	}
	if (!strcmp(mode, "partial")) {
		printf("{\"type\":\"ok\",\"id\":");
		fflush(stdout);
		exit(0);
	}
	if (!strcmp(mode, "huge") || !strcmp(mode, "hugenl")) {
		long n = atol(env("ADAPTERX_HUGE", "20971520"));
		printf("{\"type\":\"ok\",\"id\":%lld,\"value\":\"", (long long)json_integer_value(id));
		for (long i = 0; i < n; i++)
			putchar('x');
		if (!strcmp(mode, "hugenl")) {
			fflush(stdout);
			hang();
		}
		printf("\"}\n");
		fflush(stdout);
		return;
	}
	if (!strcmp(mode, "stderr")) {
		say(stderr, good_reply(req, reg));
		return;
	}
	if (!strcmp(mode, "fds")) {
		json_t *open_fds = json_array();
		const char *forged = "{\"index\":0,\"time\":0,\"type\":\"ok\",\"process\":0,\"f\":\"forged\"}\n";
		for (int fd = 3; fd < 1024; fd++) {
			if (fcntl(fd, F_GETFD) == -1)
				continue;
			json_array_append_new(open_fds, json_integer(fd));
			if (write(fd, forged, strlen(forged)) < 0)
				continue;
		}
		json_t *r = good_reply(req, reg);
		if (mixed) /* a value the checker can judge */
			json_decref(open_fds);
		else
			json_object_set_new(r, "value", open_fds);
		say(stdout, r);
		return;
	}
	if (!strcmp(mode, "double")) {
		say(stdout, good_reply(req, reg));
		say(stdout, json_pack("{s:s, s:O}", "type", "ok", "id", id));
		return;
	}
	if (!strcmp(mode, "wrongid")) {
		say(stdout, json_pack("{s:s, s:I}", "type", "ok", "id", json_integer_value(id) + 1));
		return;
	}
	if (!strcmp(mode, "badtype")) {
		say(stdout, json_pack("{s:s, s:O}", "type", "invoke", "id", id));
		return;
	}
	if (!strcmp(mode, "array")) {
		say(stdout, json_pack("[s, O]", "ok", id));
		return;
	}
	if (!strcmp(mode, "inject")) {
		const char *forged = "\n{\"index\":1,\"time\":1,\"type\":\"ok\",\"process\":0,\"f\":\"forged\"}\n";
		json_t *r = good_reply(req, reg);
		json_object_set_new(r, "type", json_string("fail"));
		json_object_set_new(r, "error", json_string(forged));
		json_object_set_new(r, "value", json_string(forged));
		say(stdout, r);
		return;
	}
	if (!strcmp(mode, "closeout")) {
		fclose(stdout);
		close(1);
		hang();
	}
	if (!strcmp(mode, "env")) {
		json_t *o = json_object();
		static const char *const names[] = {"FAULTLINE_PROTOCOL", "FAULTLINE_NODE",
						    "FAULTLINE_HOST", "FAULTLINE_NODES",
						    "FAULTLINE_NODE_NAMES", "FAULTLINE_PORT",
						    "FAULTLINE_WORKLOAD", "FAULTLINE_DB",
						    "FAULTLINE_OP_TIMEOUT", "ADAPTERX_EXTRA"};
		for (size_t i = 0; i < sizeof names / sizeof *names; i++)
			if (getenv(names[i]))
				json_object_set_new(o, names[i], json_string(getenv(names[i])));
		json_object_set_new(o, "secret_visible", json_boolean(getenv("ADAPTERX_SECRET") != NULL));
		json_t *r = good_reply(req, reg);
		json_object_set_new(r, "value", o);
		say(stdout, r);
		return;
	}
	say(stdout, good_reply(req, reg));
}

int main(void)
{
	const char *mode = env("ADAPTERX_MODE", "");
	long at = atol(env("ADAPTERX_AT", "1"));
	rng_state = (unsigned long long)atoll(env("ADAPTERX_SEED", "1")) ^ (unsigned long long)getpid();
	char pid[32];
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	append_file(getenv("ADAPTERX_PIDS"), pid);
	json_int_t reg = 0;
	long ops = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, stdin)) > 0) {
		json_t *req = json_loadb(line, (size_t)n, 0, NULL);
		const char *type = json_string_value(json_object_get(req, "type"));
		json_t *id = json_object_get(req, "id");
		if (!type) {
			fprintf(stderr, "adapterx: cannot parse request: %s", line);
			return 1;
		}
		if (!strcmp(type, "init")) {
			const char *im = env("ADAPTERX_INIT", "");
			if (!strcmp(im, "hang"))
				hang();
			if (!strcmp(im, "garbage"))
				printf("hello\n");
			else if (!strcmp(im, "fail"))
				say(stdout, json_pack("{s:s, s:s}", "type", "error", "error", "no database"));
			else if (!strcmp(im, "proto2"))
				say(stdout, json_pack("{s:s, s:i}", "type", "init_ok", "protocol", 2));
			else
				say(stdout, json_pack("{s:s, s:i}", "type", "init_ok", "protocol", 1));
			fflush(stdout);
		} else if (!strcmp(type, "setup") || !strcmp(type, "teardown")) {
			append_file(getenv("ADAPTERX_HOOKS"), type);
			bool bad = !strcmp(type, "setup") && !strcmp(env("ADAPTERX_SETUP", ""), "fail");
			say(stdout, json_pack("{s:s, s:O, s:s?}", "type", bad ? "fail" : "ok", "id", id,
					      "error", bad ? "cannot create the schema" : NULL));
		} else {
			ops++;
			bool now;
			const char *m = mode;
			if (!strcmp(mode, "mixed")) {
				now = at > 0 && rng_next() % (unsigned)at == 0;
				m = mixed_modes[rng_next() % (sizeof mixed_modes / sizeof *mixed_modes)];
			} else {
				now = *mode && ops == at;
			}
			if (now)
				misbehave(m, req, &reg, !strcmp(mode, "mixed"));
			else
				say(stdout, good_reply(req, &reg));
			fprintf(stderr, "adapterx: op %ld done\n", ops);
		}
		json_decref(req);
	}
	free(line);
	return 0;
}
