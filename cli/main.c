/* connmon command line: the original connmon's interface on the shared
 * engine, reading live interfaces or capture files through libpcap.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <net/if.h>
#include <inttypes.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connmon.h"
#include "conntrack.h"
#include "decode_frame.h"
#include "output.h"
#include "ops.h"
#include "records.h"

#define DEFAULT_FLOW_MAX_IDLE_NS INT64_C(300000000000) /* 300 s */
/* Connections held at most by default: ~50 MB at ~500 B each, which a small
 * router has; pping stops at 10,000. */
#define DEFAULT_MAX_FLOWS 100000
#define LIVE_SNAPLEN 256  /* headers are enough: link + IP + ext + TCP options */
#define LIVE_FILTER "tcp or (vlan and tcp)"
#define SWEEP_INTERVAL_NS INT64_C(1000000000) /* idle connections: looked for once a second */
#define FILE_BATCH 4096   /* frames per pcap_dispatch on a file, between checks */
#define MAX_LOCAL_ADDRS 64

typedef struct options {
    const char *iface, *file, *filter;
    uint64_t max_packets;      /* -c, 0: no limit */
    int64_t max_ns;            /* -s, 0: no limit */
    int64_t sum_interval_ns;   /* --sumInt, 0: only at the end */
    int64_t flow_max_idle_ns;  /* --flowMaxIdle, 0: never */
    uint64_t max_flows;        /* --maxFlows, 0: no bound */
    cm_config cfg;
    out_format format;         /* from json and machine */
    bool json, machine;        /* --json, -m */
    bool quick, quiet, verbose, show_local;
    const char *flows_path;    /* --flows: per-connection records, "-" stdout */
    bool replay;               /* -e: a file at the pace it was captured */
    double speed;              /* --speed: replay this many times faster */
    ops_options ops;           /* --aggregate, --metrics, --exclude, ... (ops.h) */
} options;

typedef struct counters {
    uint64_t frames;   /* every frame read (numbered as Wireshark does) */
    uint64_t tcp;      /* TCP packets analysed */
    uint64_t no_ts;    /* of those, without a timestamp option */
    uint64_t not_tcp;  /* frames without an analysable TCP header */
} counters;

typedef struct run_state {
    const options *opt;
    pcap_t *pcap;
    int dlt;
    int64_t subsec_ns;         /* ns per unit of the pcap header's tv_usec */
    cm_engine *eng;
    conntrack *ct;
    counters n;
    bool live, stop;
    int64_t first_ns;          /* capture time of the first frame (-s on files) */
    int64_t next_summary_ns;   /* --sumInt: capture time of the next summary */
    int64_t next_sweep_ns;     /* capture time of the next idle sweep */
    struct timespec wall_start; /* -s when live */
    struct timespec replay_start; /* -e: wall clock at the first frame */
    records *rs;               /* --flows, or NULL */
    FILE *flows_out;           /* where the records go */
    bool lines;                /* per-packet output (not with --flows -) */
    ops *ops;                  /* aggregates, metrics, exclusions (ops.h) */
    cm_addr local[MAX_LOCAL_ADDRS]; /* the interface's own addresses (-l) */
    int nlocal;
} run_state;

static volatile sig_atomic_t got_signal;
static pcap_t *signal_pcap;

static void on_signal(int sig)
{
    (void)sig;
    got_signal = 1;
    if (signal_pcap)
        pcap_breakloop(signal_pcap);
}

