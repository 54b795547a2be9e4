/* The engine's per-connection state, shared by engine.c (the rules) and
 * conn_pack.c (idle connections packed and unpacked).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_CONN_STATE_H
#define CONNMON_CONN_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "connmon.h"
#include "hashtab.h"
#include "lru.h"
#include "pending.h"
#include "slab.h"

/* Pending round-trip starts of one flow.  Allocated when the flow first
 * records one and freed when both queues are empty again, so that idle,
 * closed and answered connections (most of them, on a busy link) hold none. */
typedef struct cm_queues {
    cm_pending ts;          /* TS entries: TSval -> first eligible sighting */
    cm_pending seq;         /* seq entries: segment end -> data segment */
    /* Their first rings, in the same block: most flows hold one entry of
     * each kind, and a handshake allocates and frees a block per packet. */
    cm_entry first_ts[1], first_seq[1];
} cm_queues;

/* One direction of a connection: the SPEC's per-flow state, compact. */
typedef struct cm_flow {
    cm_queues *q;           /* NULL while nothing is pending */
    uint64_t flowbytes;     /* connmon.flowbytes */
    int64_t  ack_orig_t;    /* ack_orig: where the ACK number last changed */
    int64_t  minrtd_ns;     /* connmon.minrtd */
    int64_t  half_t;        /* latest half (SPEC pathrtd): its time, */
    int64_t  half_ns;       /*   value */
    uint32_t half_frame;    /*   and frame */
    uint32_t ack_orig_frame;
    uint32_t dupack_count;  /* duplicates since ack_orig */
    uint32_t high_end;      /* not moved by zero-window probes */
    uint32_t prev_ack;      /* raw ACK field of the previous packet */
    uint32_t ack_high;      /* highest ACK number sent (serial) */
    uint32_t ts_floor;      /* TSvals at or before it are never recorded */
    uint16_t prev_window;   /* raw window field of the previous packet */
    bool seen : 1;          /* high_end, prev_* and ack_orig are valid */
    bool ack_high_set : 1;
    bool ts_seen : 1;       /* a TS-bearing packet was seen (floor decided) */
    bool ts_floor_set : 1;
    bool prev_keepalive : 1; /* the previous packet was a keepalive */
    bool minrtd_set : 1;
    bool half_set : 1;
} cm_flow;

/* One connection (tcp.stream) while it is active ("hot").  A connection
 * idle for longer than cm_config.pack_idle_ns is packed into a few dozen
 * bytes (conn_pack.c) and unpacked when its next packet comes. */
typedef struct cm_conn {
    cm_hnode node;          /* keyed by stream (node.hash); node.tag 0 */
    cm_lru_link hot;        /* in the engine's hot list, by last use */
    int64_t  tmax;          /* latest capture time in the stream so far */
    cm_addr  a_addr;        /* the stream's first sender: direction 0 */
    bool     tmax_set;
    uint16_t a_port;
    cm_flow  flow[2];
} cm_conn;

/* A packed (idle) connection: the node, then `node.tag >> 1` bytes. */
#define CM_CONN_PACKED_TAG 1u

typedef struct cm_conn_packed {
    cm_hnode node;          /* keyed by stream; node.tag = len << 1 | 1 */
    uint8_t bytes[];
} cm_conn_packed;

/* A growable byte buffer for packing. */
typedef struct cm_bytes {
    uint8_t *data;
    size_t len, cap;
} cm_bytes;

/* Writes the state of c (without node and list links) to out->data from
 * out->len = 0; false when out of memory.  epoch: any time fixed for the
 * engine's life (its first packet's), which tmax is packed against. */
bool cm_conn_pack(const cm_conn *c, int64_t epoch, cm_bytes *out);

/* Restores a connection packed by cm_conn_pack into *c (node and links
 * untouched); queue rings come from pool.  False when out of memory (c's
 * queues are then freed and c must not be used). */
bool cm_conn_unpack(cm_conn *c, int64_t epoch, const uint8_t *bytes, size_t len, cm_pool *pool);

/* New empty queues from the pool; NULL when out of memory. */
cm_queues *cm_queues_new(cm_pool *pool);

/* Frees a flow's queues (rings and header) back to the pool. */
void cm_flow_queues_free(cm_flow *f, cm_pool *pool);

#endif
