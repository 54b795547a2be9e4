/* Operator features around the per-packet path: see ops.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE
#include "ops.h"

#include <errno.h>
#ifdef __GLIBC__
#include <stdio_ext.h>
#endif
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregate.h"
#include "fanout.h"
#include "metrics.h"
#include "metrics_http.h"

#define NS_PER_S INT64_C(1000000000)
#define METRICS_REFRESH_NS NS_PER_S   /* a fresh text at most this often, unless asked */
#define METRICS_CLOCK_EVERY 1024      /* packets between looks at the clock */
#define LIVE_GRACE_NS INT64_C(250000000) /* live: close an interval this long after its end */
#define DEFAULT_AGG_PREFIXES 10000
#define MAX_REOPEN 4

/* ---- options ---------------------------------------------------------------------- */

void ops_options_init(ops_options *oo)
{
    memset(oo, 0, sizeof *oo);
    oo->len4 = CM_AGG_DEFAULT_LEN4;
    oo->len6 = CM_AGG_DEFAULT_LEN6;
    oo->aggregate_prefixes = DEFAULT_AGG_PREFIXES;
    oo->metrics_prefixes = CM_METRICS_DEFAULT_MAX_PREFIXES;
    cm_prefix_list_init(&oo->exclude);
}

void ops_options_free(ops_options *oo)
{
    cm_prefix_list_free(&oo->exclude);
}

static char err_buf[512];

static const char *fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_buf, sizeof err_buf, fmt, ap);
    va_end(ap);
    return err_buf;
}

/* A whole number 0 .. max. */
static bool whole_arg(const char *text, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    for (; text[i] >= '0' && text[i] <= '9'; i++) {
        v = v * 10 + (uint64_t)(text[i] - '0');
        if (v > max)
            return false;
    }
    if (i == 0 || text[i] != '\0')
        return false;
    *out = v;
    return true;
}

static const char *take_exclude(ops_options *oo, const char *arg)
{
    cm_prefix p;
    const char *bad = cm_prefix_parse(arg, &p);
    if (bad && strstr(bad, "bits")) {
        char meant[CM_PREFIX_TEXT_MAX];
        cm_prefix_format(&p, meant, sizeof meant);
        return fail("--exclude: \"%s\" %s (did you mean %s?)", arg, bad, meant);
    }
    if (bad)
        return fail("--exclude: \"%s\" %s", arg, bad);
    if (!cm_prefix_list_add(&oo->exclude, &p))
        return fail("out of memory");
    return NULL;
}

bool ops_take_option(ops_options *oo, int c, const char *arg, const char **err)
{
    const char *bad;
    uint64_t v = 0;
    *err = NULL;
    switch (c) {
    case OPS_OPT_AGGREGATE:
        if ((bad = cm_parse_seconds(arg, &oo->aggregate_ns)) != NULL)
            *err = fail("--aggregate: \"%s\" %s", arg, bad);
        else if (oo->aggregate_ns <= 0)
            *err = fail("--aggregate: must be greater than 0");
        return true;
    case OPS_OPT_AGG_PREFIXES:
        if (!whole_arg(arg, SIZE_MAX, &v))
            *err = fail("--aggregate-prefixes: \"%s\" is not a whole number", arg);
        oo->aggregate_prefixes = (size_t)v;
        return true;
    case OPS_OPT_PREFIX4:
        if ((bad = cm_prefix_parse_len(arg, 4, &oo->len4)) != NULL)
            *err = fail("--prefix4: \"%s\" %s", arg, bad);
        return true;
    case OPS_OPT_PREFIX6:
        if ((bad = cm_prefix_parse_len(arg, 6, &oo->len6)) != NULL)
            *err = fail("--prefix6: \"%s\" %s", arg, bad);
        return true;
    case OPS_OPT_EXCLUDE:
        *err = take_exclude(oo, arg);
        return true;
    case OPS_OPT_METRICS: {
        char host[128];
        unsigned port;
        if ((bad = metrics_http_parse_listen(arg, host, sizeof host, &port)) != NULL)
            *err = fail("--metrics: \"%s\" %s", arg, bad);
        oo->metrics_listen = arg;
        return true;
    }
    case OPS_OPT_METRICS_PREFIXES:
        if (!whole_arg(arg, SIZE_MAX, &v))
            *err = fail("--metrics-prefixes: \"%s\" is not a whole number", arg);
        oo->metrics_prefixes = (size_t)v;
        return true;
    case OPS_OPT_FANOUT:
        if ((bad = fanout_parse_group(arg, &oo->fanout_group)) != NULL)
            *err = fail("--fanout: \"%s\" %s", arg, bad);
        oo->fanout = true;
        return true;
    case OPS_OPT_OUTPUT:
        oo->output_path = arg;
        return true;
    default:
        return false;
    }
}