static void usage(FILE *out)
{
    fputs(
        "usage: connmon -i IFACE | -r FILE [options]\n"
        "Passive TCP monitoring: per-packet round-trip delays from the capture point,\n"
        "sequence holes and duplicate ACKs.\n"
        "\n"
        "  -i, --interface IFACE   capture live on IFACE\n"
        "  -r, --read FILE         read a pcap or pcapng file\n"
        "  -f, --filter EXPR       BPF filter, combined with tcp\n"
        "  -c, --count N           stop after N packets\n"
        "  -s, --seconds N         stop after N seconds (capture time for files)\n"
        "  -m, --machine           machine-readable lines (epoch seconds, seconds)\n"
        "  -Q, --quick             print only lines with a round-trip delay\n"
        "  -q, --quiet             no summaries on stderr\n"
        "  -v, --verbose           say more on stderr\n"
        "  -l, --showLocal         also print packets sent by this host (live)\n"
        "      --sumInt N          summary on stderr every N seconds of capture time\n"
        "      --rtdMaxAge N       forget round-trip starts older than N s (default 10;\n"
        "                          0: no samples, forgotten by the next packet)\n"
        "      --flowMaxIdle N     forget connections idle for N s (default 300, 0: never)\n"
        "      --maxFlows N        hold at most N connections, forgetting the least recently\n"
        "                          seen (default 100000, 0: no bound)\n"
        "      --packIdle N        keep connections idle for N s (capture time) packed\n"
        "                          in ~100 B until their next packet (default 0.1; 0:\n"
        "                          after every packet; never: not at all); results\n"
        "                          are the same, only memory and CPU change\n"
        "      --ts-pure-acks M    clocked (default), all or none: TS round trips\n"
        "                          started by pure ACKs\n"
        "      --json              one JSON object per TCP packet, plugin field names\n"
        "      --flows PATH        one JSON record per connection, written when it is\n"
        "                          forgotten (idle, port reused, end); - for stdout,\n"
        "                          instead of the per-packet lines\n"
        "  -e, --emulate           replay a file (-r) at the pace it was captured\n"
        "      --speed X           replay X times faster (0.5: half as fast; implies -e)\n"
        OPS_USAGE
        "  -h, --help              this help\n"
        "\n"
        "Line columns: time, TS round-trip delay, seq round-trip delay, sequence gap,\n"
        "duplicate-ACK age, payload bytes, flow bytes, flow (src:port+dst:port).\n",
        out);
}

static void die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void die(int status, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs("connmon: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(status);
}

/* A positive (or, with allow_zero, non-negative) number of seconds. */
static int64_t seconds_arg(const char *flag, const char *text, bool allow_zero)
{
    int64_t ns;
    const char *err = cm_parse_seconds(text, &ns);
    if (err)
        die(2, "%s: \"%s\" %s", flag, text, err);
    if (ns == 0 && !allow_zero)
        die(2, "%s: must be greater than 0", flag);
    return ns;
}

static uint64_t count_arg(const char *flag, const char *text)
{
    char *end;
    errno = 0;
    if (text[0] == '-' || text[0] == '\0')
        die(2, "%s: \"%s\" is not a positive whole number", flag, text);
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end || v == 0)
        die(2, "%s: \"%s\" is not a positive whole number", flag, text);
    return v;
}

/* --maxFlows N: a whole number, 0 meaning no bound. */
static uint64_t max_flows_arg(const char *text)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || v > SIZE_MAX)
        die(2, "--maxFlows: \"%s\" is not a whole number of connections (0: no bound)", text);
    return v;
}

static void set_defaults(options *o)
{
    memset(o, 0, sizeof *o);
    cm_config_default(&o->cfg);
    o->flow_max_idle_ns = DEFAULT_FLOW_MAX_IDLE_NS;
    o->max_flows = DEFAULT_MAX_FLOWS;
    o->speed = 1.0;
    ops_options_init(&o->ops);
}

static double speed_arg(const char *text)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v) || v <= 0)
        die(2, "--speed: \"%s\" is not a positive number", text);
    return v;
}

enum { OPT_SUMINT = 256, OPT_RTDMAXAGE, OPT_FLOWMAXIDLE, OPT_JSON, OPT_TSPA, OPT_FLOWS,
       OPT_SPEED, OPT_MAXFLOWS, OPT_PACKIDLE };

static const struct option long_options[] = {
    {"interface", required_argument, 0, 'i'}, {"read", required_argument, 0, 'r'},
    {"filter", required_argument, 0, 'f'},    {"count", required_argument, 0, 'c'},
    {"seconds", required_argument, 0, 's'},   {"machine", no_argument, 0, 'm'},
    {"quick", no_argument, 0, 'Q'},           {"quiet", no_argument, 0, 'q'},
    {"verbose", no_argument, 0, 'v'},         {"showLocal", no_argument, 0, 'l'},
    {"help", no_argument, 0, 'h'},            {"sumInt", required_argument, 0, OPT_SUMINT},
    {"rtdMaxAge", required_argument, 0, OPT_RTDMAXAGE},
    {"flowMaxIdle", required_argument, 0, OPT_FLOWMAXIDLE},
    {"maxFlows", required_argument, 0, OPT_MAXFLOWS},
    {"packIdle", required_argument, 0, OPT_PACKIDLE},
    {"json", no_argument, 0, OPT_JSON},
    {"ts-pure-acks", required_argument, 0, OPT_TSPA},
    {"flows", required_argument, 0, OPT_FLOWS},
    {"emulate", no_argument, 0, 'e'},
    {"speed", required_argument, 0, OPT_SPEED},
    OPS_LONG_OPTIONS
    {0, 0, 0, 0}};
