/*
 * cmd_run.c - `faultline run [CONFIG.json] [flags]`: resolve and validate
 * the test (config.c), connect to every node, then run it test_count times
 * (runner.c); the exit code is the worst verdict.
 *
 * Exit codes: 254 for anything wrong with the inputs found before any node
 * is changed, including a node that cannot be reached or authenticated,
 * or that lacks the database's packages (the db's preflight; nothing has
 * been applied anywhere yet, and the fix is in the config, the network the
 * config names or the node's packages); 255 for failures after nodes were
 * touched.
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
#include "nemesis.h"
#include "nodes.h"
#include "results.h"
#include "runlock.h"
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

/* Faults an earlier run left (a crashed or kill -9'd controller) would
 * make this run fail in confusing ways ("etcd not healthy"): refuse, or
 * heal them with --heal-first. 0 to go on, else the exit code. */
static int run_leftovers(struct test *t, struct ssh_node **ssh)
{
	char found[2048];
	const struct db *db = db_find(t->db);
	if (nemesis_leftovers(t, ssh, db, found, sizeof found) == 0)
		return 0;
	if (!t->heal_first) {
		fprintf(stderr, "faultline run: the nodes carry faults of an earlier run (%s); run "
			"`faultline heal` first, or add --heal-first\n", found);
		return EXIT_BADARGS;
	}
	log_warn("healing what an earlier run left: %s", found);
	char err[4096];
	if (nemesis_heal_all_err(t, ssh, db, err, sizeof err) < 0) {
		fprintf(stderr, "faultline run: --heal-first: %s\n", err);
		return EXIT_INTERNAL;
	}
	return 0;
}

int cmd_run(int argc, char **argv)
{
	struct test t;
	int rc = config_from_argv(&t, argc, argv, "run", run_usage);
	if (rc >= 0)
		return rc;
	signals_take();
	char err[2048];
	struct runlock *lock = NULL;
	struct ssh_node **ssh = NULL;
	int code = EXIT_BADARGS;
	/* A local cluster is locked before anything else; remote nodes hold
	 * their lock files, so they are reached first. */
	if (t.cluster && !(lock = runlock_take(&t, NULL, "faultline run", false, err, sizeof err)))
		goto refused;
	log_debug("connecting to %d nodes", t.n_nodes);
	if (!(ssh = nodes_connect(&t, err, sizeof err)))
		goto refused;
	/* Packages checked before anything is written, lock files included. */
	struct db_ctx dbc = {.test = &t, .ssh = ssh};
	if (db_preflight(&dbc, err, sizeof err) < 0)
		goto refused;
	if (!lock && !(lock = runlock_take(&t, ssh, "faultline run", false, err, sizeof err)))
		goto refused;
	if ((code = run_leftovers(&t, ssh)) != 0)
		goto out;
	/* Interrupted before any run: nothing was judged. */
	code = EXIT_UNKNOWN;
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
	goto out;
refused:
	fprintf(stderr, "faultline run: %s\n", err);
out:
	runlock_release(lock);
	ssh_nodes_free(ssh, t.n_nodes);
	test_free(&t);
	return code;
}
