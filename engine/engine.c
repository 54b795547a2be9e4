/* The per-packet rules of docs/semantics.md (SPEC: TS round trips, seq
 * round trips, duplicate ACKs, expert hints).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "connmon.h"
#include "pending.h"

#include <stdlib.h>
#include <string.h>

/* One direction of a connection. */
typedef struct cm_flow {
    cm_pending ts_q;   /* TSval -> first eligible sighting */
    cm_pending seq_q;  /* segment end -> data segment */
    uint64_t flowbytes;
    int64_t  ack_orig_t;
    int64_t  minrtd_ns;
    uint32_t ack_orig_frame;
    uint32_t dupack_count;  /* duplicates since ack_orig */
    uint32_t high_end;      /* serial max of seq + L (not moved by ZW probes) */
    uint32_t prev_ack;
    uint32_t ack_high;
    uint32_t ts_floor;
    uint16_t prev_window;
    bool seen;              /* high_end, prev_* and ack_orig are valid */
    bool ack_high_set;
    bool ts_seen;           /* a TS-bearing packet was seen (floor decided) */
    bool ts_floor_set;
    bool prev_keepalive;    /* the previous packet was a keepalive */
    bool minrtd_set;
} cm_flow;

typedef struct cm_conn {
    struct cm_conn *next;   /* hash chain */
    uint32_t stream;
    uint16_t a_port;        /* sender of the first packet: direction 0 */
    cm_addr  a_addr;
    int64_t  tmax;          /* latest capture time in the stream so far */
    bool     tmax_set;
    cm_flow  flow[2];
} cm_conn;

struct cm_engine {
    cm_config cfg;
    cm_conn **buckets;
    size_t nbuckets;        /* power of two */
    size_t nconns;
};

void cm_config_default(cm_config *cfg)
{
    cfg->rtd_max_age_ns = CM_DEFAULT_RTD_MAX_AGE_NS;
    cfg->ts_pure_acks = CM_TS_PURE_ACKS_CLOCKED;
}

cm_engine *cm_engine_new(const cm_config *cfg)
{
    cm_engine *eng = calloc(1, sizeof *eng);
    if (!eng)
        return NULL;
    if (cfg)
        eng->cfg = *cfg;
    else
        cm_config_default(&eng->cfg);
    if (eng->cfg.rtd_max_age_ns < 0)
        eng->cfg.rtd_max_age_ns = 0;
    eng->nbuckets = 256;
    eng->buckets = calloc(eng->nbuckets, sizeof *eng->buckets);
    if (!eng->buckets) {
        free(eng);
        return NULL;
    }
    return eng;
}

static void conn_free(cm_conn *c)
{
    for (int d = 0; d < 2; d++) {
        cm_pending_free(&c->flow[d].ts_q);
        cm_pending_free(&c->flow[d].seq_q);
    }
    free(c);
}

void cm_engine_free(cm_engine *eng)
{
    if (!eng)
        return;
    for (size_t i = 0; i < eng->nbuckets; i++) {
        cm_conn *c = eng->buckets[i];
        while (c) {
            cm_conn *next = c->next;
            conn_free(c);
            c = next;
        }
    }
    free(eng->buckets);
    free(eng);
}

size_t cm_engine_stream_count(const cm_engine *eng)
{
    return eng->nconns;
}

void cm_engine_get_counters(const cm_engine *eng, cm_engine_counters *out)
{
    memset(out, 0, sizeof *out);
}

static inline size_t bucket_of(const cm_engine *eng, uint32_t stream)
{
    return (stream * 2654435761u) & (eng->nbuckets - 1);
}

static void rehash(cm_engine *eng)
{
    size_t nb = eng->nbuckets * 2;
    cm_conn **nbk = calloc(nb, sizeof *nbk);
    if (!nbk)
        return; /* keep the longer chains */
    cm_conn **old = eng->buckets;
    size_t oldn = eng->nbuckets;
    eng->buckets = nbk;
    eng->nbuckets = nb;
    for (size_t i = 0; i < oldn; i++) {
        cm_conn *c = old[i];
        while (c) {
            cm_conn *next = c->next;
            size_t b = bucket_of(eng, c->stream);
            c->next = nbk[b];
            nbk[b] = c;
            c = next;
        }
    }
    free(old);
}

static cm_conn *conn_get(cm_engine *eng, const cm_packet *p)
{
    size_t b = bucket_of(eng, p->stream);
    for (cm_conn *c = eng->buckets[b]; c; c = c->next)
        if (c->stream == p->stream)
            return c;
    cm_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->stream = p->stream;
    c->a_addr = p->src;
    c->a_port = p->sport;
    c->next = eng->buckets[b];
    eng->buckets[b] = c;
    if (++eng->nconns > eng->nbuckets)
        rehash(eng);
    return c;
}

