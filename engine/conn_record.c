/* Per-connection records: see conn_record.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "textbuf.h"
#include "conn_record.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void cm_conn_record_init(cm_conn_record *r)
{
    memset(r, 0, sizeof *r);
}

void cm_conn_record_free(cm_conn_record *r)
{
    for (int d = 0; d < 2; d++) {
        cm_sketch_free(&r->dir[d].half);
        cm_sketch_free(&r->dir[d].path);
    }
    cm_conn_record_init(r);
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

static void first_packet_of_direction(cm_dir_record *d, const cm_packet *pkt)
{
    d->src = pkt->src;
    d->dst = pkt->dst;
    d->sport = pkt->sport;
    d->dport = pkt->dport;
}

bool cm_conn_record_add(cm_conn_record *r, const cm_packet *pkt, const cm_result *res)
{
    unsigned dir = res->direction & 1u;
    cm_dir_record *d = &r->dir[dir];
    if (!r->seen) {
        r->first_frame = pkt->frame;
        r->first_t_ns = pkt->t_ns;
    }
    r->last_frame = pkt->frame;
    r->last_t_ns = pkt->t_ns;
    if (!(r->seen & (1u << dir)))
        first_packet_of_direction(d, pkt);
    r->seen |= (uint8_t)(1u << dir);

    d->packets++;
    d->payload_bytes = res->flowbytes;
    d->tsrtd_count += (res->present & CM_HAS_TSRTD) != 0;
    d->seqrtd_count += (res->present & CM_HAS_SEQRTD) != 0;
    d->pathrtd_count += (res->present & CM_HAS_PATHRTD) != 0;
    d->hole += (res->expert & CM_EXPERT_HOLE) != 0;
    d->behind += (res->expert & CM_EXPERT_BEHIND) != 0;
    d->dupack += (res->expert & CM_EXPERT_DUPACK) != 0;

    bool stored = true;
    int64_t half;
    if (half_of(res, &half) && !cm_sketch_add(&d->half, half)) {
        r->samples_lost++;
        stored = false;
    }
    if ((res->present & CM_HAS_PATHRTD) && !cm_sketch_add(&d->path, res->pathrtd_ns)) {
        r->samples_lost++;
        stored = false;
    }
    return stored;
}

size_t cm_conn_record_bytes(const cm_conn_record *r)
{
    size_t n = sizeof *r;
    for (int d = 0; d < 2; d++)
        n += cm_sketch_bytes(&r->dir[d].half) + cm_sketch_bytes(&r->dir[d].path) -
             2 * sizeof(cm_sketch);
    return n;
}

/* ---- JSON ----------------------------------------------------------------------- */

/* The text writer: engine/textbuf.h */
typedef cm_textbuf writer;
#define put cm_text_put

#define put_seconds cm_text_put_seconds

static void put_dist(writer *w, const char *key, const cm_sketch *s)
{
    cm_delay_summary d;
    cm_sketch_summarise(s, &d);
    put(w, "\"%s\":{\"count\":%" PRIu64, key, d.count);
    if (d.count) {
        const struct { const char *name; int64_t v; } vals[] = {
            {"min", d.min}, {"mean", d.mean}, {"p50", d.p50},
            {"p90", d.p90}, {"p99", d.p99}, {"max", d.max}};
        for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
            put(w, ",\"%s\":", vals[i].name);
            put_seconds(w, vals[i].v);
        }
    }
    put(w, "}");
}

static void put_dir(writer *w, const char *key, const cm_dir_record *d)
{
    cm_packet p; /* cm_format_flow takes the addresses from a packet */
    memset(&p, 0, sizeof p);
    p.src = d->src;
    p.dst = d->dst;
    p.sport = d->sport;
    p.dport = d->dport;
    char label[CM_FLOW_LABEL_MAX];
    cm_format_flow(label, sizeof label, &p);
    put(w, "\"%s\":{\"flow\":\"%s\",\"packets\":%" PRIu64 ",\"payload_bytes\":%" PRIu64
           ",\"tsrtd_count\":%" PRIu64 ",\"seqrtd_count\":%" PRIu64 ",\"pathrtd_count\":%" PRIu64 ",",
        key, label, d->packets, d->payload_bytes, d->tsrtd_count, d->seqrtd_count,
        d->pathrtd_count);
    put_dist(w, "half", &d->half);
    put(w, ",");
    put_dist(w, "path", &d->path);
    put(w, ",\"hole\":%" PRIu64 ",\"behind\":%" PRIu64 ",\"dupack\":%" PRIu64 "}", d->hole,
        d->behind, d->dupack);
}

size_t cm_conn_record_json(const cm_conn_record *r, char *buf, size_t size)
{
    writer w = {buf, size, 0};
    if (size)
        buf[0] = '\0';
    put(&w, "{\"first_frame\":%" PRIu32 ",\"last_frame\":%" PRIu32 ",\"first_time\":",
        r->first_frame, r->last_frame);
    put_seconds(&w, r->first_t_ns);
    put(&w, ",\"last_time\":");
    put_seconds(&w, r->last_t_ns);
    static const char *const names[2] = {"a", "b"};
    for (int d = 0; d < 2; d++) {
        if (r->seen & (1u << d)) {
            put(&w, ",");
            put_dir(&w, names[d], &r->dir[d]);
        }
    }
    put(&w, "}");
    return w.len;
}