#define SHORT_OPTIONS ":i:r:f:c:s:mQqvlhe"

/* One option from getopt_long; `given` is how it was written, for errors. */
static void take_option(options *o, int c, const char *arg, const char *given)
{
    switch (c) {
    case 'i': o->iface = arg; break;
    case 'r': o->file = arg; break;
    case 'f': o->filter = arg; break;
    case 'c': o->max_packets = count_arg("-c", arg); break;
    case 's': o->max_ns = seconds_arg("-s", arg, false); break;
    case 'm': o->machine = true; break;
    case 'Q': o->quick = true; break;
    case 'q': o->quiet = true; break;
    case 'v': o->verbose = true; break;
    case 'l': o->show_local = true; break;
    case 'h': usage(stdout); exit(0);
    case OPT_SUMINT: o->sum_interval_ns = seconds_arg("--sumInt", arg, false); break;
    case OPT_RTDMAXAGE: o->cfg.rtd_max_age_ns = seconds_arg("--rtdMaxAge", arg, true); break;
    case OPT_FLOWMAXIDLE: o->flow_max_idle_ns = seconds_arg("--flowMaxIdle", arg, true); break;
    case OPT_MAXFLOWS: o->max_flows = max_flows_arg(arg); break;
    case OPT_PACKIDLE:
        o->cfg.pack_idle_ns = strcmp(arg, "never") == 0 ? -1 : seconds_arg("--packIdle", arg, true);
        break;
    case OPT_JSON: o->json = true; break;
    case OPT_FLOWS: o->flows_path = arg; break;
    case 'e': o->replay = true; break;
    case OPT_SPEED: o->speed = speed_arg(arg), o->replay = true; break;
    case OPT_TSPA:
        if (!cm_parse_ts_pure_acks(arg, &o->cfg.ts_pure_acks))
            die(2, "--ts-pure-acks: \"%s\" is not one of clocked, all, none", arg);
        break;
    case ':':
        die(2, "%s needs a value (see connmon -h)", given);
    default: {
        const char *err;
        if (!ops_take_option(&o->ops, c, arg, &err))
            die(2, "unknown option %s (see connmon -h)", given);
        if (err)
            die(2, "%s", err);
    }
    }
}

/* What the options say together. */
static void check_options(options *o)
{
    if (!o->iface == !o->file)
        die(2, "give exactly one of -i IFACE or -r FILE (see connmon -h)");
    if (o->json && o->machine)
        die(2, "--json and -m are two output formats: pick one");
    if (o->flows_path && strcmp(o->flows_path, "-") == 0 && (o->json || o->machine))
        die(2, "--flows - writes the records instead of the per-packet lines: "
               "leave out %s", o->json ? "--json" : "-m");
    if (o->replay && o->iface)
        die(2, "-e / --speed replay a capture file: give -r FILE, not -i");
    const char *err = ops_check(&o->ops, o->iface != NULL, o->json, o->machine,
                                o->flows_path && strcmp(o->flows_path, "-") == 0);
    if (err)
        die(2, "%s", err);
    o->format = o->json ? OUT_JSON : o->machine ? OUT_MACHINE : OUT_HUMAN;
}

static void parse_options(int argc, char **argv, options *o)
{
    set_defaults(o);
    if (argc < 2) {
        usage(stderr);
        exit(2);
    }
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, SHORT_OPTIONS, long_options, NULL)) != -1)
        take_option(o, c, optarg, argv[optind - 1]);
    if (optind < argc)
        die(2, "unexpected argument \"%s\" (see connmon -h)", argv[optind]);
    check_options(o);
}

