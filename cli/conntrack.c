/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "conntrack.h"

#include <stdlib.h>
#include <string.h>

#include "hashtab.h"
#include "lru.h"
#include "slab.h"

#define INITIAL_BUCKETS 1024

/* Sized by address family: an IPv4 connection takes 72 B, not the 96 B
 * that room for two IPv6 addresses would cost each. */
struct conn {
    cm_hnode node;          /* in conntrack.conns; first, so a node is its conn */
    cm_lru_link recency;    /* by last packet: --maxFlows and idle expiry */
    int64_t last_ns;        /* time of its latest packet, for idle expiry */
    uint32_t stream;        /* the connection's tcp.stream */
    uint32_t base_seq[2];   /* Wireshark's per-direction base sequence number */
    uint16_t port[2];       /* [0]: sender of the connection's first packet */
    uint8_t family;         /* 4 or 6 */
    bool base_set[2];
    uint8_t seen_dirs;      /* directions seen, for cm_flow_tally_see */
    uint8_t last_dir;       /* direction of the packet just assigned */
    uint8_t addr[];         /* addr_len(family) bytes per side, side 0 first */
};

static inline size_t addr_len(uint8_t family)
{
    return family == 6 ? 16 : 4;
}

struct conntrack {
    cm_engine *eng;
    cm_htab conns;          /* struct conn by cm_packet_pair_hash: both directions alike */
    cm_slab conn_slab[2];   /* every struct conn, [0] IPv4 and [1] IPv6: no
                               malloc header each, and freed in one go */
    uint32_t next_stream;
    int64_t max_idle_ns;
    size_t max_flows;       /* 0: no bound */
    cm_lru recency;         /* connections, least recently seen first */
    conn_stats stats;
    char label[CM_FLOW_LABEL_MAX]; /* conntrack_label's buffer */
    void (*on_forget)(uint32_t stream, void *arg); /* conntrack_on_forget */
    void *on_forget_arg;
};

conntrack *conntrack_new(cm_engine *eng, int64_t max_idle_ns, size_t max_flows)
{
    conntrack *ct = calloc(1, sizeof *ct);
    if (!ct)
        return NULL;
    ct->eng = eng;
    ct->max_idle_ns = max_idle_ns;
    ct->max_flows = max_flows;
    if (!cm_htab_init(&ct->conns, INITIAL_BUCKETS)) {
        free(ct);
        return NULL;
    }
    cm_htab_keep_sparse(&ct->conns); /* SYNs of new connections: see hashtab.h */
    cm_slab_init(&ct->conn_slab[0], sizeof(conn) + 2 * addr_len(4));
    cm_slab_init(&ct->conn_slab[1], sizeof(conn) + 2 * addr_len(6));
    return ct;
}

void conntrack_free(conntrack *ct)
{
    if (!ct)
        return;
    cm_slab_destroy(&ct->conn_slab[0]);
    cm_slab_destroy(&ct->conn_slab[1]);
    cm_htab_destroy(&ct->conns);
    free(ct);
}

/* ---- lookup -------------------------------------------------------------- */

static inline bool endpoint_is(const conn *c, int side, const cm_addr *a, uint16_t port)
{
    if (c->port[side] != port || a->family != c->family)
        return false;
    /* fixed sizes: compiled to one or two compares, not a memcmp call */
    return c->family == 6 ? memcmp(c->addr + side * 16, a->bytes, 16) == 0
                          : memcmp(c->addr + side * 4, a->bytes, 4) == 0;
}

/* The connection of p's 4-tuple, and p's direction in it (0: the same as
 * the connection's first packet). */
static conn *conn_find(const conntrack *ct, uint32_t hash, const cm_packet *p, int *dir)
{
    for (cm_hnode *n = cm_htab_first(&ct->conns, hash); n; n = cm_htab_next(n)) {
        conn *c = (conn *)n;
        if (endpoint_is(c, 0, &p->src, p->sport) && endpoint_is(c, 1, &p->dst, p->dport)) {
            *dir = 0;
            return c;
        }
        if (endpoint_is(c, 1, &p->src, p->sport) && endpoint_is(c, 0, &p->dst, p->dport)) {
            *dir = 1;
            return c;
        }
    }
    return NULL;
}

/* The least recently seen connection, or NULL. */
static inline conn *oldest(const conntrack *ct)
{
    return CM_LRU_ENTRY(ct->recency.oldest, conn, recency);
}

/* ---- connections begin and end ------------------------------------------ */

static conn *conn_create(conntrack *ct, uint32_t hash, const cm_packet *p)
{
    uint8_t family = p->src.family == 6 ? 6 : 4; /* the decoder gives 4 or 6 */
    size_t len = addr_len(family);
    conn *c = cm_slab_alloc(&ct->conn_slab[family == 6]);
    if (!c)
        return NULL;
    memset(c, 0, sizeof *c);
    c->family = family;
    memcpy(c->addr, p->src.bytes, len);
    memcpy(c->addr + len, p->dst.bytes, len);
    c->port[0] = p->sport;
    c->port[1] = p->dport;
    c->stream = ct->next_stream++;
    c->node.hash = hash;
    cm_htab_insert(&ct->conns, &c->node);
    cm_lru_push(&ct->recency, &c->recency);
    return c;
}