const char *ops_check(const ops_options *oo, bool live, bool json, bool machine,
                      bool flows_stdout)
{
    if (oo->aggregate_ns && (json || machine))
        return fail("--aggregate writes JSON lines per interval and prefix instead of the "
                    "per-packet lines: leave out %s", json ? "--json" : "-m");
    if (oo->aggregate_ns && flows_stdout)
        return fail("--aggregate and --flows - would both write to stdout: give --flows a file");
    if (oo->fanout && !live)
        return fail("--fanout shares a live interface: give -i IFACE");
    if (oo->metrics_listen && !metrics_http_available())
        return fail("--metrics: this connmon was built without libmicrohttpd "
                    "(install libmicrohttpd-dev and build again)");
    return NULL;
}

/* ---- the run ------------------------------------------------------------------------ */

typedef struct reopen {
    FILE *f;
    const char *path;
} reopen;

struct ops {
    const ops_options *oo;
    bool live, pace_live, quiet;
    conntrack *ct;
    cm_agg *agg;                /* --aggregate, or NULL */
    cm_metrics *metrics;        /* --metrics, or NULL */
    metrics_http *http;
    bool metrics_dirty;         /* counted since the last publish */
    int64_t metrics_published;  /* monotonic ns of the last publish */
    uint32_t until_clock;       /* packets until the next look at the clock */
    size_t text_hint;           /* the last text's size, for the next buffer */
    uint64_t excluded;          /* packets left out (--exclude) */
    reopen reopen[MAX_REOPEN];  /* reopened on SIGHUP */
    int nreopen;
};

static volatile sig_atomic_t got_hup;

static void on_hup(int sig)
{
    (void)sig;
    got_hup = 1;
}

static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* One aggregate record: a JSON line on stdout. */
static void write_record(const cm_agg_record *rec, void *arg)
{
    (void)arg;
    char line[CM_AGG_JSON_MAX];
    cm_agg_record_json(rec, line, sizeof line);
    fputs(line, stdout);
    fputc('\n', stdout);
}

/* Formats the metrics and hands the text to the server. */
static void publish_metrics(ops *s)
{
    conn_stats cs = conntrack_stats(s->ct);
    cm_metrics_set_connections(s->metrics, conntrack_count(s->ct),
                               cs.expired_idle + cs.evicted);
    size_t size = s->text_hint + s->text_hint / 4 + 4096;
    char *buf = malloc(size);
    if (!buf)
        return; /* the server keeps the previous text */
    size_t n = cm_metrics_format(s->metrics, buf, size);
    if (n >= size) {
        char *bigger = realloc(buf, n + 1);
        if (!bigger) {
            free(buf);
            return;
        }
        buf = bigger;
        cm_metrics_format(s->metrics, buf, n + 1);
    }
    s->text_hint = n;
    metrics_http_publish(s->http, buf, n);
    s->metrics_dirty = false;
    s->metrics_published = clock_ns(CLOCK_MONOTONIC);
}

static bool open_output(const ops_options *oo, bool pace_live, char *err, size_t err_size)
{
    if (!oo->output_path)
        return true;
    if (!freopen(oo->output_path, "a", stdout)) {
        snprintf(err, err_size, "cannot write %s: %s", oo->output_path, strerror(errno));
        return false;
    }
    if (pace_live)
        setvbuf(stdout, NULL, _IOLBF, 0);
    return true;
}

/* With the server thread the process is no longer single-threaded, and
 * glibc then locks a FILE on every call: two fread per packet in libpcap,
 * several writes per line on stdout, a few percent of the packet rate.
 * Only the packet thread touches these two, so they go without locks
 * (with or without the server: the same code either way). */
static void unlock_stream(FILE *f)
{
#ifdef __GLIBC__
    if (f)
        __fsetlocking(f, FSETLOCKING_BYCALLER);
#else
    (void)f;
#endif
}

static void unlock_streams(pcap_t *p)
{
    unlock_stream(stdout);
    unlock_stream(p ? pcap_file(p) : NULL);
}

static bool start_metrics(ops *s, char *err, size_t err_size)
{
    const ops_options *oo = s->oo;
    cm_metrics_config mc = {oo->len4, oo->len6, oo->metrics_prefixes};
    s->metrics = cm_metrics_new(&mc);
    if (!s->metrics) {
        snprintf(err, err_size, "out of memory");
        return false;
    }
    char why[256];
    s->http = metrics_http_start(oo->metrics_listen, why, sizeof why);
    if (!s->http) {
        snprintf(err, err_size, "--metrics: %s", why);
        return false;
    }
    publish_metrics(s);
    fprintf(stderr, "connmon: metrics: serving %s\n", metrics_http_url(s->http));
    return true;
}

ops *ops_start(const ops_options *oo, pcap_t *p, bool live, bool pace_live, bool quiet,
               conntrack *ct, char *err, size_t err_size)
{
    ops *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    s->oo = oo;
    s->live = live;
    s->pace_live = pace_live;
    s->quiet = quiet;
    s->ct = ct;
    s->until_clock = METRICS_CLOCK_EVERY;
    if (!open_output(oo, pace_live, err, err_size))
        goto fail;
    if (oo->output_path)
        ops_reopen_on_hup(s, stdout, oo->output_path);
    if (oo->fanout && fanout_join(p, oo->fanout_group, err, err_size))
        goto fail;
    if (oo->fanout && !quiet)
        fprintf(stderr, "connmon: fanout: joined group %u (flow hash)\n", oo->fanout_group);
    if (oo->aggregate_ns) {
        cm_agg_config ac = {oo->aggregate_ns, oo->len4, oo->len6, oo->aggregate_prefixes};
        s->agg = cm_agg_new(&ac, write_record, s);
        if (!s->agg) {
            snprintf(err, err_size, "out of memory");
            goto fail;
        }
    }
    if (oo->metrics_listen && !start_metrics(s, err, err_size))
        goto fail;
    unlock_streams(p);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    return s;
fail:
    ops_free(s);
    return NULL;
}