/* ---- summaries ------------------------------------------------------------ */

/* Two lines on stderr: what was seen (the original's line), then what was
 * forgotten or could not be done, counted rather than hidden. */
static void print_summary(const run_state *st)
{
    if (st->opt->quiet)
        return;
    conn_stats cs = conntrack_stats(st->ct);
    cm_engine_counters ec;
    cm_engine_get_counters(st->eng, &ec);
    fprintf(stderr,
            "%" PRIu64 " flows, %" PRIu64 " packets, %" PRIu64 " no TS opt, %" PRIu64
            " uni-directional, %" PRIu64 " not TCP\n",
            cs.tally.flows, st->n.tcp, st->n.no_ts, cs.tally.one_way, st->n.not_tcp);
    fprintf(stderr,
            "%" PRIu64 " expired idle, %" PRIu64 " streams forgotten, %" PRIu64
            " RTD starts expired, %" PRIu64 " alloc failures, %" PRIu64 " evicted\n",
            cs.expired_idle, ec.streams_forgotten, ec.entries_expired, ec.alloc_failures,
            cs.evicted);
    if (st->opt->verbose) {
        cm_engine_memory m;
        cm_engine_get_memory(st->eng, &m);
        fprintf(stderr,
                "engine: %zu connections (%zu not packed), %zu bytes; packed %" PRIu64
                " times, unpacked %" PRIu64 "\n",
                m.conns, m.conns_hot, m.bytes, ec.conns_packed, ec.conns_unpacked);
    }
}

/* --sumInt: one summary per interval of capture time that ended before t. */
static void print_due_summaries(run_state *st, int64_t t)
{
    int64_t every = st->opt->sum_interval_ns;
    if (!every)
        return;
    if (st->next_summary_ns == 0)
        st->next_summary_ns = t + every;
    while (t >= st->next_summary_ns) {
        print_summary(st);
        st->next_summary_ns += every;
    }
}

/* ---- per packet ----------------------------------------------------------- */

static bool is_local(const run_state *st, const cm_addr *a)
{
    for (int i = 0; i < st->nlocal; i++)
        if (cm_addr_eq(&st->local[i], a))
            return true;
    return false;
}

static void stop(run_state *st)
{
    st->stop = true;
    pcap_breakloop(st->pcap);
}

/* -s on a file: capture time since the first frame. */
static bool past_time_limit(const run_state *st, int64_t t)
{
    return st->opt->max_ns && !st->live && t - st->first_ns >= st->opt->max_ns;
}

/* Sweeps idle connections now and then; values do not depend on when. */
static void sweep_idle_connections(run_state *st, int64_t t)
{
    if (st->opt->flow_max_idle_ns && t >= st->next_sweep_ns) {
        conntrack_expire(st->ct, t);
        st->next_sweep_ns = t + SWEEP_INTERVAL_NS;
    }
}

/* JSON keeps every packet.  The lines keep the original's selection, and
 * without -l leave out packets this host sent: their delays are the
 * host's own reaction time. */
static bool wants_line(const run_state *st, const cm_packet *pkt, const cm_result *r)
{
    const options *o = st->opt;
    if (o->format == OUT_JSON)
        return true;
    return output_selects(r, o->quick) && (o->show_local || !is_local(st, &pkt->src));
}

/* Connection number, analysis, counts, record and the line of one TCP
 * packet. */
static void analyse_packet(run_state *st, cm_packet *pkt)
{
    cm_result r;
    conn *c;
    if (ops_excludes(st->ops, pkt))
        return;
    if (!conntrack_assign(st->ct, pkt, &c) || !cm_engine_analyse(st->eng, pkt, &r))
        die(1, "out of memory");
    st->n.tcp++;
    if (!pkt->has_ts)
        st->n.no_ts++;
    if (st->rs && !records_add(st->rs, pkt, &r))
        die(1, "out of memory");
    ops_packet(st->ops, pkt, &r);
    if (st->lines && wants_line(st, pkt, &r))
        output_line(stdout, st->opt->format, pkt, &r, conntrack_label(st->ct, pkt));
}

/* -e: waits until the frame's offset from the first frame, divided by
 * --speed, has passed on the wall clock.  Frames earlier than the first
 * (time running backwards) are not held. */