void cm_engine_forget_stream(cm_engine *eng, uint32_t stream)
{
    cm_conn **pp = &eng->buckets[bucket_of(eng, stream)];
    while (*pp) {
        if ((*pp)->stream == stream) {
            cm_conn *c = *pp;
            *pp = c->next;
            conn_free(c);
            eng->nconns--;
            return;
        }
        pp = &(*pp)->next;
    }
}

static inline bool addr_eq(const cm_addr *a, const cm_addr *b)
{
    size_t n = a->family == 6 ? 16 : 4;
    return a->family == b->family && memcmp(a->bytes, b->bytes, n) == 0;
}

static inline bool serial_le(uint32_t a, uint32_t b)
{
    return (uint32_t)(b - a) < 0x80000000u;
}

static inline void note_rtd(cm_flow *f, int64_t rtd)
{
    if (!f->minrtd_set || rtd < f->minrtd_ns) {
        f->minrtd_ns = rtd;
        f->minrtd_set = true;
    }
}

/* Karn for TS entries: drop entries recorded by earlier packets whose data
 * overlaps the retransmitted range (their echo may answer either copy). */
static void ts_karn(cm_pending *q, uint32_t seq, uint32_t end, uint32_t frame)
{
    for (uint32_t i = 0; i < q->count; i++) {
        cm_entry *e = cm_pending_at(q, i);
        if (!e->removed && e->frame != frame &&
            cm_ranges_overlap(e->seq, e->end, seq, end))
            e->removed = true;
    }
}

static void seq_karn(cm_pending *q, uint32_t seq, uint32_t end)
{
    for (uint32_t i = 0; i < q->count; i++) {
        cm_entry *e = cm_pending_at(q, i);
        if (!e->removed && cm_ranges_overlap(e->seq, e->end, seq, end))
            e->removed = true;
    }
}

