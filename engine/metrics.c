/* Prometheus metrics: see metrics.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "textbuf.h"
#include "metrics.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hashtab.h"

#define NS_PER_S INT64_C(1000000000)

/* One connmon_rtd_seconds series. */
typedef struct series {
    cm_hnode node;                  /* node.hash: cm_prefix_hash(&prefix) */
    cm_prefix prefix;
    uint64_t slots[CM_HIST_BUCKETS]; /* per slot (cm_metrics_slot), not cumulative */
    int64_t sum_s;                  /* exact sum of the values: sum_s + sum_ns / 1e9, */
    int64_t sum_ns;                 /*   0 <= sum_ns < 2^62 (carried into sum_s
                                         when larger, and when formatting) */
} series;

struct cm_metrics {
    cm_metrics_config cfg;
    uint64_t packets, payload_bytes, holes, behind, dupacks;
    uint64_t connections, evicted;
    cm_htab by_prefix;     /* series by prefix, for counting */
    series **sorted;       /* the same series in cm_prefix_cmp order, for output */
    size_t nsorted, cap;
    series other;          /* prefixes past max_prefixes */
    series *recent[2];     /* the series of the latest halves: consecutive
                              halves mostly come from the same one or two
                              prefixes (the two sides of busy connections) */
    int64_t bounds[CM_METRICS_FINITE_BUCKETS]; /* cm_metrics_bound, at hand */
};

cm_metrics *cm_metrics_new(const cm_metrics_config *cfg)
{
    cm_metrics *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    if (!cm_htab_init(&m->by_prefix, 64)) {
        free(m);
        return NULL;
    }
    m->cfg = *cfg;
    for (unsigned i = 0; i < CM_METRICS_FINITE_BUCKETS; i++)
        m->bounds[i] = cm_metrics_bound(i);
    return m;
}

void cm_metrics_free(cm_metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nsorted; i++)
        free(m->sorted[i]);
    free(m->sorted);
    cm_htab_destroy(&m->by_prefix);
    free(m);
}

/* ---- buckets -------------------------------------------------------------------- */

int64_t cm_metrics_bound(unsigned i)
{
    return cm_hist_lower(i + 1); /* the display histogram's upper edges */
}