static void replay_wait(run_state *st, int64_t t)
{
    if (st->n.frames == 0) {
        clock_gettime(CLOCK_MONOTONIC, &st->replay_start);
        return;
    }
    double due_ns = (double)(t - st->first_ns) / st->opt->speed;
    if (due_ns <= 0)
        return;
    if (due_ns > 1e18)
        due_ns = 1e18;
    int64_t due = (int64_t)due_ns;
    struct timespec at = st->replay_start;
    at.tv_sec += (time_t)(due / 1000000000);
    at.tv_nsec += (long)(due % 1000000000);
    if (at.tv_nsec >= 1000000000) {
        at.tv_sec++;
        at.tv_nsec -= 1000000000;
    }
    fflush(stdout); /* what is due now is out before the wait */
    ops_tick(st->ops);
    while (!got_signal && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR)
        ;
}

/* conntrack forgot a connection: its record is complete. */
static void on_forget(uint32_t stream, void *arg)
{
    run_state *st = arg;
    if (st->rs)
        records_forget(st->rs, stream);
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    run_state *st = (run_state *)user;
    /* opened with nanosecond precision where possible: tv_usec holds ns */
    int64_t t = (int64_t)h->ts.tv_sec * 1000000000 + (int64_t)h->ts.tv_usec * st->subsec_ns;
    if (st->n.frames == 0)
        st->first_ns = t;
    if (past_time_limit(st, t)) {
        stop(st);
        return;
    }
    if (st->opt->replay) {
        replay_wait(st, t);
        if (got_signal) {
            stop(st);
            return;
        }
    }
    st->n.frames++;
    print_due_summaries(st, t);
    sweep_idle_connections(st, t);

    cm_packet pkt;
    memset(&pkt, 0, sizeof pkt);
    if (decode_frame(st->dlt, bytes, h->caplen, h->len, &pkt) == FRAME_TCP) {
        pkt.t_ns = t;
        pkt.frame = (uint32_t)st->n.frames;
        analyse_packet(st, &pkt);
    } else {
        st->n.not_tcp++;
    }
    if (st->opt->max_packets && st->n.frames >= st->opt->max_packets)
        stop(st);
}

/* ---- capture setup and loop ------------------------------------------------ */

static void collect_local_addresses(run_state *st, const char *iface)
{
    pcap_if_t *all;
    char err[PCAP_ERRBUF_SIZE];
    if (pcap_findalldevs(&all, err) != 0)
        return;
    for (pcap_if_t *d = all; d; d = d->next) {
        if (strcmp(d->name, iface) != 0)
            continue;
        for (pcap_addr_t *a = d->addresses; a && st->nlocal < MAX_LOCAL_ADDRS; a = a->next) {
            if (!a->addr)
                continue;
            cm_addr *la = &st->local[st->nlocal];
            memset(la, 0, sizeof *la);
            if (a->addr->sa_family == AF_INET) {
                la->family = 4;
                memcpy(la->bytes, &((struct sockaddr_in *)a->addr)->sin_addr, 4);
                st->nlocal++;
            } else if (a->addr->sa_family == AF_INET6) {
                la->family = 6;
                memcpy(la->bytes, &((struct sockaddr_in6 *)a->addr)->sin6_addr, 16);
                st->nlocal++;
            }
        }
    }
    pcap_freealldevs(all);
}

static pcap_t *open_live(const options *o)
{
    char err[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_create(o->iface, err);
    if (!p)
        die(1, "cannot capture on %s: %s", o->iface, err);
    /* Settings before activation fail only on an activated handle; a
     * device without nanosecond stamps keeps microseconds (fine). */
    if (pcap_set_snaplen(p, LIVE_SNAPLEN) || pcap_set_promisc(p, 1) ||
        pcap_set_timeout(p, 100) || pcap_set_immediate_mode(p, 1))
        die(1, "cannot set up capture on %s: %s", o->iface, pcap_geterr(p));
    if (pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO) && o->verbose)
        fprintf(stderr, "connmon: %s: no nanosecond time stamps, using microseconds\n",
                o->iface);
    int rc = pcap_activate(p);
    /* Without privileges libpcap says "permission denied" before it looks
     * for the device: tell the two apart. */
    if (rc == PCAP_ERROR_NO_SUCH_DEVICE || (rc == PCAP_ERROR_PERM_DENIED && !if_nametoindex(o->iface)))
        die(1, "no such interface: %s", o->iface);
    if (rc == PCAP_ERROR_PERM_DENIED || rc == PCAP_ERROR_PROMISC_PERM_DENIED)
        die(1, "no permission to capture on %s: run as root, or give the binary "
               "cap_net_raw,cap_net_admin (see README)", o->iface);
    if (rc < 0)
        die(1, "cannot capture on %s: %s", o->iface, pcap_geterr(p));
    if (rc > 0 && o->verbose)
        fprintf(stderr, "connmon: warning on %s: %s\n", o->iface, pcap_statustostr(rc));
    return p;
}

