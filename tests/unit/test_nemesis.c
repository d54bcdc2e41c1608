/*
 * test_nemesis.c - the parts of the nemesis that can be pinned down without
 * a cluster: the exact tc commands of the netem path (which this machine's
 * kernel cannot run, so they are checked here byte for byte), the
 * arguments packetd gets, packet parameter validation, fault options
 * validated through config_finish (bad options exit 254 before any node is
 * touched), the POSIX cksum used to compare helpers against the `cksum`
 * tool, and the node prelude's fl_stop_helper run by a real /bin/sh: it
 * stops a process only when /proc says it is the named faultline helper.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#undef test_free /* cmocka's allocator macro; ours frees a struct test */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "nemesis_impl.h"
#include "packet.h"

static struct packet_params params(const char *json)
{
	struct packet_params p;
	char err[300];
	json_t *o = json_loads(json, 0, NULL);
	assert_non_null(o);
	if (packet_params_parse(o, "packet", &p, err, sizeof err) < 0)
		fail_msg("%s: %s", json, err);
	json_decref(o);
	return p;
}

static void assert_buf(struct buf *b, const char *want)
{
	assert_string_equal(b->data ? b->data : "", want);
	buf_free(b);
	buf_init(b);
}

static void test_netem_commands(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	struct packet_params p = params("{\"delay_ms\":100}");
	packet_netem_root_cmds(&p, "eth0", &b);
	assert_buf(&b, "tc qdisc add dev eth0 root handle fa17: prio bands 4\n"
		       "tc qdisc add dev eth0 parent fa17:4 handle fa18: netem limit 100000"
		       " delay 100ms\n");
	packet_netem_filter_cmd("eth0", "10.213.120.12", &b);
	assert_buf(&b, "tc filter add dev eth0 parent fa17: protocol ip prio 1 u32 match ip dst"
		       " 10.213.120.12/32 flowid fa17:4\n");
	packet_netem_filter_cmd("eth0", "fd00::12", &b);
	assert_buf(&b, "tc filter add dev eth0 parent fa17: protocol ipv6 prio 2 u32 match ip6 dst"
		       " fd00::12/128 flowid fa17:4\n");

	p = params("{\"delay_ms\":50,\"jitter_ms\":10,\"distribution\":\"normal\",\"loss\":0.5,"
		   "\"duplicate\":0.01,\"reorder\":0.25,\"corrupt\":0.001,\"rate_kbit\":1000}");
	packet_netem_opts(&p, &b);
	assert_buf(&b, "limit 100000 delay 50ms 10ms distribution normal loss random 50%"
		       " duplicate 1% reorder 25% corrupt 0.1% rate 1000kbit");
	/* uniform is netem's built-in: no distribution table named. */
	p = params("{\"delay_ms\":20,\"jitter_ms\":5,\"distribution\":\"uniform\"}");
	packet_netem_opts(&p, &b);
	assert_buf(&b, "limit 100000 delay 20ms 5ms");
	p = params("{\"delay_ms\":20,\"jitter_ms\":5,\"distribution\":\"pareto\"}");
	packet_netem_opts(&p, &b);
	assert_buf(&b, "limit 100000 delay 20ms 5ms distribution pareto");
	p = params("{\"loss\":0.2}");
	packet_netem_opts(&p, &b);
	assert_buf(&b, "limit 100000 loss random 20%");
	/* The device word is passed through: node scripts use "$d". */
	packet_netem_filter_cmd("\"$d\"", "10.0.0.2", &b);
	assert_buf(&b, "tc filter add dev \"$d\" parent fa17: protocol ip prio 1 u32 match ip dst"
		       " 10.0.0.2/32 flowid fa17:4\n");
	buf_free(&b);
}