unsigned cm_metrics_slot(int64_t v)
{
    /* Prometheus buckets count values <= le: the first bound >= v, by
     * bisection (4 compares per value) */
    unsigned lo = 0, hi = CM_METRICS_FINITE_BUCKETS;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (v <= cm_hist_lower(mid + 1))
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* ---- counting --------------------------------------------------------------------- */

/* Inserts s into the sorted array; false when the array cannot grow. */
static bool insert_sorted(cm_metrics *m, series *s)
{
    if (m->nsorted == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        series **v = realloc(m->sorted, cap * sizeof *v);
        if (!v)
            return false;
        m->sorted = v;
        m->cap = cap;
    }
    size_t lo = 0, hi = m->nsorted;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cm_prefix_cmp(&m->sorted[mid]->prefix, &s->prefix) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(&m->sorted[lo + 1], &m->sorted[lo], (m->nsorted - lo) * sizeof *m->sorted);
    m->sorted[lo] = s;
    m->nsorted++;
    return true;
}

/* The series of prefix p: found, made, or "other" (over the limit, or out
 * of memory). */
static series *lookup(cm_metrics *m, const cm_prefix *p)
{
    uint32_t h = cm_prefix_hash(p);
    for (cm_hnode *n = cm_htab_first(&m->by_prefix, h); n; n = cm_htab_next(n)) {
        series *s = (series *)n;
        if (cm_prefix_eq(&s->prefix, p))
            return s;
    }
    if (m->nsorted >= m->cfg.max_prefixes)
        return &m->other;
    series *s = calloc(1, sizeof *s);
    if (!s)
        return &m->other;
    s->node.hash = h;
    s->prefix = *p;
    if (!insert_sorted(m, s)) {
        free(s);
        return &m->other;
    }
    cm_htab_insert(&m->by_prefix, &s->node);
    return s;
}

#define SUM_CARRY (INT64_C(1) << 62)

/* sum_s + sum_ns / 1e9 with 0 <= sum_ns < 1e9. */
static void carry(int64_t *sum_s, int64_t *sum_ns)
{
    int64_t q = *sum_ns / NS_PER_S, r = *sum_ns % NS_PER_S;
    if (r < 0) {
        r += NS_PER_S;
        q--;
    }
    *sum_s += q;
    *sum_ns = r;
}

/* The series of prefix p, through the two most recent ones first. */
static series *series_for(cm_metrics *m, const cm_prefix *p)
{
    for (int i = 0; i < 2; i++) {
        series *s = m->recent[i];
        if (s && s != &m->other && cm_prefix_eq(&s->prefix, p)) {
            m->recent[i] = m->recent[0]; /* most recent first */
            m->recent[0] = s;
            return s;
        }
    }
    series *s = lookup(m, p);
    m->recent[1] = m->recent[0];
    m->recent[0] = s;
    return s;
}

/* cm_metrics_slot on the bounds at hand. */
static unsigned slot_of(const cm_metrics *m, int64_t v)
{
    unsigned lo = 0, hi = CM_METRICS_FINITE_BUCKETS;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (v <= m->bounds[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static void observe(const cm_metrics *m, series *s, int64_t v)
{
    s->slots[slot_of(m, v)]++;
    /* a plain add per value; a carry only every 2^62 ns (146 years) of
     * delays, or for a negative value (which delays never are) */
    if (v < 0 || v >= SUM_CARRY - s->sum_ns) {
        s->sum_s += v / NS_PER_S;
        s->sum_ns += v % NS_PER_S;
        carry(&s->sum_s, &s->sum_ns);
    } else {
        s->sum_ns += v;
    }
}

void cm_metrics_add(cm_metrics *m, const cm_packet *pkt, const cm_result *res)
{
    m->packets++;
    m->payload_bytes += res->payload;
    m->holes += (res->expert & CM_EXPERT_HOLE) != 0;
    m->behind += (res->expert & CM_EXPERT_BEHIND) != 0;
    m->dupacks += (res->expert & CM_EXPERT_DUPACK) != 0;
    /* the half: tsrtd, else seqrtd */
    int64_t half;
    if (res->present & CM_HAS_TSRTD)
        half = res->tsrtd_ns;
    else if (res->present & CM_HAS_SEQRTD)
        half = res->seqrtd_ns;
    else
        return;
    cm_prefix p;
    cm_prefix_of_family(&pkt->src, m->cfg.len4, m->cfg.len6, &p);
    observe(m, series_for(m, &p), half);
}

void cm_metrics_set_connections(cm_metrics *m, uint64_t held, uint64_t evicted_total)
{
    m->connections = held;
    m->evicted = evicted_total;
}

size_t cm_metrics_prefix_count(const cm_metrics *m)
{
    return m->nsorted;
}

/* ---- exposition ------------------------------------------------------------------- */

/* The text writer: engine/textbuf.h */
typedef cm_textbuf writer;
#define put cm_text_put

static void put_family(writer *w, const char *name, const char *type, const char *help)
{
    put(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_scalar(writer *w, const char *name, const char *type, const char *help,
                       uint64_t v)
{
    put_family(w, name, type, help);
    put(w, "%s %" PRIu64 "\n", name, v);
}

/* A bound in seconds, shortest exact form: "0.0001", "0.02", "1", "10". */
static void put_bound(writer *w, int64_t ns) /* ns > 0 */
{
    int64_t frac = ns % NS_PER_S;
    if (frac == 0) {
        put(w, "%" PRId64, ns / NS_PER_S);
        return;
    }
    char digits[24];
    snprintf(digits, sizeof digits, "%09" PRIu64, (uint64_t)frac);
    size_t n = strlen(digits);
    while (n > 1 && digits[n - 1] == '0')
        n--;
    put(w, "%" PRId64 ".%.*s", ns / NS_PER_S, (int)n, digits);
}

static void put_series(writer *w, const series *s, const char *label)
{
    uint64_t cum = 0;
    for (unsigned i = 0; i < CM_METRICS_FINITE_BUCKETS; i++) {
        cum += s->slots[i];
        put(w, "connmon_rtd_seconds_bucket{prefix=\"%s\",le=\"", label);
        put_bound(w, cm_metrics_bound(i));
        put(w, "\"} %" PRIu64 "\n", cum);
    }
    cum += s->slots[CM_METRICS_FINITE_BUCKETS];
    put(w, "connmon_rtd_seconds_bucket{prefix=\"%s\",le=\"+Inf\"} %" PRIu64 "\n", label, cum);
    int64_t sum_s = s->sum_s, sum_ns = s->sum_ns;
    carry(&sum_s, &sum_ns);
    if (sum_s >= 0)
        put(w, "connmon_rtd_seconds_sum{prefix=\"%s\"} %" PRId64 ".%09" PRId64 "\n", label,
            sum_s, sum_ns);
    else /* negative delays cannot happen; shown approximately if they did */
        put(w, "connmon_rtd_seconds_sum{prefix=\"%s\"} %.9f\n", label,
            (double)sum_s + (double)sum_ns / 1e9);
    put(w, "connmon_rtd_seconds_count{prefix=\"%s\"} %" PRIu64 "\n", label, cum);
}

size_t cm_metrics_format(const cm_metrics *m, char *buf, size_t size)
{
    writer w = {buf, size, 0};
    if (size)
        buf[0] = '\0';
    put_scalar(&w, "connmon_packets_total", "counter", "TCP packets analysed.", m->packets);
    put_scalar(&w, "connmon_payload_bytes_total", "counter",
               "TCP payload bytes of the analysed packets (retransmissions included).",
               m->payload_bytes);
    put_scalar(&w, "connmon_holes_total", "counter",
               "Packets after bytes never seen: lost before the capture point.", m->holes);
    put_scalar(&w, "connmon_behind_total", "counter",
               "Packets behind the highest sequence seen: retransmissions or reordering.",
               m->behind);
    put_scalar(&w, "connmon_dupacks_total", "counter", "Duplicate ACKs.", m->dupacks);
    put_scalar(&w, "connmon_connections_evicted_total", "counter",
               "Connections dropped: idle, or to keep memory bounded.", m->evicted);
    put_scalar(&w, "connmon_connections", "gauge", "Connections held now.", m->connections);
    put_family(&w, "connmon_rtd_seconds", "histogram",
               "Round-trip delays from the capture point to the sender of a packet and back "
               "(tsrtd, else seqrtd), by the sender's address prefix.");
    char label[CM_PREFIX_TEXT_MAX];
    for (size_t i = 0; i < m->nsorted; i++) {
        cm_prefix_format(&m->sorted[i]->prefix, label, sizeof label);
        put_series(&w, m->sorted[i], label);
    }
    put_series(&w, &m->other, "other");
    return w.len;
}