static void set_filter(pcap_t *p, const options *o, bool live)
{
    char expr[4096];
    if (o->filter)
        snprintf(expr, sizeof expr, "(%s) and (" LIVE_FILTER ")", o->filter);
    else if (live)
        snprintf(expr, sizeof expr, LIVE_FILTER);
    else
        return; /* files: every frame is read and counted, as Wireshark numbers them */
    struct bpf_program prog;
    if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0)
        die(2, "bad filter \"%s\": %s", o->filter ? o->filter : expr, pcap_geterr(p));
    if (pcap_setfilter(p, &prog) != 0)
        die(1, "cannot set filter: %s", pcap_geterr(p));
    pcap_freecode(&prog);
}

/* Opens the interface or file, checks its link type, sets the filter. */
static void open_capture(run_state *st, const options *o)
{
    char err[PCAP_ERRBUF_SIZE] = "";
    if (st->live) {
        st->pcap = open_live(o);
        collect_local_addresses(st, o->iface);
        setvbuf(stdout, NULL, _IOLBF, 0); /* prompt output when live */
    } else if (o->replay) {
        st->pcap = pcap_open_offline_with_tstamp_precision(o->file, PCAP_TSTAMP_PRECISION_NANO, err);
        if (!st->pcap)
            die(1, "cannot read %s: %s", o->file, err);
        setvbuf(stdout, NULL, _IOLBF, 0); /* lines as they are replayed */
    } else {
        st->pcap = pcap_open_offline_with_tstamp_precision(o->file, PCAP_TSTAMP_PRECISION_NANO, err);
        if (!st->pcap)
            die(1, "cannot read %s: %s", o->file, err);
        static char outbuf[1 << 16];
        setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    }
    st->dlt = pcap_datalink(st->pcap);
    st->subsec_ns = pcap_get_tstamp_precision(st->pcap) == PCAP_TSTAMP_PRECISION_NANO ? 1 : 1000;
    const char *source = st->live ? o->iface : o->file;
    if (!linktype_supported(st->dlt)) {
        const char *name = pcap_datalink_val_to_name(st->dlt);
        die(1, "%s: link type %s (%d) is not supported", source, name ? name : "?", st->dlt);
    }
    set_filter(st->pcap, o, st->live);
    if (o->verbose)
        fprintf(stderr, "connmon: %s, link type %s, rtd max age %.9g s, pure ACKs %s\n", source,
                linktype_name(st->dlt), o->cfg.rtd_max_age_ns / 1e9,
                cm_ts_pure_acks_name(o->cfg.ts_pure_acks));
}

static void catch_signals(pcap_t *pcap)
{
    signal_pcap = pcap;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static int64_t wall_elapsed_ns(const run_state *st)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)(now.tv_sec - st->wall_start.tv_sec) * 1000000000 +
           (now.tv_nsec - st->wall_start.tv_nsec);
}

/* Reads packets until the end of the file, a limit, a signal or an error;
 * returns the exit status (0, or 1 / 3 after a capture / file error). */
