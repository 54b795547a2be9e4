/* Idle connections, packed.
 *
 * Most connections on a busy link are idle at any moment, and their state
 * is mostly small numbers: byte counts, frame numbers, delays, times close
 * to the connection's latest one.  Packed as varints (times as offsets from
 * tmax, sequence numbers as offsets from their neighbours) a connection
 * after its handshake takes ~90 B instead of ~380 B with its queue.
 *
 * Lossless by construction: every field is written, pending entries keep
 * their order, tombstones and marks, so an unpacked connection behaves
 * exactly like the one that was packed (tests/unit/test_random.c runs the
 * same packets through engines that pack after every packet and never).
 * Only the ring capacity may differ, which no rule can see.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "conn_state.h"

#include <stdlib.h>
#include <string.h>

/* ---- writer ------------------------------------------------------------- */

static bool reserve(cm_bytes *b, size_t more)
{
    if (b->cap - b->len >= more)
        return true;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap - b->len < more)
        ncap *= 2;
    uint8_t *nd = realloc(b->data, ncap);
    if (!nd)
        return false;
    b->data = nd;
    b->cap = ncap;
    return true;
}

/* Writers take and return a cursor into room the caller reserved (at most
 * 10 bytes per value): a local pointer, which byte stores cannot alias. */
static inline uint8_t *put_u(uint8_t *w, uint64_t v)
{
    while (v >= 0x80) {
        *w++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *w++ = (uint8_t)v;
    return w;
}

static inline uint8_t *put_s(uint8_t *w, int64_t v)
{
    return put_u(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63)); /* zigzag */
}

/* A 32-bit value expected close to `near` (serial difference). */
static inline uint8_t *put_near32(uint8_t *w, uint32_t v, uint32_t near)
{
    return put_s(w, (int32_t)(v - near));
}

/* A time expected at or before `base` (wrapping arithmetic: lossless). */
static inline uint8_t *put_time(uint8_t *w, int64_t t, int64_t base)
{
    return put_s(w, (int64_t)((uint64_t)base - (uint64_t)t));
}

/* ---- reader (our own bytes: no bounds checks beyond the length) -------- */

typedef struct reader {
    const uint8_t *p, *end;
} reader;

static inline uint64_t get_u(reader *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; r->p < r->end && shift < 64; shift += 7) {
        uint8_t byte = *r->p++;
        v |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80))
            break;
    }
    return v;
}

static inline int64_t get_s(reader *r)
{
    uint64_t u = get_u(r);
    return (int64_t)((u >> 1) ^ (0 - (u & 1)));
}

static inline uint32_t get_near32(reader *r, uint32_t near)
{
    return near + (uint32_t)(int32_t)get_s(r);
}

static inline int64_t get_time(reader *r, int64_t base)
{
    return (int64_t)((uint64_t)base - (uint64_t)get_s(r));
}

/* ---- flows and queues --------------------------------------------------- */

enum {
    F_SEEN = 1, F_ACK_HIGH_SET = 2, F_TS_SEEN = 4, F_TS_FLOOR_SET = 8,
    F_PREV_KEEPALIVE = 16, F_MINRTD_SET = 32, F_HALF_SET = 64, F_QUEUES = 128,
};
enum { E_REMOVED = 1, E_PUREACK = 2 };

/* Upper bounds of the bytes one flow (without entries) and one entry take. */
#define FLOW_MAX_BYTES (2 + 10 * 6 + 5 * 7 + 2)
#define ENTRY_MAX_BYTES (10 + 5 * 4 + 1)

/* What a flow's fields are packed against: times against the connection's
 * tmax, frame numbers against one frame of the connection, the ACK number
 * against the other flow's high_end, TS keys against the TS floor. */
typedef struct pack_base {
    int64_t t;
    uint32_t frame;
} pack_base;

enum { Z_ACK_ORIG_T = 1, Z_HALF_T = 2 }; /* times that are 0 (never set) */

/* Keys are packed against the previous key (the first against key_near),
 * an entry's seq against seq_near (or its key when seq_near_key). */
static bool put_queue(cm_bytes *b, const cm_pending *q, uint32_t key_near, uint32_t seq_near,
                      bool seq_near_key, pack_base base)
{
    if (!reserve(b, 10 + (size_t)q->count * ENTRY_MAX_BYTES))
        return false;
    uint8_t *w = put_u(b->data + b->len, (uint64_t)q->count << 1 | q->unsorted);
    uint32_t prev_key = key_near;
    for (uint32_t i = 0; i < q->count; i++) {
        const cm_entry *e = cm_pending_at(q, i);
        w = put_time(w, e->t_ns, base.t);
        w = put_near32(w, e->key, prev_key);
        w = put_near32(w, e->seq, seq_near_key ? e->key : seq_near);
        w = put_near32(w, e->end, e->seq);
        w = put_near32(w, e->frame, base.frame);
        *w++ = (uint8_t)((e->removed ? E_REMOVED : 0) | (e->pureack ? E_PUREACK : 0));
        prev_key = e->key;
    }
    b->len = (size_t)(w - b->data);
    return true;
}

