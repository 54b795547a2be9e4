/* The per-packet rules of the SPEC (docs/semantics.md says them in our
 * words), one static function per rule, run by cm_engine_analyse in the
 * SPEC's order.
 *
 * Notation is the SPEC's:
 *   P         the packet being analysed
 *   F         P's flow (the direction that sent P); R the reverse flow
 *   L         sequence length: payload + 1 for SYN + 1 for FIN
 *   end       seq + L
 *   high_end  serial maximum of end over a flow's packets so far
 *   half      a packet's tsrtd, else its seqrtd (CP -> its sender -> CP)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "connmon.h"
#include "conn_state.h"
#include "hashtab.h"
#include "pending.h"
#include "slab.h"

#include <stdlib.h>
#include <string.h>

struct cm_engine {
    cm_config cfg;
    cm_htab conns;          /* hot (cm_conn) and packed (cm_conn_packed) */
    cm_engine_counters counters;
    cm_slab conn_slab;      /* hot connections */
    cm_pool pool;           /* queues, rings, packed connections */
    cm_lru hot;             /* hot connections by last use */
    int64_t now;            /* latest capture time seen */
    int64_t epoch;          /* first capture time seen: packed times' base */
    bool started;           /* epoch is set */
    cm_bytes scratch;       /* packing buffer */
};

/* What the rules need to know about P, worked out once. */
typedef struct packet_view {
    const cm_packet *p;
    cm_flow *F, *R;
    int dir;             /* 0: sent by the stream's first sender */
    int64_t min_t;       /* entries recorded before this are forgotten */
    uint32_t L, end;
    bool syn, rst, ack;  /* flags */
    bool pure_ack;       /* ACK, L = 0, no RST */
    bool keepalive;      /* SPEC: Keepalive */
    bool zw_probe;       /* SPEC: Zero-window probe */
    bool karn;           /* seq rule 2's Karn case: L > 0 and no new data */
} packet_view;

/* ---- engine and connections ------------------------------------------- */

void cm_config_default(cm_config *cfg)
{
    cfg->rtd_max_age_ns = CM_DEFAULT_RTD_MAX_AGE_NS;
    cfg->ts_pure_acks = CM_TS_PURE_ACKS_CLOCKED;
    cfg->pack_idle_ns = CM_DEFAULT_PACK_IDLE_NS;
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
    if (!cm_htab_init(&eng->conns, 256)) {
        free(eng);
        return NULL;
    }
    cm_slab_init(&eng->conn_slab, sizeof(cm_conn));
    cm_pool_init(&eng->pool);
    eng->now = INT64_MIN;
    return eng;
}

/* Every record lives in the slab and the pool: freeing them is freeing
 * their chunks, with no walk over a million connections. */
void cm_engine_free(cm_engine *eng)
{
    if (!eng)
        return;
    cm_htab_destroy(&eng->conns);
    cm_slab_destroy(&eng->conn_slab);
    cm_pool_destroy(&eng->pool);
    free(eng->scratch.data);
    free(eng);
}

size_t cm_engine_stream_count(const cm_engine *eng)
{
    return eng->conns.count;
}

void cm_engine_get_counters(const cm_engine *eng, cm_engine_counters *out)
{
    *out = eng->counters;
}

void cm_engine_get_memory(const cm_engine *eng, cm_engine_memory *out)
{
    out->bytes = sizeof *eng + eng->conns.nbuckets * sizeof *eng->conns.buckets +
                 cm_slab_bytes(&eng->conn_slab) + cm_pool_bytes(&eng->pool) + eng->scratch.cap;
    out->conns = eng->conns.count;
    out->conns_hot = eng->conn_slab.live;
}

/* ---- records: hot connections and packed ones ---------------------------- */

static inline bool is_packed(const cm_hnode *n)
{
    return n->tag & CM_CONN_PACKED_TAG;
}

