/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "conntrack.h"

#include <stdlib.h>
#include <string.h>

struct conn {
    struct conn *next;
    cm_addr addr[2];        /* [0]: sender of the connection's first packet */
    uint16_t port[2];
    uint32_t stream;
    int64_t last_ns;
    uint32_t base_seq[2];   /* Wireshark's per-direction base sequence number */
    bool base_set[2];
    bool seen[2];
    char label[2][CM_FLOW_LABEL_MAX]; /* formatted on first use */
};

struct conntrack {
    cm_engine *eng;
    conn **buckets;
    size_t nbuckets;        /* power of two */
    size_t count;
    uint32_t next_stream;
    int64_t max_idle_ns;
    conn_stats stats;
};

conntrack *conntrack_new(cm_engine *eng, int64_t max_idle_ns)
{
    conntrack *ct = calloc(1, sizeof *ct);
    if (!ct)
        return NULL;
    ct->eng = eng;
    ct->max_idle_ns = max_idle_ns;
    ct->nbuckets = 1024;
    ct->buckets = calloc(ct->nbuckets, sizeof *ct->buckets);
    if (!ct->buckets) {
        free(ct);
        return NULL;
    }
    return ct;
}

void conntrack_free(conntrack *ct)
{
    if (!ct)
        return;
    for (size_t i = 0; i < ct->nbuckets; i++) {
        conn *c = ct->buckets[i];
        while (c) {
            conn *n = c->next;
            free(c);
            c = n;
        }
    }
    free(ct->buckets);
    free(ct);
}

static inline size_t addr_len(const cm_addr *a) { return a->family == 6 ? 16 : 4; }

static uint64_t endpoint_hash(const cm_addr *a, uint16_t port)
{
    uint64_t h = 1469598103934665603ull ^ a->family;
    for (size_t i = 0; i < addr_len(a); i++)
        h = (h ^ a->bytes[i]) * 1099511628211ull;
    h = (h ^ port) * 1099511628211ull;
    return h;
}

/* Symmetric: both directions of a connection land in one bucket. */
static size_t bucket_of(const conntrack *ct, const cm_packet *p)
{
    uint64_t h = endpoint_hash(&p->src, p->sport) + endpoint_hash(&p->dst, p->dport);
    h ^= h >> 29;
    return (size_t)h & (ct->nbuckets - 1);
}

static inline bool ep_eq(const cm_addr *a, uint16_t pa, const cm_addr *b, uint16_t pb)
{
    return pa == pb && a->family == b->family && memcmp(a->bytes, b->bytes, addr_len(a)) == 0;
}

static void rehash(conntrack *ct)
{
    size_t nb = ct->nbuckets * 2;
    conn **nbk = calloc(nb, sizeof *nbk);
    if (!nbk)
        return;
    conn **old = ct->buckets;
    size_t oldn = ct->nbuckets;
    ct->buckets = nbk;
    ct->nbuckets = nb;
    for (size_t i = 0; i < oldn; i++) {
        for (conn *c = old[i], *n; c; c = n) {
            n = c->next;
            cm_packet key;
            key.src = c->addr[0], key.sport = c->port[0];
            key.dst = c->addr[1], key.dport = c->port[1];
            size_t b = bucket_of(ct, &key);
            c->next = nbk[b];
            nbk[b] = c;
        }
    }
    free(old);
}

static void unlink_conn(conntrack *ct, conn **pp)
{
    conn *c = *pp;
    *pp = c->next;
    cm_engine_forget_stream(ct->eng, c->stream);
    free(c);
    ct->count--;
}

bool conntrack_assign(conntrack *ct, cm_packet *p, conn **conn_out)
{
    size_t b = bucket_of(ct, p);
    conn **pp = &ct->buckets[b], *c = NULL;
    int dir = 0;
    for (; *pp; pp = &(*pp)->next) {
        conn *x = *pp;
        if (ep_eq(&p->src, p->sport, &x->addr[0], x->port[0]) &&
            ep_eq(&p->dst, p->dport, &x->addr[1], x->port[1])) {
            c = x, dir = 0;
            break;
        }
        if (ep_eq(&p->src, p->sport, &x->addr[1], x->port[1]) &&
            ep_eq(&p->dst, p->dport, &x->addr[0], x->port[0])) {
            c = x, dir = 1;
            break;
        }
    }
    const uint16_t synack = p->flags & (CM_TH_SYN | CM_TH_ACK);
    if (c) {
        bool idle = ct->max_idle_ns > 0 && p->t_ns - c->last_ns > ct->max_idle_ns;
        bool new_isn = synack == CM_TH_SYN && c->base_set[dir] && p->seq != c->base_seq[dir];
        if (idle || new_isn) {
            unlink_conn(ct, pp);
            c = NULL;
        } else if (synack == (CM_TH_SYN | CM_TH_ACK) && c->base_set[dir] &&
                   p->seq != c->base_seq[dir]) {
            c->base_seq[dir] = p->seq;
        }
    }
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c)
            return false;
        c->addr[0] = p->src, c->port[0] = p->sport;
        c->addr[1] = p->dst, c->port[1] = p->dport;
        c->stream = ct->next_stream++;
        c->next = ct->buckets[b];
        ct->buckets[b] = c;
        dir = 0;
        if (++ct->count > ct->nbuckets)
            rehash(ct);
    }
    if (!c->base_set[dir]) {
        c->base_seq[dir] = (p->flags & CM_TH_SYN) ? p->seq : p->seq - 1;
        c->base_set[dir] = true;
    }
    if (!c->base_set[!dir] && (p->flags & CM_TH_ACK)) {
        c->base_seq[!dir] = p->ack - 1;
        c->base_set[!dir] = true;
    }
    if (!c->seen[dir]) {
        c->seen[dir] = true;
        ct->stats.flows++;
        if (c->seen[!dir])
            ct->stats.one_way_flows--;
        else
            ct->stats.one_way_flows++;
    }
    c->last_ns = p->t_ns;
    p->stream = c->stream;
    *conn_out = c;
    return true;
}

const char *conntrack_label(conn *c, const cm_packet *p)
{
    int dir = ep_eq(&p->src, p->sport, &c->addr[0], c->port[0]) ? 0 : 1;
    if (!c->label[dir][0])
        cm_format_flow(c->label[dir], sizeof c->label[dir], p);
    return c->label[dir];
}

void conntrack_expire(conntrack *ct, int64_t now_ns)
{
    if (ct->max_idle_ns <= 0)
        return;
    for (size_t i = 0; i < ct->nbuckets; i++) {
        conn **pp = &ct->buckets[i];
        while (*pp) {
            if (now_ns - (*pp)->last_ns > ct->max_idle_ns)
                unlink_conn(ct, pp);
            else
                pp = &(*pp)->next;
        }
    }
}

size_t conntrack_count(const conntrack *ct)
{
    return ct->count;
}

conn_stats conntrack_stats(const conntrack *ct)
{
    return ct->stats;
}