static bool get_queue(reader *r, cm_pending *q, uint32_t key_near, uint32_t seq_near,
                      bool seq_near_key, cm_pool *pool, pack_base base)
{
    uint64_t head = get_u(r);
    uint32_t count = (uint32_t)(head >> 1);
    if (count == 0)
        return true;
    if (!cm_pending_reserve(q, pool, count))
        return false;
    uint32_t prev_key = key_near;
    for (uint32_t i = 0; i < count; i++) {
        cm_entry *e = &q->ring[i];
        memset(e, 0, sizeof *e);
        e->t_ns = get_time(r, base.t);
        e->key = get_near32(r, prev_key);
        e->seq = get_near32(r, seq_near_key ? e->key : seq_near);
        e->end = get_near32(r, e->seq);
        e->frame = get_near32(r, base.frame);
        uint8_t flags = r->p < r->end ? *r->p++ : 0;
        e->removed = flags & E_REMOVED;
        e->pureack = flags & E_PUREACK;
        prev_key = e->key;
    }
    q->count = count;
    q->unsorted = head & 1;
    return true;
}

static bool put_flow(cm_bytes *b, const cm_flow *f, const cm_flow *other, pack_base base)
{
    if (!reserve(b, FLOW_MAX_BYTES))
        return false;
    uint8_t *w = b->data + b->len;
    *w++ = (uint8_t)((f->seen ? F_SEEN : 0) | (f->ack_high_set ? F_ACK_HIGH_SET : 0) |
                     (f->ts_seen ? F_TS_SEEN : 0) | (f->ts_floor_set ? F_TS_FLOOR_SET : 0) |
                     (f->prev_keepalive ? F_PREV_KEEPALIVE : 0) |
                     (f->minrtd_set ? F_MINRTD_SET : 0) | (f->half_set ? F_HALF_SET : 0) |
                     (f->q ? F_QUEUES : 0));
    *w++ = (uint8_t)((f->ack_orig_t == 0 ? Z_ACK_ORIG_T : 0) | (f->half_t == 0 ? Z_HALF_T : 0));
    w = put_u(w, f->flowbytes);
    if (f->ack_orig_t != 0)
        w = put_time(w, f->ack_orig_t, base.t);
    if (f->half_t != 0)
        w = put_time(w, f->half_t, base.t);
    w = put_s(w, f->half_ns);
    w = put_s(w, (int64_t)((uint64_t)f->minrtd_ns - (uint64_t)f->half_ns)); /* often the same */
    w = put_near32(w, f->half_frame, base.frame);
    w = put_near32(w, f->ack_orig_frame, base.frame);
    w = put_u(w, f->dupack_count);
    w = put_near32(w, f->ack_high, other->high_end);
    w = put_near32(w, f->prev_ack, f->ack_high);
    w = put_near32(w, f->ts_floor, 0);
    memcpy(w, &f->prev_window, 2); /* usually large: raw */
    w += 2;
    b->len = (size_t)(w - b->data);
    if (f->q)
        return put_queue(b, &f->q->ts, f->ts_floor, f->high_end, false, base) &&
               put_queue(b, &f->q->seq, f->high_end, 0, true, base);
    return true;
}

/* f->high_end and other->high_end are already restored. */
static bool get_flow(reader *r, cm_flow *f, const cm_flow *other, cm_pool *pool, pack_base base)
{
    uint8_t flags = r->p < r->end ? *r->p++ : 0;
    uint8_t zero = r->p < r->end ? *r->p++ : 0;
    f->seen = flags & F_SEEN;
    f->ack_high_set = flags & F_ACK_HIGH_SET;
    f->ts_seen = flags & F_TS_SEEN;
    f->ts_floor_set = flags & F_TS_FLOOR_SET;
    f->prev_keepalive = flags & F_PREV_KEEPALIVE;
    f->minrtd_set = flags & F_MINRTD_SET;
    f->half_set = flags & F_HALF_SET;
    f->flowbytes = get_u(r);
    f->ack_orig_t = (zero & Z_ACK_ORIG_T) ? 0 : get_time(r, base.t);
    f->half_t = (zero & Z_HALF_T) ? 0 : get_time(r, base.t);
    f->half_ns = get_s(r);
    f->minrtd_ns = (int64_t)((uint64_t)f->half_ns + (uint64_t)get_s(r));
    f->half_frame = get_near32(r, base.frame);
    f->ack_orig_frame = get_near32(r, base.frame);
    f->dupack_count = (uint32_t)get_u(r);
    f->ack_high = get_near32(r, other->high_end);
    f->prev_ack = get_near32(r, f->ack_high);
    f->ts_floor = get_near32(r, 0);
    if (r->end - r->p >= 2) {
        memcpy(&f->prev_window, r->p, 2);
        r->p += 2;
    }
    if (!(flags & F_QUEUES))
        return true;
    f->q = cm_queues_new(pool);
    if (!f->q)
        return false;
    return get_queue(r, &f->q->ts, f->ts_floor, f->high_end, false, pool, base) &&
           get_queue(r, &f->q->seq, f->high_end, 0, true, pool, base);
}