static void test_packetd_args(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	struct packet_params p = params("{\"delay_ms\":100,\"jitter_ms\":10,\"loss\":0.5,"
					"\"rate_kbit\":800}");
	packet_packetd_args(&p, 42, &b);
	assert_buf(&b, "--queue 64023 --mark 64023 --delay-us 100000 --jitter-us 10000"
		       " --distribution normal --loss 0.5 --duplicate 0 --reorder 0 --corrupt 0"
		       " --rate-bps 800000 --seed 42");
	buf_free(&b);
}

static void test_packet_params_errors(void **state)
{
	(void)state;
	struct {
		const char *json, *want;
	} cases[] = {
		{"{\"reorder\":0.5}", "packet.reorder: needs delay_ms > 0"},
		{"{\"jitter_ms\":5}", "packet.jitter_ms: needs delay_ms > 0"},
		{"{\"loss\":1.5}", "packet.loss: expected a number in 0..1, got 1.5"},
		{"{\"loss\":\"half\"}", "packet.loss: expected a number"},
		{"{\"distribution\":\"weird\",\"delay_ms\":1}",
		 "packet.distribution: expected one of normal|uniform|pareto, got 'weird'"},
		{"{\"path\":\"tc\"}", "packet.path: expected one of auto|netem|nfqueue, got 'tc'"},
		{"{\"dealy_ms\":5}", "packet.dealy_ms: unknown key"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct packet_params p;
		char err[300] = "";
		json_t *o = json_loads(cases[i].json, 0, NULL);
		assert_int_equal(packet_params_parse(o, "packet", &p, err, sizeof err), -1);
		if (strncmp(err, cases[i].want, strlen(cases[i].want)))
			fail_msg("%s: got '%s', want '%s'", cases[i].json, err, cases[i].want);
		json_decref(o);
	}
	struct packet_params p = params("{}");
	assert_false(packet_params_any(&p));
}

/* config_finish with these nemesis_opts on 3 (or 5) nodes: the error. */
static const char *opts_error(const char *opts, int nodes, char *out, size_t n)
{
	struct test t;
	struct config_error err = {{0}};
	test_init_defaults(&t);
	char *argv[] = {"--nodes", nodes == 5 ? "10.9.9.1,10.9.9.2,10.9.9.3,10.9.9.4,10.9.9.5"
					   : "10.9.9.1,10.9.9.2,10.9.9.3",
			"--nemesis", "partition,packet,kill,pause,slow,clock"};
	assert_int_equal(config_apply_args(&t, 4, argv, &err), 0);
	t.nemesis_opts = json_loads(opts, 0, NULL);
	assert_non_null(t.nemesis_opts);
	int r = config_finish(&t, &err);
	snprintf(out, n, "%s", r == 0 ? "" : err.msg);
	test_free(&t);
	return out;
}

static void test_options_through_config(void **state)
{
	(void)state;
	char e[600];
	assert_string_equal(opts_error("{}", 3, e, sizeof e), "");
	assert_string_equal(
		opts_error("{\"schedule\":\"together\",\"partition\":{\"groups\":[[\"n1\"],[\"n2\",\"n3\"]]},"
			   "\"packet\":{\"delay_ms\":100,\"nodes\":[\"n1\"]},\"kill\":{\"targets\":"
			   "[\"one\",\"minority\"]},\"slow\":{\"stop_ms\":50,\"period_ms\":100},"
			   "\"clock\":{\"mode\":[\"bump\"],\"offset_ms\":-500}}",
			   3, e, sizeof e),
		"");
	assert_string_equal(opts_error("{\"partition\":{\"grudges\":[\"majorities-ring\"]}}", 3, e,
				       sizeof e),
			    "nemesis_opts.partition.grudges[0]: majorities-ring needs at least 4 nodes "
			    "(test has 3)");
	assert_string_equal(opts_error("{\"partition\":{\"grudges\":[\"majorities-ring\"]}}", 5, e,
				       sizeof e),
			    "");
	assert_string_equal(opts_error("{\"partition\":{\"grudges\":\"groups\"}}", 3, e, sizeof e),
			    "nemesis_opts.partition.grudges[0]: groups needs nemesis_opts.partition."
			    "groups");
	assert_string_equal(
		opts_error("{\"partition\":{\"groups\":[[\"n1\",\"n9\"],[\"n2\"]]}}", 3, e, sizeof e),
		"nemesis_opts.partition.groups[0][1]: not a node of this test");
	assert_string_equal(
		opts_error("{\"partition\":{\"groups\":[[\"n1\"],[\"n1\",\"n2\"]]}}", 3, e, sizeof e),
		"nemesis_opts.partition.groups[1][0]: node n1 is in two groups");
	assert_string_equal(opts_error("{\"kill\":{\"targets\":\"two\"}}", 3, e, sizeof e),
			    "nemesis_opts.kill.targets: unknown target 'two' (one, minority, "
			    "majority, all, primaries)");
	assert_string_equal(opts_error("{\"pause\":{\"nodes\":[\"n1\",\"n1\"]}}", 3, e, sizeof e),
			    "nemesis_opts.pause.nodes[1]: node n1 given twice");
	assert_string_equal(opts_error("{\"slow\":{\"stop_ms\":100,\"period_ms\":100}}", 3, e,
				       sizeof e),
			    "nemesis_opts.slow.stop_ms: must be less than period_ms (100)");
	assert_string_equal(opts_error("{\"packet\":{\"loss\":2}}", 3, e, sizeof e),
			    "nemesis_opts.packet.loss: expected a number in 0..1, got 2");
	assert_string_equal(opts_error("{\"schedule\":\"sometimes\"}", 3, e, sizeof e),
			    "nemesis_opts.schedule: expected alternate, mix or together");
	char want[300];
	snprintf(want, sizeof want, "nemesis_opts.partitoin: unknown key (schedule, or a fault: %s)",
		 nemesis_names());
	assert_string_equal(opts_error("{\"partitoin\":{}}", 3, e, sizeof e), want);
	for (const char *k = "partition\0packet\0kill\0pause\0slow\0clock\0"; *k; k += strlen(k) + 1)
		assert_non_null(strstr(want, k));
	/* options of a fault that is not enabled are refused, not ignored */
	struct test t;
	struct config_error err = {{0}};
	test_init_defaults(&t);
	char *argv[] = {"--nodes", "10.9.9.1,10.9.9.2,10.9.9.3", "--nemesis", "partition"};
	assert_int_equal(config_apply_args(&t, 4, argv, &err), 0);
	t.nemesis_opts = json_loads("{\"packet\":{\"loss\":0.1}}", 0, NULL);
	assert_int_equal(config_finish(&t, &err), -1);
	assert_non_null(strstr(err.msg, "nemesis_opts.packet: fault packet is not enabled"));
	test_free(&t);
	assert_string_equal(opts_error("{\"clock\":{\"mode\":\"jump\"}}", 3, e, sizeof e),
			    "nemesis_opts.clock.mode: expected bump, strobe or a list of them");
}

static char *run_sh(const char *script, int *status)
{
	char path[] = "/tmp/fl-nem-test-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, script, strlen(script)), (ssize_t)strlen(script));
	close(fd);
	char *cmd = xasprintf("sh %s 2>&1", path);
	FILE *p = popen(cmd, "r");
	struct buf b;
	buf_init(&b);
	char chunk[512];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, p)) > 0)
		buf_append(&b, chunk, n);
	int st = pclose(p);
	if (status)
		*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	unlink(path);
	free(cmd);
	return buf_steal(&b);
}