bool cm_engine_analyse(cm_engine *eng, const cm_packet *p, cm_result *res)
{
    memset(res, 0, sizeof *res);
    cm_conn *c = conn_get(eng, p);
    if (!c)
        return false;

    int dir = (addr_eq(&p->src, &c->a_addr) && p->sport == c->a_port) ? 0 : 1;
    cm_flow *F = &c->flow[dir];
    cm_flow *R = &c->flow[!dir];

    if (!c->tmax_set || p->t_ns > c->tmax) {
        c->tmax = p->t_ns;
        c->tmax_set = true;
    }
    /* Entries recorded before min_t are forgotten (tmax - t > max age). */
    int64_t min_t = c->tmax - eng->cfg.rtd_max_age_ns;
    if (min_t > c->tmax) /* overflow */
        min_t = INT64_MIN;

    const uint16_t fl = p->flags;
    const bool syn = fl & CM_TH_SYN, fin = fl & CM_TH_FIN, rst = fl & CM_TH_RST;
    const bool ackf = fl & CM_TH_ACK;
    const uint32_t L = p->payload + (syn ? 1u : 0u) + (fin ? 1u : 0u);
    const uint32_t end = p->seq + L;
    const bool pure_ack = ackf && L == 0 && !rst;

    res->payload = p->payload;
    res->direction = (uint8_t)dir;

    /* ---- sequence position -------------------------------------------- */
    bool keepalive = false, zw_probe = false;
    if (F->seen) {
        res->present |= CM_HAS_SEQGAP;
        res->seqgap = (int32_t)(p->seq - F->high_end);
        keepalive = p->payload <= 1 && !(fl & (CM_TH_SYN | CM_TH_FIN | CM_TH_RST)) &&
                    p->seq == F->high_end - 1;
        zw_probe = p->payload == 1 && p->seq == F->high_end && R->seen &&
                   R->prev_window == 0;
        if (res->seqgap > 0 && !rst)
            res->expert |= CM_EXPERT_HOLE;
    } else {
        res->flow_first = true;
    }

    bool behind = false;
    if (!keepalive) {
        if (F->seen && res->seqgap < 0 && L > 0 &&
            !(p->payload > 1 && p->seq == F->high_end - 1))
            behind = true;
        if (p->payload > 0 && R->seen && R->prev_ack != 0 &&
            serial_le(p->seq + p->payload, R->prev_ack))
            behind = true;
    }
    if (behind)
        res->expert |= CM_EXPERT_BEHIND;

    /* ---- duplicate ACK -------------------------------------------------- */
    if (F->seen && ackf && L == 0 && !rst && p->window != 0 &&
        p->window == F->prev_window && p->seq == F->high_end &&
        p->ack == F->prev_ack && !(R->seen && R->prev_keepalive)) {
        F->dupack_count++;
        res->present |= CM_HAS_DUPACK;
        res->expert |= CM_EXPERT_DUPACK;
        res->dupack_ns = p->t_ns - F->ack_orig_t;
        res->dupack_num = F->dupack_count;
        res->dupack_frame = F->ack_orig_frame;
    }

    /* Karn case of the seq rules: a segment that brings no new data. */
    const bool karn = L > 0 && !zw_probe && F->seen && !cm_serial_gt(end, F->high_end);

    /* ---- TS round trips --------------------------------------------------- */
    if (p->has_ts) {
        /* 1. match first */
        if (ackf) {
            cm_entry *e = cm_pending_find(&R->ts_q, p->tsecr, min_t);
            if (e) {
                bool ok = p->t_ns >= e->t_ns;
                if (ok && e->pureack && eng->cfg.ts_pure_acks == CM_TS_PURE_ACKS_CLOCKED)
                    ok = F->seen && R->ack_high_set && cm_serial_gt(F->high_end, R->ack_high);
                if (ok) {
                    res->present |= CM_HAS_TSRTD | CM_HAS_MINRTD;
                    res->tsrtd_ns = p->t_ns - e->t_ns;
                    res->tsrtd_frame = e->frame;
                    res->tsrtd_pureack = e->pureack;
                }
                e->removed = true;
                cm_pending_trim(&R->ts_q, min_t);
            }
        }
        /* 2. then record */
        bool may_record = true, recorded = false;
        if (!F->ts_seen) {
            F->ts_seen = true;
            if (!syn) {
                F->ts_floor = p->tsval;
                F->ts_floor_set = true;
                may_record = false;
            }
        }
        bool eligible = !(pure_ack && eng->cfg.ts_pure_acks == CM_TS_PURE_ACKS_NONE);
        if (may_record && eligible &&
            (!F->ts_floor_set || cm_serial_gt(p->tsval, F->ts_floor))) {
            cm_pending_trim(&F->ts_q, min_t);
            if (!cm_pending_find(&F->ts_q, p->tsval, min_t)) {
                cm_entry *e = cm_pending_push(&F->ts_q, p->tsval);
                if (e) {
                    e->t_ns = p->t_ns;
                    e->frame = p->frame;
                    e->pureack = pure_ack;
                    e->seq = p->seq;
                    e->end = end;
                    recorded = true;
                }
            }
            F->ts_floor = p->tsval;
            F->ts_floor_set = true;
        }
        /* 3. data takes over an entry recorded by a pure ACK (an entry P
         * just recorded is not one) */
        if (!pure_ack && !recorded) {
            cm_entry *e = cm_pending_find(&F->ts_q, p->tsval, min_t);
            if (e && e->pureack) {
                e->pureack = false;
                e->seq = p->seq;
                e->end = end;
            }
        }
    }
    /* 4. Karn for TS entries, with or without a TS option on P */
    if (karn)
        ts_karn(&F->ts_q, p->seq, end, p->frame);

    /* ---- seq round trips -------------------------------------------------- */
    const bool ack_advances = ackf && (!F->ack_high_set || cm_serial_gt(p->ack, F->ack_high));
    if (ack_advances) {
        cm_entry *e = cm_pending_find(&R->seq_q, p->ack, min_t);
        if (e && p->t_ns >= e->t_ns) {
            res->present |= CM_HAS_SEQRTD | CM_HAS_MINRTD;
            res->seqrtd_ns = p->t_ns - e->t_ns;
            res->seqrtd_frame = e->frame;
        }
        cm_pending_remove_upto(&R->seq_q, p->ack);
    }
    if (L > 0 && !zw_probe) {
        if (!F->seen || cm_serial_gt(end, F->high_end)) {
            cm_pending_trim(&F->seq_q, min_t);
            cm_entry *old = cm_pending_find(&F->seq_q, end, INT64_MIN);
            if (old)
                old->removed = true;
            cm_entry *e = cm_pending_push(&F->seq_q, end);
            if (e) {
                e->t_ns = p->t_ns;
                e->frame = p->frame;
                e->seq = p->seq;
                e->end = end;
            }
        } else {
            seq_karn(&F->seq_q, p->seq, end);
        }
    }

    /* ---- per-flow bookkeeping, last ------------------------------------- */
    if (res->present & CM_HAS_TSRTD)
        note_rtd(F, res->tsrtd_ns);
    if (res->present & CM_HAS_SEQRTD)
        note_rtd(F, res->seqrtd_ns);
    if (res->present & CM_HAS_MINRTD)
        res->minrtd_ns = F->minrtd_ns;

    if (ack_advances) {
        F->ack_high = p->ack;
        F->ack_high_set = true;
    }
    if (!F->seen || p->ack != F->prev_ack) {
        F->ack_orig_t = p->t_ns;
        F->ack_orig_frame = p->frame;
        F->dupack_count = 0;
    }
    if (!F->seen) {
        F->high_end = end;
    } else if (!zw_probe && cm_serial_gt(end, F->high_end)) {
        F->high_end = end;
    }
    F->prev_ack = p->ack;
    F->prev_window = p->window;
    F->prev_keepalive = keepalive;
    F->seen = true;
    F->flowbytes += p->payload;
    res->flowbytes = F->flowbytes;
    return true;
}
