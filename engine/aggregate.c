/* Aggregates per interval and source prefix: see aggregate.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "textbuf.h"
#include "aggregate.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hashtab.h"

/* A record of the open interval, found by its prefix. */
typedef struct agg_entry {
    cm_hnode node;       /* node.hash: cm_prefix_hash of rec.prefix */
    cm_agg_record rec;
} agg_entry;

struct cm_agg {
    cm_agg_config cfg;
    cm_agg_emit_fn emit;
    void *emit_arg;
    cm_htab by_prefix;   /* agg_entry of the open interval */
    agg_entry other;     /* prefixes past max_prefixes; used when packets > 0 */
    bool have_time;      /* latest_ns is set */
    int64_t latest_ns;   /* the largest time seen (packets and the clock) */
    bool open;           /* an interval is open */
    int64_t start_ns;    /* its start */
    cm_agg_counters counters;
};

cm_agg *cm_agg_new(const cm_agg_config *cfg, cm_agg_emit_fn emit, void *arg)
{
    if (cfg->interval_ns <= 0)
        return NULL;
    cm_agg *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    if (!cm_htab_init(&a->by_prefix, 64)) {
        free(a);
        return NULL;
    }
    a->cfg = *cfg;
    a->emit = emit;
    a->emit_arg = arg;
    a->other.rec.other = true;
    return a;
}

static void free_entry(cm_hnode *n, void *arg)
{
    cm_htab *t = arg;
    agg_entry *e = (agg_entry *)n;
    cm_htab_remove(t, n);
    cm_sketch_free(&e->rec.halves);
    free(e);
}

static void reset_other(cm_agg *a)
{
    cm_sketch_free(&a->other.rec.halves);
    memset(&a->other.rec, 0, sizeof a->other.rec);
    a->other.rec.other = true;
}

void cm_agg_free(cm_agg *a)
{
    if (!a)
        return;
    cm_htab_each(&a->by_prefix, free_entry, &a->by_prefix);
    cm_htab_destroy(&a->by_prefix);
    reset_other(a);
    free(a);
}

/* ---- closing an interval ------------------------------------------------------------ */

typedef struct collect {
    agg_entry **v;
    size_t n;
} collect;

static void collect_entry(cm_hnode *n, void *arg)
{
    collect *c = arg;
    c->v[c->n++] = (agg_entry *)n;
}

static int by_prefix(const void *x, const void *y)
{
    const agg_entry *a = *(agg_entry *const *)x, *b = *(agg_entry *const *)y;
    return cm_prefix_cmp(&a->rec.prefix, &b->rec.prefix);
}

static void emit_record(cm_agg *a, agg_entry *e)
{
    e->rec.start_ns = a->start_ns;
    a->emit(&e->rec, a->emit_arg);
    a->counters.records_emitted++;
}

/* Emits the open interval's records in prefix order, sorted through an
 * array of pointers; without memory for that array, in table order. */
static void close_interval(cm_agg *a)
{
    size_t n = a->by_prefix.count;
    collect c = {n ? malloc(n * sizeof *c.v) : NULL, 0};
    if (c.v) {
        cm_htab_each(&a->by_prefix, collect_entry, &c);
        qsort(c.v, c.n, sizeof *c.v, by_prefix);
        for (size_t i = 0; i < c.n; i++)
            emit_record(a, c.v[i]);
        free(c.v);
    } else if (n) {
        for (size_t b = 0; b < a->by_prefix.nbuckets; b++)
            for (cm_hnode *h = a->by_prefix.buckets[b]; h; h = h->next)
                emit_record(a, (agg_entry *)h);
    }
    if (a->other.rec.packets)
        emit_record(a, &a->other);
    cm_htab_each(&a->by_prefix, free_entry, &a->by_prefix);
    reset_other(a);
    a->open = false;
}

/* The start of the interval holding t: floor(t / N) * N. */
static int64_t interval_start(int64_t t, int64_t n)
{
    int64_t r = t % n;
    return r < 0 ? t - r - n : t - r;
}

/* The clock (a packet's time or the caller's) reached t. */
static void reach(cm_agg *a, int64_t t)
{
    if (!a->have_time || t > a->latest_ns) {
        a->latest_ns = t;
        a->have_time = true;
    }
    if (a->open && a->latest_ns - a->start_ns >= a->cfg.interval_ns)
        close_interval(a);
}