static inline size_t packed_size(const cm_hnode *n)
{
    return sizeof(cm_conn_packed) + (n->tag >> 1);
}

/* Frees a hot connection (already out of the table or replaced there). */
static void hot_free(cm_engine *eng, cm_conn *c)
{
    cm_lru_unlink(&eng->hot, &c->hot);
    cm_flow_queues_free(&c->flow[0], &eng->pool);
    cm_flow_queues_free(&c->flow[1], &eng->pool);
    cm_slab_free(&eng->conn_slab, c);
}

/* Removes a record of either kind from the table and frees it. */
static void record_free(cm_engine *eng, cm_hnode *n)
{
    cm_htab_remove(&eng->conns, n);
    if (is_packed(n))
        cm_pool_free(&eng->pool, n, packed_size(n));
    else
        hot_free(eng, (cm_conn *)n);
}

static cm_hnode *record_find(const cm_engine *eng, uint32_t stream)
{
    return cm_htab_first(&eng->conns, stream); /* the hash is the stream */
}

/* Packs a hot connection idle for pack_idle_ns.  Stays hot (and is not
 * counted as a failure: nothing is lost) when memory is short. */
static bool pack(cm_engine *eng, cm_conn *c)
{
    if (!cm_conn_pack(c, eng->epoch, &eng->scratch) || eng->scratch.len > (UINT32_MAX >> 1))
        return false;
    size_t len = eng->scratch.len;
    cm_conn_packed *pk = cm_pool_alloc(&eng->pool, sizeof *pk + len);
    if (!pk)
        return false;
    memcpy(pk->bytes, eng->scratch.data, len);
    pk->node.tag = (uint32_t)len << 1 | CM_CONN_PACKED_TAG;
    cm_htab_replace(&eng->conns, &c->node, &pk->node);
    hot_free(eng, c);
    eng->counters.conns_packed++;
    return true;
}

static cm_conn *unpack(cm_engine *eng, cm_conn_packed *pk)
{
    cm_conn *c = cm_slab_alloc(&eng->conn_slab);
    if (!c)
        return NULL;
    if (!cm_conn_unpack(c, eng->epoch, pk->bytes, pk->node.tag >> 1, &eng->pool)) {
        cm_slab_free(&eng->conn_slab, c);
        return NULL;
    }
    c->node.tag = 0;
    cm_htab_replace(&eng->conns, &pk->node, &c->node);
    cm_pool_free(&eng->pool, pk, packed_size(&pk->node));
    cm_lru_push(&eng->hot, &c->hot);
    eng->counters.conns_unpacked++;
    return c;
}

static void pack_idle(cm_engine *eng)
{
    const int64_t idle = eng->cfg.pack_idle_ns;
    if (idle < 0)
        return;
    cm_conn *c;
    while ((c = CM_LRU_ENTRY(eng->hot.oldest, cm_conn, hot))) {
        /* now >= tmax: now is the latest time of every stream */
        if ((uint64_t)eng->now - (uint64_t)c->tmax < (uint64_t)idle || !pack(eng, c))
            return;
    }
}

static cm_conn *conn_get(cm_engine *eng, const cm_packet *p)
{
    if (!eng->started) {
        eng->epoch = p->t_ns;
        eng->started = true;
    }
    if (p->t_ns > eng->now)
        eng->now = p->t_ns;
    cm_hnode *n = record_find(eng, p->stream);
    if (n && !is_packed(n)) {
        cm_lru_touch(&eng->hot, &((cm_conn *)n)->hot);
        return (cm_conn *)n;
    }
    cm_conn *c = n ? unpack(eng, (cm_conn_packed *)n) : NULL;
    if (c)
        return c;
    if (n) { /* could not unpack */
        eng->counters.alloc_failures++;
        return NULL;
    }
    c = cm_slab_alloc(&eng->conn_slab);
    if (!c) {
        eng->counters.alloc_failures++;
        return NULL;
    }
    memset(c, 0, sizeof *c);
    c->a_addr = p->src;
    c->a_port = p->sport;
    c->node.hash = p->stream;
    cm_htab_insert(&eng->conns, &c->node);
    cm_lru_push(&eng->hot, &c->hot);
    return c;
}