/* Forgets c here and in the engine, and says so. */
static void conn_drop(conntrack *ct, conn *c)
{
    uint32_t stream = c->stream;
    cm_lru_unlink(&ct->recency, &c->recency);
    cm_htab_remove(&ct->conns, &c->node);
    cm_engine_forget_stream(ct->eng, stream);
    cm_slab_free(&ct->conn_slab[c->family == 6], c);
    if (ct->on_forget)
        ct->on_forget(stream, ct->on_forget_arg);
}

void conntrack_on_forget(conntrack *ct, void (*fn)(uint32_t stream, void *arg), void *arg)
{
    ct->on_forget = fn;
    ct->on_forget_arg = arg;
}

static inline bool idle_at(const conntrack *ct, const conn *c, int64_t now_ns)
{
    return ct->max_idle_ns > 0 && now_ns - c->last_ns > ct->max_idle_ns;
}

static inline uint16_t syn_ack_bits(const cm_packet *p)
{
    return p->flags & (CM_TH_SYN | CM_TH_ACK);
}

/* A SYN (no ACK) whose ISN is not the one its direction started with: the
 * port pair is reused by a new connection. */
static bool starts_new_connection(const conn *c, int dir, const cm_packet *p)
{
    return syn_ack_bits(p) == CM_TH_SYN && c->base_set[dir] && p->seq != c->base_seq[dir];
}

/* Wireshark's base sequence numbers: a SYN-ACK with another ISN moves its
 * direction's base; otherwise the first packet of a direction sets it (the
 * SYN's seq, or seq - 1), and an ACK sets the other direction's if unset. */
static void track_base_seq(conn *c, int dir, const cm_packet *p)
{
    if (syn_ack_bits(p) == (CM_TH_SYN | CM_TH_ACK) && c->base_set[dir] &&
        p->seq != c->base_seq[dir])
        c->base_seq[dir] = p->seq;
    if (!c->base_set[dir]) {
        c->base_seq[dir] = (p->flags & CM_TH_SYN) ? p->seq : p->seq - 1;
        c->base_set[dir] = true;
    }
    if (!c->base_set[!dir] && (p->flags & CM_TH_ACK)) {
        c->base_seq[!dir] = p->ack - 1;
        c->base_set[!dir] = true;
    }
}

/* ---- the per-packet steps ------------------------------------------------ */

/* At the bound every new connection evicts the oldest, whose record and
 * bucket have long left the cache.  Loading them ahead (the next victim's
 * bucket, the one after's record) overlaps those misses with the packets
 * in between. */
static void prefetch_next_victims(const conntrack *ct)
{
    const conn *next = oldest(ct);
    if (!next)
        return;
    cm_htab_prefetch(&ct->conns, next->node.hash);
    if (next->recency.newer)
        __builtin_prefetch(CM_LRU_ENTRY(next->recency.newer, conn, recency));
}

bool conntrack_assign(conntrack *ct, cm_packet *p, conn **conn_out)
{
    uint32_t hash = cm_packet_pair_hash(p);
    int dir = 0;
    conn *c = conn_find(ct, hash, p, &dir);
    if (c && idle_at(ct, c, p->t_ns)) {
        ct->stats.expired_idle++;
        conn_drop(ct, c);
        c = NULL;
    } else if (c && starts_new_connection(c, dir, p)) {
        conn_drop(ct, c);
        c = NULL;
    }
    if (!c) {
        c = conn_create(ct, hash, p);
        if (!c)
            return false;
        dir = 0;
    }
    track_base_seq(c, dir, p);
    cm_flow_tally_see(&ct->stats.tally, &c->seen_dirs, (unsigned)dir);
    c->last_dir = (uint8_t)dir;
    c->last_ns = p->t_ns;
    cm_lru_touch(&ct->recency, &c->recency);
    /* Over the bound: forget the least recently seen (never c itself). */
    while (ct->max_flows > 0 && ct->conns.count > ct->max_flows && oldest(ct) != c) {
        ct->stats.evicted++;
        conn_drop(ct, oldest(ct));
        prefetch_next_victims(ct);
    }
    p->stream = c->stream;
    *conn_out = c;
    return true;
}

/* Formatted per call (a label per connection would double its memory);
 * the fast formatter makes that cheap. */
const char *conntrack_label(conntrack *ct, const cm_packet *p)
{
    cm_format_flow(ct->label, sizeof ct->label, p);
    return ct->label;
}

/* The recency list is in order of last packet, so the idle connections are
 * its oldest: the sweep costs what it drops, not the table's size.  (When
 * capture time runs backwards a connection may wait for the next sweep;
 * conntrack_assign checks idleness itself, so no value depends on it.) */
void conntrack_expire(conntrack *ct, int64_t now_ns)
{
    conn *c;
    while ((c = oldest(ct)) && idle_at(ct, c, now_ns)) {
        ct->stats.expired_idle++;
        conn_drop(ct, c);
    }
}

size_t conntrack_count(const conntrack *ct)
{
    return ct->conns.count;
}

conn_stats conntrack_stats(const conntrack *ct)
{
    return ct->stats;
}