cm_queues *cm_queues_new(cm_pool *pool)
{
    cm_queues *q = cm_pool_alloc(pool, sizeof *q);
    if (q) {
        cm_pending_init(&q->ts, q->first_ts, 1);
        cm_pending_init(&q->seq, q->first_seq, 1);
    }
    return q;
}

void cm_flow_queues_free(cm_flow *f, cm_pool *pool)
{
    if (!f->q)
        return;
    cm_pending_free(&f->q->ts, pool);
    cm_pending_free(&f->q->seq, pool);
    cm_pool_free(pool, f->q, sizeof *f->q);
    f->q = NULL;
}

/* ---- connections -------------------------------------------------------- */

/* Layout: a head byte (tmax_set, tmax's width, family), the address (4 or
 * 16 B), port (2 B), tmax against the engine's epoch (6 or 8 B), the base
 * frame (4 B), both high_ends (4 B each), flow 0, flow 1.  The fields that
 * grow as a capture goes on (frame numbers, time since the first packet)
 * have fixed widths: a connection packed late is as large as one packed
 * early, so the pool's size classes do not drift. */
enum { H_TMAX_SET = 1, H_TMAX_WIDE = 2, H_FAMILY_SHIFT = 2 };

bool cm_conn_pack(const cm_conn *c, int64_t epoch, cm_bytes *out)
{
    out->len = 0;
    if (!reserve(out, 1 + 16 + 2 + 8 + 4 + 8))
        return false;
    const cm_addr *a = &c->a_addr;
    uint64_t since = (uint64_t)c->tmax - (uint64_t)epoch;
    bool wide = since >= (UINT64_C(1) << 48); /* 6 B: 3.2 days; or time ran backwards */
    uint8_t *w = out->data;
    *w++ = (uint8_t)(a->family << H_FAMILY_SHIFT | (wide ? H_TMAX_WIDE : 0) |
                     (c->tmax_set ? H_TMAX_SET : 0));
    size_t alen = a->family == 4 ? 4 : 16; /* IPv4: the other 12 bytes are 0 */
    memcpy(w, a->bytes, alen);
    w += alen;
    memcpy(w, &c->a_port, 2); /* client ports are mostly above 32767: raw */
    w += 2;
    for (int i = 0; i < (wide ? 8 : 6); i++)
        *w++ = (uint8_t)(since >> (8 * i));
    pack_base base = {c->tmax, c->flow[0].ack_orig_frame};
    memcpy(w, &base.frame, 4);
    w += 4;
    for (int d = 0; d < 2; d++) {
        memcpy(w, &c->flow[d].high_end, 4);
        w += 4;
    }
    out->len = (size_t)(w - out->data);
    return put_flow(out, &c->flow[0], &c->flow[1], base) &&
           put_flow(out, &c->flow[1], &c->flow[0], base);
}

bool cm_conn_unpack(cm_conn *c, int64_t epoch, const uint8_t *bytes, size_t len, cm_pool *pool)
{
    reader r = {bytes, bytes + len};
    uint8_t head = *r.p++;
    c->tmax_set = head & H_TMAX_SET;
    bool wide = head & H_TMAX_WIDE;
    memset(&c->a_addr, 0, sizeof c->a_addr);
    c->a_addr.family = (uint8_t)(head >> H_FAMILY_SHIFT);
    size_t alen = c->a_addr.family == 4 ? 4 : 16;
    memcpy(c->a_addr.bytes, r.p, alen);
    r.p += alen;
    memcpy(&c->a_port, r.p, 2);
    r.p += 2;
    uint64_t since = 0;
    for (int i = 0; i < (wide ? 8 : 6); i++)
        since |= (uint64_t)*r.p++ << (8 * i);
    c->tmax = (int64_t)((uint64_t)epoch + since);
    pack_base base = {c->tmax, 0};
    memcpy(&base.frame, r.p, 4);
    r.p += 4;
    memset(c->flow, 0, sizeof c->flow);
    for (int d = 0; d < 2; d++) {
        memcpy(&c->flow[d].high_end, r.p, 4);
        r.p += 4;
    }
    if (get_flow(&r, &c->flow[0], &c->flow[1], pool, base) &&
        get_flow(&r, &c->flow[1], &c->flow[0], pool, base))
        return true;
    cm_flow_queues_free(&c->flow[0], pool);
    cm_flow_queues_free(&c->flow[1], pool);
    return false;
}