void ops_reopen_on_hup(ops *s, FILE *f, const char *path)
{
    if (s->nreopen < MAX_REOPEN)
        s->reopen[s->nreopen++] = (reopen){f, path};
}

bool ops_replaces_lines(const ops *s)
{
    return s->agg != NULL;
}

bool ops_excludes(ops *s, const cm_packet *pkt)
{
    const cm_prefix_list *l = &s->oo->exclude;
    if (l->n == 0)
        return false;
    if (cm_prefix_list_match(l, &pkt->src) || cm_prefix_list_match(l, &pkt->dst)) {
        s->excluded++;
        return true;
    }
    return false;
}

void ops_packet(ops *s, const cm_packet *pkt, const cm_result *r)
{
    if (s->agg)
        cm_agg_add(s->agg, pkt, r);
    if (!s->metrics)
        return;
    cm_metrics_add(s->metrics, pkt, r);
    s->metrics_dirty = true;
    if (metrics_http_wanted(s->http)) {
        publish_metrics(s);
    } else if (--s->until_clock == 0) {
        s->until_clock = METRICS_CLOCK_EVERY;
        if (clock_ns(CLOCK_MONOTONIC) - s->metrics_published >= METRICS_REFRESH_NS)
            publish_metrics(s);
    }
}

/* SIGHUP: every output file closed and opened again (appending), so a
 * rotated log gets a new file.  Checked by opening first, so a failure
 * leaves the old file in use. */
static void reopen_outputs(ops *s)
{
    for (int i = 0; i < s->nreopen; i++) {
        reopen *r = &s->reopen[i];
        FILE *probe = fopen(r->path, "a");
        if (!probe) {
            fprintf(stderr, "connmon: SIGHUP: cannot reopen %s: %s (still writing the old file)\n",
                    r->path, strerror(errno));
            continue;
        }
        fclose(probe);
        fflush(r->f);
        if (!freopen(r->path, "a", r->f)) {
            fprintf(stderr, "connmon: SIGHUP: cannot reopen %s: %s\n", r->path, strerror(errno));
            continue;
        }
        if (s->pace_live)
            setvbuf(r->f, NULL, _IOLBF, 0);
        if (r->f == stdout)
            unlock_stream(stdout);
        fprintf(stderr, "connmon: SIGHUP: reopened %s\n", r->path);
    }
    if (s->nreopen == 0)
        fprintf(stderr, "connmon: SIGHUP: no output file to reopen (stdout, or input ended)\n");
}

void ops_tick(ops *s)
{
    if (got_hup) {
        got_hup = 0;
        reopen_outputs(s);
    }
    if (s->agg && s->live)
        cm_agg_advance(s->agg, clock_ns(CLOCK_REALTIME) - LIVE_GRACE_NS);
    if (s->metrics) {
        bool wanted = metrics_http_wanted(s->http);
        if (wanted || (s->metrics_dirty &&
                       clock_ns(CLOCK_MONOTONIC) - s->metrics_published >= METRICS_REFRESH_NS))
            publish_metrics(s);
    }
}

void ops_end(ops *s)
{
    s->nreopen = 0; /* nothing more is written; main.c closes the files */
    if (s->agg)
        cm_agg_flush(s->agg);
    fflush(stdout);
    if (s->metrics)
        publish_metrics(s);
    if (s->quiet)
        return;
    if (s->oo->exclude.n)
        fprintf(stderr, "connmon: %" PRIu64 " packets excluded (--exclude)\n", s->excluded);
    if (s->agg) {
        cm_agg_counters c;
        cm_agg_get_counters(s->agg, &c);
        if (c.packets_lost || c.halves_lost)
            fprintf(stderr, "connmon: aggregates: %" PRIu64 " packets and %" PRIu64
                    " delays left out for lack of memory\n", c.packets_lost, c.halves_lost);
    }
}

void ops_linger(ops *s, volatile sig_atomic_t *stop)
{
    if (!s->http || *stop)
        return;
    fprintf(stderr, "connmon: metrics: input ended, still serving %s until SIGINT or SIGTERM\n",
            metrics_http_url(s->http));
    const struct timespec step = {0, 100000000};
    while (!*stop) {
        ops_tick(s);
        nanosleep(&step, NULL);
    }
}

void ops_free(ops *s)
{
    if (!s)
        return;
    metrics_http_stop(s->http);
    cm_metrics_free(s->metrics);
    cm_agg_free(s->agg);
    free(s);
}
