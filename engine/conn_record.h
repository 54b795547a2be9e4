/* Per-connection records (SPEC "Distributions and per-connection
 * records"): what one connection did, summed up from the engine's
 * per-packet results, and its one-line JSON form (the command line's
 * --flows).
 *
 * Direction a is the stream's first sender (cm_result.direction 0), b the
 * other.  Per direction, over its own analysed packets: packets, payload
 * bytes (its final flowbytes), how many carried tsrtd, seqrtd and pathrtd,
 * the distribution of its halves (tsrtd, else seqrtd) and of its pathrtd
 * values, and how many were flagged hole, behind and dupack.  For the
 * connection: first and last analysed packet in frame order.
 *
 * Memory: sizeof(cm_conn_record) (472 bytes on 64-bit, four empty
 * sketches included) plus 6 bytes per occupied sketch bucket (sketch.h):
 * 600 to 750 bytes for the connections of the bundled captures, 1.6 KB for
 * one whose delays spread over a decade; bounded by the bucket count
 * whatever the number of packets.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_CONN_RECORD_H
#define CONNMON_CONN_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "connmon.h"
#include "sketch.h"

/* One direction of a connection. */
typedef struct cm_dir_record {
    uint64_t packets;        /* its analysed packets */
    uint64_t payload_bytes;  /* connmon.flowbytes of its latest packet */
    uint64_t tsrtd_count;    /* packets carrying connmon.tsrtd */
    uint64_t seqrtd_count;   /* ... connmon.seqrtd */
    uint64_t pathrtd_count;  /* ... connmon.pathrtd */
    uint64_t hole, behind, dupack; /* packets with that expert info */
    cm_sketch half;          /* tsrtd, else seqrtd, of its packets */
    cm_sketch path;          /* pathrtd of its packets */
    cm_addr  src, dst;       /* connmon.flow of its first packet */
    uint16_t sport, dport;
} cm_dir_record;

typedef struct cm_conn_record {
    uint32_t first_frame, last_frame; /* first and latest analysed packet */
    int64_t  first_t_ns, last_t_ns;   /* their capture times */
    uint8_t  seen;                    /* bit 0: a sent a packet, bit 1: b */
    uint64_t samples_lost;            /* delays left out of a distribution
                                         for lack of memory */
    cm_dir_record dir[2];             /* a, b */
} cm_conn_record;

/* An empty record (all zero is empty too). */
void cm_conn_record_init(cm_conn_record *r);
/* Frees the distributions; the record is empty afterwards. */
void cm_conn_record_free(cm_conn_record *r);

/* Adds one analysed packet and the engine's result for it; packets in
 * frame order.  Returns false when a delay could not be stored for lack of
 * memory: every count is still right, the distribution misses that value,
 * and samples_lost counts it. */
bool cm_conn_record_add(cm_conn_record *r, const cm_packet *pkt, const cm_result *res);

/* Bytes the record holds, its distributions' buckets included. */
size_t cm_conn_record_bytes(const cm_conn_record *r);

/* The record as one JSON object, without a newline:
 *   {"first_frame":N,"last_frame":N,"first_time":S,"last_time":S,
 *    "a":{DIR},"b":{DIR}}                 ("b" only when b sent a packet)
 * DIR: "flow":"src:sport+dst:dport","packets":N,"payload_bytes":N,
 *      "tsrtd_count":N,"seqrtd_count":N,"pathrtd_count":N,
 *      "half":{DIST},"path":{DIST},"hole":N,"behind":N,"dupack":N
 * DIST: "count":N,"min":S,"mean":S,"p50":S,"p90":S,"p99":S,"max":S, or
 *       only "count":0.
 * Times (S) are seconds with 9 decimals (first_time, last_time: since the
 * epoch).  Writes at most size bytes, NUL included, like snprintf, and
 * returns the length of the whole object; CM_CONN_RECORD_JSON_MAX is
 * always enough. */
#define CM_CONN_RECORD_JSON_MAX 2048
size_t cm_conn_record_json(const cm_conn_record *r, char *buf, size_t size);

#endif
