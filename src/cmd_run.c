/*
 * cmd_run.c - `faultline run [CONFIG.json] [flags]`: resolve and validate
 * the test (config.c), connect to every node, then run it test_count times
 * (runner.c); the exit code is the worst verdict.
 *
 * Exit codes: 254 for anything wrong with the inputs found before any node
 * is changed, including a node that cannot be reached or authenticated or
 * lacks the database's programs (db preflight)
 * (nothing has been applied anywhere yet, and the fix is in the config or
 * the network the config names); 255 for failures after nodes were touched.
 *
 * Signals: SIGINT/SIGTERM are taken by a dedicated thread (blocked in every
 * other thread, so libssh and libcurl never see EINTR); the first one asks
 * the runner to stop, which stops the workers, heals, downloads logs and
 * tears down. A second one exits at once, leaving the history intact but
 * faults and the database possibly in place (`faultline heal` cleans up).
 */
#include "cmd.h"
#include "config.h"
#include "db.h"
#include "nodes.h"
#include "results.h"
#include "runner.h"
#include "ssh.h"
#include "util.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char run_usage[] =
	"usage: faultline run [CONFIG.json] [options]\n"
	"\n"
	"Run a test: set up the database on the nodes, run concurrent clients (and\n"
	"faults) for --time-limit seconds, record history.jsonl, check it, report.\n"
	"Flags override the config file's keys (same names, snake_case in JSON).\n"
	"With no --nodes/--cluster, the local cluster is used if exactly one is up.\n"
	"Results go to STORE/<test>/<timestamp>/ (printed on stdout), STORE/latest.\n"
	"\n"
	"options:\n";

static sigset_t run_signals;

static void *signal_thread(void *arg)
{
	(void)arg;
	int n = 0;
	for (;;) {
		int sig;
		if (sigwait(&run_signals, &sig) != 0)
			continue;
		if (++n == 1) {
			log_warn("got %s: stopping (again to exit at once)", strsignal(sig));
			runner_request_stop();
		} else {
			log_error("second %s: exiting without cleanup; run `faultline heal`",
				  strsignal(sig));
			_exit(EXIT_INTERNAL);
		}
	}
	return NULL;
}

static void signals_take(void)
{
	sigemptyset(&run_signals);
	sigaddset(&run_signals, SIGINT);
	sigaddset(&run_signals, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &run_signals, NULL);
	signal(SIGPIPE, SIG_IGN);
	pthread_t th;
	if (pthread_create(&th, NULL, signal_thread, NULL) == 0)
		pthread_detach(th);
}

int cmd_run(int argc, char **argv)
{
	struct test t;
	int rc = config_from_argv(&t, argc, argv, "run", run_usage);
	if (rc >= 0)
		return rc;
	signals_take();
	char err[512];
	log_debug("connecting to %d nodes", t.n_nodes);
	struct ssh_node **ssh = nodes_connect(&t, err, sizeof err);
	if (!ssh) {
		fprintf(stderr, "faultline run: %s\n", err);
		test_free(&t);
		return EXIT_BADARGS;
	}
	/* A node that cannot run the database (not installed) is bad input
	 * too, found before anything is applied to any node. */
	struct db_ctx dbc = {.test = &t, .ssh = ssh};
	if (db_preflight(&dbc, err, sizeof err) < 0) {
		fprintf(stderr, "faultline run: %s\n", err);
		ssh_nodes_free(ssh, t.n_nodes);
		test_free(&t);
		return EXIT_BADARGS;
	}
	/* Interrupted before any run: nothing was judged. */
	int code = EXIT_UNKNOWN;
	uint64_t seed0 = t.seed;
	for (int i = 0; i < t.test_count && !runner_stop_requested(); i++) {
		/* Repetitions explore different op streams; each records its seed. */
		t.seed = seed0 + (uint64_t)i;
		bool interrupted = false;
		int c = runner_run_once(&t, ssh, i + 1, &interrupted);
		code = i == 0 ? c : exit_code_worst(code, c);
		if (interrupted || runner_stop_requested())
			break;
	}
	ssh_nodes_free(ssh, t.n_nodes);
	test_free(&t);
	return code;
}
