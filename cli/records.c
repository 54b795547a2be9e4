/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "records.h"

#include <stdlib.h>

#include "hashtab.h"

typedef struct rec {
    cm_hnode node;       /* in records.by_stream; first, so a node is its rec */
    uint32_t stream;
    cm_conn_record r;
} rec;

struct records {
    FILE *out;
    bool flush_each;
    cm_htab by_stream;   /* rec by stream_hash(stream) */
    records_stats stats;
};

static uint32_t stream_hash(uint32_t stream)
{
    uint64_t h = (uint64_t)stream * 0x9e3779b97f4a7c15ull;
    return (uint32_t)(h >> 32);
}

records *records_new(FILE *out, bool flush_each)
{
    records *rs = calloc(1, sizeof *rs);
    if (!rs)
        return NULL;
    rs->out = out;
    rs->flush_each = flush_each;
    if (!cm_htab_init(&rs->by_stream, 1024)) {
        free(rs);
        return NULL;
    }
    return rs;
}

static void rec_free(rec *x)
{
    cm_conn_record_free(&x->r);
    free(x);
}

static void free_node(cm_hnode *n, void *unused)
{
    rec_free((rec *)n);
}

void records_free(records *rs)
{
    if (!rs)
        return;
    cm_htab_each(&rs->by_stream, free_node, NULL);
    cm_htab_destroy(&rs->by_stream);
    free(rs);
}

static rec *rec_find(const records *rs, uint32_t stream)
{
    for (cm_hnode *n = cm_htab_first(&rs->by_stream, stream_hash(stream)); n; n = cm_htab_next(n))
        if (((rec *)n)->stream == stream)
            return (rec *)n;
    return NULL;
}

bool records_add(records *rs, const cm_packet *pkt, const cm_result *r)
{
    rec *x = rec_find(rs, pkt->stream);
    if (!x) {
        x = calloc(1, sizeof *x);
        if (!x)
            return false;
        x->stream = pkt->stream;
        x->node.hash = stream_hash(pkt->stream);
        cm_htab_insert(&rs->by_stream, &x->node);
    }
    if (!cm_conn_record_add(&x->r, pkt, r))
        rs->stats.samples_lost++;
    return true;
}

static void write_record(records *rs, const rec *x)
{
    char buf[CM_CONN_RECORD_JSON_MAX];
    size_t n = cm_conn_record_json(&x->r, buf, sizeof buf);
    if (n < sizeof buf) {
        buf[n] = '\n';
        fwrite(buf, 1, n + 1, rs->out);
    }
    if (rs->flush_each)
        fflush(rs->out);
    rs->stats.written++;
    size_t bytes = sizeof *x - sizeof x->r + cm_conn_record_bytes(&x->r);
    rs->stats.bytes_total += bytes;
    if (bytes > rs->stats.bytes_max)
        rs->stats.bytes_max = bytes;
}

void records_forget(records *rs, uint32_t stream)
{
    rec *x = rec_find(rs, stream);
    if (!x)
        return;
    cm_htab_remove(&rs->by_stream, &x->node);
    write_record(rs, x);
    rec_free(x);
}

typedef struct collect {
    rec **all;
    size_t n;
} collect;

static void collect_node(cm_hnode *n, void *arg)
{
    collect *c = arg;
    c->all[c->n++] = (rec *)n;
}

static int by_first_frame(const void *a, const void *b)
{
    const rec *x = *(rec *const *)a, *y = *(rec *const *)b;
    if (x->r.first_frame != y->r.first_frame)
        return x->r.first_frame < y->r.first_frame ? -1 : 1;
    return (x->stream > y->stream) - (x->stream < y->stream);
}

void records_finish(records *rs)
{
    size_t n = rs->by_stream.count;
    collect c = {malloc((n ? n : 1) * sizeof(rec *)), 0};
    if (!c.all) {
        /* no memory to sort them: write them in table order */
        while (rs->by_stream.count) {
            for (size_t i = 0; i < rs->by_stream.nbuckets; i++)
                if (rs->by_stream.buckets[i]) {
                    records_forget(rs, ((rec *)rs->by_stream.buckets[i])->stream);
                    break;
                }
        }
        return;
    }
    cm_htab_each(&rs->by_stream, collect_node, &c);
    qsort(c.all, c.n, sizeof *c.all, by_first_frame);
    for (size_t i = 0; i < c.n; i++) {
        cm_htab_remove(&rs->by_stream, &c.all[i]->node);
        write_record(rs, c.all[i]);
        rec_free(c.all[i]);
    }
    free(c.all);
}

records_stats records_get_stats(const records *rs)
{
    return rs->stats;
}
