/*
 * packet.h - packet fault parameters and the exact node commands they turn
 * into, on both paths (tc netem, or NFQUEUE + faultline-packetd). Exposed
 * so tests/unit/test_nemesis.c can check the commands byte for byte: the
 * netem path cannot run on a kernel without netem, but what it would run
 * can still be pinned down.
 */
#ifndef FAULTLINE_PACKET_H
#define FAULTLINE_PACKET_H

#include "util.h"

#include <jansson.h>
#include <stdint.h>

struct packet_params {
	double delay_ms;      /* mean added delay */
	double jitter_ms;     /* spread of the delay (netem's jitter) */
	char distribution[16]; /* normal | uniform | pareto */
	double loss;          /* probabilities, 0..1 */
	double duplicate;
	double reorder;       /* share sent at once, ahead of the delayed (needs delay) */
	double corrupt;
	double rate_kbit;     /* 0: unlimited */
	char path[8];         /* auto | netem | nfqueue */
};

/* Parse and validate o (a spec or nemesis_opts.packet); absent keys take
 * defaults (nothing). where names o in errors. 0 or -1 with err. */
int packet_params_parse(json_t *o, const char *where, struct packet_params *p, char *err,
			size_t errlen);
/* True when p asks for any packet behaviour at all. */
int packet_params_any(const struct packet_params *p);
/* The parameters as history JSON (only those in effect). */
json_t *packet_params_json(const struct packet_params *p);

/* netem path. dev is a shell word (a name, or "\"$d\"" in node scripts).
 * Root: prio qdisc fa17: with 4 bands, netem on band 4 (fa17:4). */
void packet_netem_root_cmds(const struct packet_params *p, const char *dev, struct buf *out);
/* Filter steering traffic to one peer address into the netem band. */
void packet_netem_filter_cmd(const char *dev, const char *addr, struct buf *out);
/* The netem option string ("delay 100ms 10ms distribution normal ..."). */
void packet_netem_opts(const struct packet_params *p, struct buf *out);

/* nfqueue path: faultline-packetd's arguments (after the program name). */
void packet_packetd_args(const struct packet_params *p, uint64_t seed, struct buf *out);

#endif