static int capture_loop(run_state *st)
{
    const options *o = st->opt;
    char err[PCAP_ERRBUF_SIZE] = "";
    int fd = -1;
    if (st->live && pcap_setnonblock(st->pcap, 1, err) == 0)
        fd = pcap_get_selectable_fd(st->pcap);
    clock_gettime(CLOCK_MONOTONIC, &st->wall_start);
    while (!st->stop && !got_signal) {
        if (fd >= 0) {
            /* wake up at least every 100 ms for -s and signals */
            struct pollfd pfd = {.fd = fd, .events = POLLIN};
            if (poll(&pfd, 1, 100) < 0 && errno != EINTR)
                die(1, "poll: %s", strerror(errno));
        }
        int rc = pcap_dispatch(st->pcap, st->live ? -1 : FILE_BATCH, on_packet, (u_char *)st);
        if (rc == PCAP_ERROR) {
            fflush(stdout);
            fprintf(stderr, "connmon: %s: %s (stopped after %" PRIu64 " packets)\n",
                    st->live ? o->iface : o->file, pcap_geterr(st->pcap), st->n.frames);
            return st->live ? 1 : 3;
        }
        ops_tick(st->ops);
        if (rc == 0 && !st->live)
            break; /* end of file */
        if (rc == 0 && st->live && fd < 0 && o->max_ns == 0)
            continue;
        if (ferror(stdout))
            break; /* reader went away */
        if (st->live && o->max_ns && wall_elapsed_ns(st) >= o->max_ns)
            break;
    }
    return 0;
}

/* --flows: where the records go ("-": stdout, instead of the lines). */
static void open_flows(run_state *st, const options *o)
{
    st->lines = true;
    if (!o->flows_path)
        return;
    if (strcmp(o->flows_path, "-") == 0) {
        st->flows_out = stdout;
        st->lines = false;
    } else {
        st->flows_out = fopen(o->flows_path, "w");
        if (!st->flows_out)
            die(1, "cannot write %s: %s", o->flows_path, strerror(errno));
    }
    st->rs = records_new(st->flows_out, st->live || o->replay);
    if (!st->rs)
        die(1, "out of memory");
    conntrack_on_forget(st->ct, on_forget, st);
}

/* End of input: the records still held, in first-frame order. */
static int close_flows(run_state *st, int status)
{
    if (!st->rs)
        return status;
    records_finish(st->rs);
    if (st->opt->verbose) {
        records_stats rstats = records_get_stats(st->rs);
        fprintf(stderr, "connmon: %" PRIu64 " connection records written (%" PRIu64
                " bytes each on average while held, at most %" PRIu64 "), %" PRIu64
                " delays left out of them for lack of memory\n", rstats.written,
                rstats.written ? rstats.bytes_total / rstats.written : 0, rstats.bytes_max,
                rstats.samples_lost);
    }
    records_free(st->rs);
    st->rs = NULL;
    if (st->flows_out != stdout && fclose(st->flows_out) != 0) {
        fprintf(stderr, "connmon: cannot write %s: %s\n", st->opt->flows_path, strerror(errno));
        return status ? status : 1;
    }
    return status;
}

/* --output, --fanout, --aggregate, --metrics (ops.h). */
static void start_ops(run_state *st, const options *o)
{
    char err[512];
    st->ops = ops_start(&o->ops, st->pcap, st->live, st->live || o->replay, o->quiet, st->ct,
                        err, sizeof err);
    if (!st->ops)
        die(1, "%s", err);
    if (st->flows_out && st->flows_out != stdout)
        ops_reopen_on_hup(st->ops, st->flows_out, o->flows_path);
    if (ops_replaces_lines(st->ops))
        st->lines = false;
}

int main(int argc, char **argv)
{
    options o;
    parse_options(argc, argv, &o);

    run_state st;
    memset(&st, 0, sizeof st);
    st.opt = &o;
    st.live = o.iface != NULL;
    open_capture(&st, &o);
    st.eng = cm_engine_new(&o.cfg);
    st.ct = st.eng ? conntrack_new(st.eng, o.flow_max_idle_ns, (size_t)o.max_flows) : NULL;
    if (!st.ct)
        die(1, "out of memory");
    open_flows(&st, &o);
    start_ops(&st, &o);
    catch_signals(st.pcap);

    int status = capture_loop(&st);
    ops_end(st.ops);
    status = close_flows(&st, status);
    fflush(stdout);
    print_summary(&st);
    ops_linger(st.ops, &got_signal);
    ops_free(st.ops);
    ops_options_free(&o.ops);
    conntrack_free(st.ct);
    cm_engine_free(st.eng);
    pcap_close(st.pcap);
    return status;
}