void cm_engine_forget_stream(cm_engine *eng, uint32_t stream)
{
    cm_hnode *n = record_find(eng, stream);
    if (!n)
        return;
    record_free(eng, n);
    eng->counters.streams_forgotten++;
}

/* The flow's queues, allocated on first use; NULL (counted) when out of
 * memory: the SPEC's results for this flow may then miss a sample. */
static cm_queues *queues_get(cm_engine *eng, cm_flow *f)
{
    if (!f->q) {
        f->q = cm_queues_new(&eng->pool);
        if (!f->q)
            eng->counters.alloc_failures++;
    }
    return f->q;
}

static void queues_release_if_empty(cm_engine *eng, cm_flow *f)
{
    if (f->q && f->q->ts.count == 0 && f->q->seq.count == 0)
        cm_flow_queues_free(f, &eng->pool);
}

/* Records a pending entry; a failed allocation is counted. */
static cm_entry *record_entry(cm_engine *eng, cm_pending *q, uint32_t key)
{
    cm_entry *e = cm_pending_push(q, &eng->pool, key);
    if (!e)
        eng->counters.alloc_failures++;
    return e;
}

/* Pops forgotten and answered entries off a queue's head. */
static void trim(cm_engine *eng, cm_pending *q, int64_t min_t)
{
    eng->counters.entries_expired += cm_pending_trim(q, min_t);
}

/* ---- the per-packet view ---------------------------------------------- */

/* rtd_max_age: an entry is forgotten once tmax - t_entry > max age, i.e.
 * when recorded before tmax - max age. */
static int64_t forget_horizon(const cm_engine *eng, cm_conn *c, int64_t t)
{
    if (!c->tmax_set || t > c->tmax) {
        c->tmax = t;
        c->tmax_set = true;
    }
    int64_t min_t = c->tmax - eng->cfg.rtd_max_age_ns;
    return min_t > c->tmax ? INT64_MIN : min_t; /* overflow */
}

static void view_packet(const cm_engine *eng, cm_conn *c, const cm_packet *p,
                        packet_view *v)
{
    const cm_flow *F, *R;
    v->p = p;
    v->dir = (cm_addr_eq(&p->src, &c->a_addr) && p->sport == c->a_port) ? 0 : 1;
    v->F = &c->flow[v->dir];
    v->R = &c->flow[!v->dir];
    F = v->F;
    R = v->R;
    v->min_t = forget_horizon(eng, c, p->t_ns);

    v->syn = p->flags & CM_TH_SYN;
    v->rst = p->flags & CM_TH_RST;
    v->ack = p->flags & CM_TH_ACK;
    const bool fin = p->flags & CM_TH_FIN;
    v->L = p->payload + (v->syn ? 1u : 0u) + (fin ? 1u : 0u);
    v->end = p->seq + v->L;
    v->pure_ack = v->ack && v->L == 0 && !v->rst;

    v->keepalive = F->seen && p->payload <= 1 && !v->syn && !fin && !v->rst &&
                   p->seq == F->high_end - 1;
    v->zw_probe = F->seen && p->payload == 1 && p->seq == F->high_end && R->seen &&
                  R->prev_window == 0;
    v->karn = v->L > 0 && !v->zw_probe && F->seen && !cm_serial_gt(v->end, F->high_end);
}

/* ---- SPEC: connmon.seqgap and the hole / behind expert infos ---------- */