void cm_agg_advance(cm_agg *a, int64_t now_ns)
{
    reach(a, now_ns);
}

void cm_agg_flush(cm_agg *a)
{
    if (a->open)
        close_interval(a);
}

/* ---- counting a packet -------------------------------------------------------------- */

/* The record of prefix p in the open interval: found, made, or "other"
 * when the interval has max_prefixes records already.  NULL when a new
 * record cannot be allocated. */
static cm_agg_record *record_for(cm_agg *a, const cm_prefix *p)
{
    uint32_t h = cm_prefix_hash(p);
    for (cm_hnode *n = cm_htab_first(&a->by_prefix, h); n; n = cm_htab_next(n)) {
        agg_entry *e = (agg_entry *)n;
        if (cm_prefix_eq(&e->rec.prefix, p))
            return &e->rec;
    }
    if (a->cfg.max_prefixes && a->by_prefix.count >= a->cfg.max_prefixes)
        return &a->other.rec;
    agg_entry *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->node.hash = h;
    e->rec.prefix = *p;
    cm_htab_insert(&a->by_prefix, &e->node);
    return &e->rec;
}

/* The half of a packet (SPEC "End-to-end round trips"): its tsrtd, else
 * its seqrtd. */
static bool half_of(const cm_result *res, int64_t *half)
{
    if (res->present & CM_HAS_TSRTD)
        *half = res->tsrtd_ns;
    else if (res->present & CM_HAS_SEQRTD)
        *half = res->seqrtd_ns;
    else
        return false;
    return true;
}

bool cm_agg_add(cm_agg *a, const cm_packet *pkt, const cm_result *res)
{
    reach(a, pkt->t_ns);
    if (!a->open) {
        a->start_ns = interval_start(a->latest_ns, a->cfg.interval_ns);
        a->open = true;
    }
    cm_prefix p;
    cm_prefix_of_family(&pkt->src, a->cfg.len4, a->cfg.len6, &p);
    cm_agg_record *r = record_for(a, &p);
    if (!r) {
        a->counters.packets_lost++;
        return false;
    }
    r->packets++;
    r->payload_bytes += res->payload;
    r->hole += (res->expert & CM_EXPERT_HOLE) != 0;
    r->behind += (res->expert & CM_EXPERT_BEHIND) != 0;
    r->dupack += (res->expert & CM_EXPERT_DUPACK) != 0;
    int64_t half;
    if (half_of(res, &half) && !cm_sketch_add(&r->halves, half)) {
        a->counters.halves_lost++;
        return false;
    }
    return true;
}

void cm_agg_get_counters(const cm_agg *a, cm_agg_counters *out)
{
    *out = a->counters;
}

/* ---- JSON --------------------------------------------------------------------------- */

/* The text writer: engine/textbuf.h */
typedef cm_textbuf writer;
#define put cm_text_put

#define put_seconds cm_text_put_seconds

size_t cm_agg_record_json(const cm_agg_record *rec, char *buf, size_t size)
{
    writer w = {buf, size, 0};
    if (size)
        buf[0] = '\0';
    char prefix[CM_PREFIX_TEXT_MAX] = "other";
    if (!rec->other)
        cm_prefix_format(&rec->prefix, prefix, sizeof prefix);
    put(&w, "{\"start\":");
    put_seconds(&w, rec->start_ns);
    put(&w, ",\"prefix\":\"%s\",\"packets\":%" PRIu64 ",\"payload_bytes\":%" PRIu64, prefix,
        rec->packets, rec->payload_bytes);
    cm_delay_summary d;
    cm_sketch_summarise(&rec->halves, &d);
    put(&w, ",\"count\":%" PRIu64, d.count);
    if (d.count) {
        const struct { const char *name; int64_t v; } vals[] = {
            {"min", d.min}, {"mean", d.mean}, {"p50", d.p50},
            {"p90", d.p90}, {"p99", d.p99}, {"max", d.max}};
        for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
            put(&w, ",\"%s\":", vals[i].name);
            put_seconds(&w, vals[i].v);
        }
    }
    put(&w, ",\"hole\":%" PRIu64 ",\"behind\":%" PRIu64 ",\"dupack\":%" PRIu64 "}", rec->hole,
        rec->behind, rec->dupack);
    return w.len;
}
