/* What the command line offers operators who watch links all day, around
 * the per-packet path of main.c:
 *
 *   --exclude PREFIX      drop traffic to or from a prefix before analysis
 *   --aggregate N         JSON lines per N s and source prefix instead of
 *                         per-packet lines (engine/aggregate.h)
 *   --prefix4 / --prefix6 the source prefix lengths (aggregates, metrics)
 *   --metrics [ADDR:]PORT Prometheus text at /metrics (engine/metrics.h
 *                         formats, metrics_http.c serves)
 *   --fanout GROUP        share an interface with other connmon processes
 *                         (fanout.h)
 *   --output FILE         stdout's lines into FILE; SIGHUP reopens it (and
 *                         the --flows file), for log rotation
 *
 * The analysis stays in the engine; this file only wires it to the run:
 * options, per-packet calls, clock ticks, the end of input.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_OPS_H
#define CONNMON_OPS_H

#include <getopt.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "connmon.h"
#include "conntrack.h"
#include "prefix.h"

typedef struct ops_options {
    int64_t  aggregate_ns;        /* --aggregate, 0: off */
    size_t   aggregate_prefixes;  /* --aggregate-prefixes, 0: no limit */
    unsigned len4, len6;          /* --prefix4, --prefix6 */
    cm_prefix_list exclude;       /* --exclude */
    const char *metrics_listen;   /* --metrics, NULL: off */
    size_t   metrics_prefixes;    /* --metrics-prefixes */
    bool     fanout;              /* --fanout given */
    unsigned fanout_group;
    const char *output_path;      /* --output, NULL: stdout stays */
} ops_options;

/* getopt_long codes of these options, clear of main.c's. */
enum {
    OPS_OPT_AGGREGATE = 512, OPS_OPT_AGG_PREFIXES, OPS_OPT_PREFIX4, OPS_OPT_PREFIX6,
    OPS_OPT_EXCLUDE, OPS_OPT_METRICS, OPS_OPT_METRICS_PREFIXES, OPS_OPT_FANOUT, OPS_OPT_OUTPUT,
};

/* Entries for main.c's struct option table. */
#define OPS_LONG_OPTIONS                                                      \
    {"aggregate", required_argument, 0, OPS_OPT_AGGREGATE},                   \
    {"aggregate-prefixes", required_argument, 0, OPS_OPT_AGG_PREFIXES},       \
    {"prefix4", required_argument, 0, OPS_OPT_PREFIX4},                       \
    {"prefix6", required_argument, 0, OPS_OPT_PREFIX6},                       \
    {"exclude", required_argument, 0, OPS_OPT_EXCLUDE},                       \
    {"metrics", required_argument, 0, OPS_OPT_METRICS},                       \
    {"metrics-prefixes", required_argument, 0, OPS_OPT_METRICS_PREFIXES},     \
    {"fanout", required_argument, 0, OPS_OPT_FANOUT},                         \
    {"output", required_argument, 0, OPS_OPT_OUTPUT},

/* Their lines in connmon -h. */
#define OPS_USAGE                                                                         \
    "      --aggregate N       instead of per-packet lines, one JSON line per N s of\n"  \
    "                          capture time and source prefix: packets, bytes, delay\n"  \
    "                          count/min/mean/p50/p90/p99/max, holes, behind, dupacks\n" \
    "      --prefix4 LEN       source prefix length for IPv4 (default 24)\n"             \
    "      --prefix6 LEN       source prefix length for IPv6 (default 48)\n"             \
    "      --aggregate-prefixes N  prefixes per interval, the rest as \"other\"\n"       \
    "                          (default 10000, 0: no limit)\n"                            \
    "      --exclude PREFIX    drop traffic to or from PREFIX (repeatable)\n"            \
    "      --metrics [ADDR:]PORT  Prometheus metrics at http://ADDR:PORT/metrics,\n"     \
    "                          served until SIGINT/SIGTERM (also after a file ends)\n"  \
    "      --metrics-prefixes N  prefixes with a histogram of their own, the rest as\n"  \
    "                          \"other\" (default 256)\n"                                 \
    "      --fanout GROUP      share -i IFACE with other connmon processes of GROUP,\n"  \
    "                          split by connection (Linux PACKET_FANOUT)\n"              \
    "      --output FILE       append the output lines to FILE; SIGHUP reopens it\n"     \
    "                          and the --flows file\n"

/* Defaults: nothing on, /24 and /48. */
void ops_options_init(ops_options *oo);
/* Frees what the options hold (the --exclude list). */
void ops_options_free(ops_options *oo);

/* Takes option c (an OPS_OPT_* code) with its argument.  Returns false
 * when c is not one of ours; on a bad value sets *err to a message
 * (static) and returns true. */
bool ops_take_option(ops_options *oo, int c, const char *arg, const char **err);

/* What the options say together, with main.c's: returns NULL or a
 * message (static). */
const char *ops_check(const ops_options *oo, bool live, bool json, bool machine,
                      bool flows_stdout);

typedef struct ops ops;

/* Starts what the options ask for: --output, the fanout join (live
 * handle p), the aggregator, the metrics server.  pace_live: records and
 * output come out as they happen (live, replay).  Returns NULL with a
 * message in err on failure (exit status 1). */
ops *ops_start(const ops_options *oo, pcap_t *p, bool live, bool pace_live, bool quiet,
               conntrack *ct, char *err, size_t err_size);

/* SIGHUP also reopens f (opened from path; e.g. the --flows file). */
void ops_reopen_on_hup(ops *s, FILE *f, const char *path);

/* --aggregate replaces the per-packet lines. */
bool ops_replaces_lines(const ops *s);

/* Traffic to or from an --exclude prefix: leave the packet out. */
bool ops_excludes(ops *s, const cm_packet *pkt);

/* An analysed packet and the engine's result for it. */
void ops_packet(ops *s, const cm_packet *pkt, const cm_result *r);

/* Call often (every loop turn, before a replay wait): SIGHUP, the live
 * aggregates' clock, a fresh metrics text when due or asked for. */
void ops_tick(ops *s);

/* End of input: the open aggregate interval, the final metrics. */
void ops_end(ops *s);

/* With --metrics: keeps serving until *stop (SIGINT, SIGTERM). */
void ops_linger(ops *s, volatile sig_atomic_t *stop);

void ops_free(ops *s);

#endif