static void rule_position(const packet_view *v, cm_result *res)
{
    const cm_packet *p = v->p;
    const cm_flow *F = v->F, *R = v->R;
    if (!F->seen) {
        res->flow_first = true;
    } else {
        res->present |= CM_HAS_SEQGAP;
        res->seqgap = (int32_t)(p->seq - F->high_end);
        if (res->seqgap > 0 && !v->rst)
            res->expert |= CM_EXPERT_HOLE;
    }
    if (v->keepalive)
        return;
    /* behind: starts below high_end (a one-byte-back segment of more than
     * one byte is not, as Wireshark), or carries bytes R acknowledged. */
    bool behind = F->seen && res->seqgap < 0 && v->L > 0 &&
                  !(p->payload > 1 && p->seq == F->high_end - 1);
    if (p->payload > 0 && R->seen && R->prev_ack != 0 &&
        cm_serial_le(p->seq + p->payload, R->prev_ack))
        behind = true;
    if (behind)
        res->expert |= CM_EXPERT_BEHIND;
}

/* ---- SPEC: Duplicate ACKs (Wireshark 4.4's definition) ---------------- */

static void rule_dupack(const packet_view *v, cm_result *res)
{
    const cm_packet *p = v->p;
    cm_flow *F = v->F;
    const cm_flow *R = v->R;
    if (!F->seen || !v->pure_ack || p->window == 0)
        return;
    /* A receiver holding out-of-order data often shrinks its window while
     * it SACKs: such ACKs are duplicates too (RFC 6675). */
    if (p->window != F->prev_window && !p->has_sack)
        return;
    if (p->seq != F->high_end || p->ack != F->prev_ack || (R->seen && R->prev_keepalive))
        return;
    F->dupack_count++;
    res->present |= CM_HAS_DUPACK;
    res->expert |= CM_EXPERT_DUPACK;
    res->dupack_ns = p->t_ns - F->ack_orig_t;
    res->dupack_num = F->dupack_count;
    res->dupack_frame = F->ack_orig_frame;
}

/* ---- SPEC: TS round trips --------------------------------------------- */

/* TS rule 1, match first: P's TSecr answers R's pending entry, once. */
static void ts_rule_match(cm_engine *eng, const packet_view *v, cm_result *res)
{
    const cm_packet *p = v->p;
    cm_flow *R = v->R;
    if (!v->ack || !R->q)
        return;
    cm_entry *e = cm_pending_find(&R->q->ts, p->tsecr, v->min_t);
    if (!e)
        return;
    bool ok = p->t_ns >= e->t_ns;
    /* clocked: a pure ACK's TSval counts only when P's sender had data in
     * flight, so the echo did not wait for its application. */
    if (ok && e->pureack && eng->cfg.ts_pure_acks == CM_TS_PURE_ACKS_CLOCKED)
        ok = v->F->seen && R->ack_high_set && cm_serial_gt(v->F->high_end, R->ack_high);
    if (ok) {
        res->present |= CM_HAS_TSRTD;
        res->tsrtd_ns = p->t_ns - e->t_ns;
        res->tsrtd_frame = e->frame;
        res->tsrtd_pureack = e->pureack;
    }
    e->removed = true;
    trim(eng, &R->q->ts, v->min_t);
}

/* TS rule 2, then record: the first eligible packet carrying a TSval newer
 * than the floor starts its round trip.  Returns true when P recorded. */
static bool ts_rule_record(cm_engine *eng, const packet_view *v)
{
    const cm_packet *p = v->p;
    cm_flow *F = v->F;
    if (!F->ts_seen) {
        F->ts_seen = true;
        if (!v->syn) {
            /* The capture may have started amid this TSval's packets. */
            F->ts_floor = p->tsval;
            F->ts_floor_set = true;
            return false;
        }
    }
    if (v->pure_ack && eng->cfg.ts_pure_acks == CM_TS_PURE_ACKS_NONE)
        return false; /* not eligible */
    if (F->ts_floor_set && !cm_serial_gt(p->tsval, F->ts_floor))
        return false;
    bool recorded = false;
    cm_queues *q = queues_get(eng, F);
    if (q)
        trim(eng, &q->ts, v->min_t);
    if (q && !cm_pending_find(&q->ts, p->tsval, v->min_t)) {
        cm_entry *e = record_entry(eng, &q->ts, p->tsval);
        if (e) {
            e->t_ns = p->t_ns;
            e->frame = p->frame;
            e->pureack = v->pure_ack;
            e->seq = p->seq;
            e->end = v->end;
            recorded = true;
        }
    }
    F->ts_floor = p->tsval;
    F->ts_floor_set = true;
    return recorded;
}