static void test_cksum_matches_tool(void **state)
{
	(void)state;
	const char *samples[] = {"", "a", "hello world\n", "faultline-packetd"};
	for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
		char path[] = "/tmp/fl-cksum-XXXXXX";
		int fd = mkstemp(path);
		size_t len = strlen(samples[i]);
		assert_int_equal(write(fd, samples[i], len), (ssize_t)len);
		close(fd);
		char *script = xasprintf("cksum <%s\n", path);
		char *out = run_sh(script, NULL);
		char want[64];
		snprintf(want, sizeof want, "%u %zu\n",
			 nem_cksum((const unsigned char *)samples[i], len), len);
		assert_string_equal(out, want);
		uint32_t crc;
		uint64_t flen;
		assert_int_equal(nem_cksum_file(path, &crc, &flen), 0);
		assert_int_equal(crc, nem_cksum((const unsigned char *)samples[i], len));
		assert_int_equal(flen, len);
		free(out);
		free(script);
		unlink(path);
	}
}

static pid_t spawn(const char *prog)
{
	pid_t p = fork();
	if (p == 0) {
		execl(prog, prog, "30", (char *)NULL);
		_exit(127);
	}
	return p;
}

static void test_stop_helper_checks_exe(void **state)
{
	(void)state;
	char dir[] = "/tmp/fl-helper-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct test t;
	memset(&t, 0, sizeof t);
	struct node nd = {.name = "n1", .host = "127.0.0.1", .workdir = dir};
	t.nodes = &nd;
	t.n_nodes = 1;
	struct buf pre;
	buf_init(&pre);
	nem_prelude(&pre, &t, 0);

	/* A stale pid file naming an unrelated process: left alone. */
	pid_t stranger = spawn("/bin/sleep");
	char *pf = xasprintf("%s/faultline-packetd.pid", dir);
	FILE *f = fopen(pf, "w");
	fprintf(f, "%d\n", (int)stranger);
	fclose(f);
	char *script = xasprintf("%sfl_stop_helper packetd\necho done\n", pre.data);
	int st;
	char *out = run_sh(script, &st);
	assert_string_equal(out, "done\n");
	free(out);
	assert_int_equal(kill(stranger, 0), 0); /* still alive */
	struct stat sb;
	assert_int_equal(stat(pf, &sb), -1);    /* the stale file is gone */

	/* The real helper (same name, in bin/): stopped by SIGTERM. */
	char *bin = xasprintf("%s/bin", dir);
	mkdir(bin, 0755);
	char *helper = xasprintf("%s/faultline-packetd", bin);
	char *cp = xasprintf("cp /bin/sleep %s\n", helper);
	free(run_sh(cp, NULL));
	pid_t h = spawn(helper);
	usleep(100000);
	f = fopen(pf, "w");
	fprintf(f, "%d\n", (int)h);
	fclose(f);
	out = run_sh(script, &st);
	assert_string_equal(out, "done\n");
	free(out);
	int ws;
	assert_int_equal(waitpid(h, &ws, 0), h);
	assert_true(WIFSIGNALED(ws));
	assert_int_equal(WTERMSIG(ws), SIGTERM);

	kill(stranger, SIGKILL);
	waitpid(stranger, NULL, 0);
	char *rm = xasprintf("rm -rf %s\n", dir);
	free(run_sh(rm, NULL));
	free(rm);
	free(cp);
	free(helper);
	free(bin);
	free(script);
	free(pf);
	buf_free(&pre);
}

static void test_names(void **state)
{
	(void)state;
	const char *names[] = {"partition", "packet", "kill", "pause", "slow", "clock"};
	for (size_t i = 0; i < 6; i++) {
		const struct nemesis *k = nemesis_find(names[i]);
		assert_non_null(k);
		assert_string_equal(k->name, names[i]);
		assert_non_null(k->plan);
		assert_non_null(k->start);
		assert_non_null(k->stop);
		assert_non_null(k->heal);
	}
	assert_null(nemesis_find("netem"));
	assert_null(nemesis_find(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_netem_commands),
		cmocka_unit_test(test_packetd_args),
		cmocka_unit_test(test_packet_params_errors),
		cmocka_unit_test(test_options_through_config),
		cmocka_unit_test(test_cksum_matches_tool),
		cmocka_unit_test(test_stop_helper_checks_exe),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