/* TS rule 3, data takes over: an entry recorded by a pure ACK now stands
 * for P's data (an entry P itself just recorded is not one). */
static void ts_rule_data_takes_over(const packet_view *v, bool recorded)
{
    if (v->pure_ack || recorded || !v->F->q)
        return;
    cm_entry *e = cm_pending_find(&v->F->q->ts, v->p->tsval, v->min_t);
    if (e && e->pureack) {
        e->pureack = false;
        e->seq = v->p->seq;
        e->end = v->end;
    }
}

/* TS rule 4, Karn: a retransmission drops the TS entries of earlier packets
 * whose data it overlaps: their echo may answer either copy. */
static void ts_rule_karn(const packet_view *v)
{
    if (!v->F->q)
        return;
    cm_pending *q = &v->F->q->ts;
    for (uint32_t i = 0; i < q->count; i++) {
        cm_entry *e = cm_pending_at(q, i);
        if (!e->removed && e->frame != v->p->frame &&
            cm_ranges_overlap(e->seq, e->end, v->p->seq, v->end))
            e->removed = true;
    }
}

static void ts_rules(cm_engine *eng, const packet_view *v, cm_result *res)
{
    if (v->p->has_ts) {
        ts_rule_match(eng, v, res);
        bool recorded = ts_rule_record(eng, v);
        ts_rule_data_takes_over(v, recorded);
    }
    if (v->karn) /* with or without a TS option on P */
        ts_rule_karn(v);
}

/* ---- SPEC: Seq round trips -------------------------------------------- */

static bool ack_advances(const packet_view *v)
{
    return v->ack && (!v->F->ack_high_set || cm_serial_gt(v->p->ack, v->F->ack_high));
}

/* Seq rule 1, match: an advancing ACK answers the segment ending exactly
 * there, and acknowledges every entry up to it. */
static void seq_rule_match(const packet_view *v, cm_result *res)
{
    const cm_packet *p = v->p;
    if (!ack_advances(v) || !v->R->q)
        return;
    cm_entry *e = cm_pending_find(&v->R->q->seq, p->ack, v->min_t);
    if (e && p->t_ns >= e->t_ns) {
        res->present |= CM_HAS_SEQRTD;
        res->seqrtd_ns = p->t_ns - e->t_ns;
        res->seqrtd_frame = e->frame;
    }
    cm_pending_remove_upto(&v->R->q->seq, p->ack);
}

/* Seq rule 2, record: new data starts a round trip; a retransmission or
 * reordered segment (the Karn case) cancels those it overlaps. */
static void seq_rule_record(cm_engine *eng, const packet_view *v)
{
    const cm_packet *p = v->p;
    if (v->L == 0 || v->zw_probe)
        return;
    if (v->karn) {
        if (!v->F->q)
            return;
        cm_pending *q = &v->F->q->seq;
        for (uint32_t i = 0; i < q->count; i++) {
            cm_entry *e = cm_pending_at(q, i);
            if (!e->removed && cm_ranges_overlap(e->seq, e->end, p->seq, v->end))
                e->removed = true;
        }
        return;
    }
    cm_queues *qs = queues_get(eng, v->F);
    if (!qs)
        return;
    cm_pending *q = &qs->seq;
    trim(eng, q, v->min_t);
    cm_entry *old = cm_pending_find(q, v->end, INT64_MIN);
    if (old)
        old->removed = true;
    cm_entry *e = record_entry(eng, q, v->end);
    if (e) {
        e->t_ns = p->t_ns;
        e->frame = p->frame;
        e->seq = p->seq;
        e->end = v->end;
    }
}

/* ---- SPEC: minrtd and End-to-end round trips (pathrtd) ---------------- */

static void rule_minrtd(const packet_view *v, cm_result *res)
{
    cm_flow *F = v->F;
    const int64_t samples[2] = {res->tsrtd_ns, res->seqrtd_ns};
    const uint32_t bits[2] = {CM_HAS_TSRTD, CM_HAS_SEQRTD};
    for (int i = 0; i < 2; i++) {
        if (!(res->present & bits[i]))
            continue;
        if (!F->minrtd_set || samples[i] < F->minrtd_ns) {
            F->minrtd_ns = samples[i];
            F->minrtd_set = true;
        }
        res->present |= CM_HAS_MINRTD;
        res->minrtd_ns = F->minrtd_ns;
    }
}

/* P's half plus R's latest half, when R's is at most rtd_max_age old (by
 * P's own time); then P's half becomes F's latest. */
static void rule_pathrtd(const cm_engine *eng, const packet_view *v, cm_result *res)
{
    int64_t half;
    if (res->present & CM_HAS_TSRTD)
        half = res->tsrtd_ns;
    else if (res->present & CM_HAS_SEQRTD)
        half = res->seqrtd_ns;
    else
        return;
    const cm_flow *R = v->R;
    const int64_t t = v->p->t_ns;
    if (R->half_set && t >= R->half_t && t - R->half_t <= eng->cfg.rtd_max_age_ns) {
        res->present |= CM_HAS_PATHRTD;
        res->pathrtd_ns = half + R->half_ns;
        res->pathrtd_frame = R->half_frame;
    }
    cm_flow *F = v->F;
    F->half_ns = half;
    F->half_t = t;
    F->half_frame = v->p->frame;
    F->half_set = true;
}

/* ---- per-flow state, updated last ------------------------------------- */

static void update_flow(const packet_view *v, bool advanced, cm_result *res)
{
    const cm_packet *p = v->p;
    cm_flow *F = v->F;
    if (advanced) {
        F->ack_high = p->ack;
        F->ack_high_set = true;
    }
    if (!F->seen || p->ack != F->prev_ack) {
        F->ack_orig_t = p->t_ns;
        F->ack_orig_frame = p->frame;
        F->dupack_count = 0;
    }
    if (!F->seen || (!v->zw_probe && cm_serial_gt(v->end, F->high_end)))
        F->high_end = v->end;
    F->prev_ack = p->ack;
    F->prev_window = p->window;
    F->prev_keepalive = v->keepalive;
    F->seen = true;
    F->flowbytes += p->payload;
    res->flowbytes = F->flowbytes;
}

/* ---- one packet, in the SPEC's order ---------------------------------- */

bool cm_engine_analyse(cm_engine *eng, const cm_packet *p, cm_result *res)
{
    memset(res, 0, sizeof *res);
    cm_conn *c = conn_get(eng, p);
    if (!c)
        return false;
    packet_view v;
    view_packet(eng, c, p, &v);
    res->payload = p->payload;
    res->direction = (uint8_t)v.dir;

    /* Position, keepalive, probe and duplicate ACK use the state before P. */
    rule_position(&v, res);
    rule_dupack(&v, res);
    ts_rules(eng, &v, res);
    const bool advanced = ack_advances(&v);
    seq_rule_match(&v, res);
    seq_rule_record(eng, &v);
    rule_minrtd(&v, res);
    rule_pathrtd(eng, &v, res);
    update_flow(&v, advanced, res);
    queues_release_if_empty(eng, v.F);
    queues_release_if_empty(eng, v.R);
    pack_idle(eng);
    return true;
}
