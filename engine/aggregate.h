/* Aggregates (the command line's --aggregate N): per interval of N seconds
 * of capture time and per source prefix, what the packets sent from that
 * prefix did, summed up from the engine's per-packet results.
 *
 * The source prefix is the sender's address cut to len4 / len6 bits: the
 * host a packet's half (its tsrtd, else its seqrtd) was measured to.
 * Per interval and prefix, over the analysed packets sent from the prefix:
 * packets, payload bytes (tcp.len, retransmissions included), the
 * distribution of the halves (SPEC "Distributions and per-connection
 * records", through sketch.h), and how many were flagged hole, behind and
 * dupack.
 *
 * Intervals: [k*N, (k+1)*N) seconds since the epoch.  The aggregator keeps
 * one interval open.  A packet counts in the interval holding the largest
 * time the aggregator has seen so far (packets' times and cm_agg_advance's
 * clock): its own time, unless capture time ran backwards or the clock was
 * advanced past it, since an emitted interval cannot change.  An interval
 * is emitted (closed) when that largest time reaches its end: on a later
 * packet, on cm_agg_advance (a live capture's wall-clock tick, so records
 * come out promptly when traffic stops), or on cm_agg_flush (end of
 * input).  An interval without packets emits nothing.
 *
 * Memory: one record per prefix seen in the open interval (about 200 bytes
 * plus the sketch's buckets), all freed when it closes.  With max_prefixes
 * > 0 at most that many prefixes get a record of their own per interval;
 * the packets of further prefixes go into one record with prefix "other".
 *
 * Failure: a record or a sketch bucket that cannot be allocated loses that
 * packet or that half; cm_agg_counters counts them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_AGGREGATE_H
#define CONNMON_AGGREGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "connmon.h"
#include "prefix.h"
#include "sketch.h"

typedef struct cm_agg_config {
    int64_t  interval_ns;   /* N, > 0 */
    unsigned len4, len6;    /* source prefix lengths (default 24, 48) */
    size_t   max_prefixes;  /* records per interval before "other"; 0: no limit */
} cm_agg_config;

#define CM_AGG_DEFAULT_LEN4 24
#define CM_AGG_DEFAULT_LEN6 48

/* What one interval and prefix did. */
typedef struct cm_agg_record {
    int64_t   start_ns;        /* interval start, ns since the epoch */
    cm_prefix prefix;          /* meaningless when other */
    bool      other;           /* the prefixes past max_prefixes, together */
    uint64_t  packets;         /* analysed packets sent from the prefix */
    uint64_t  payload_bytes;   /* their TCP payload (connmon.payload) */
    cm_sketch halves;          /* their halves: tsrtd, else seqrtd */
    uint64_t  hole, behind, dupack; /* their packets with that expert info */
} cm_agg_record;

/* Receives each record of a closing interval, in cm_prefix_cmp order with
 * "other" last.  The record is freed after the call. */
typedef void (*cm_agg_emit_fn)(const cm_agg_record *rec, void *arg);

typedef struct cm_agg cm_agg;

/* Returns NULL when out of memory or when cfg->interval_ns <= 0. */
cm_agg *cm_agg_new(const cm_agg_config *cfg, cm_agg_emit_fn emit, void *arg);
/* Frees everything; an open interval is dropped, not emitted. */
void cm_agg_free(cm_agg *a);

/* Counts one analysed packet and the engine's result for it, after
 * emitting the open interval if the packet's time reached its end.
 * Returns false when something of it could not be stored (counted). */
bool cm_agg_add(cm_agg *a, const cm_packet *pkt, const cm_result *res);

/* The clock reached now_ns: emits the open interval if it has ended. */
void cm_agg_advance(cm_agg *a, int64_t now_ns);

/* End of input: emits the open interval. */
void cm_agg_flush(cm_agg *a);

typedef struct cm_agg_counters {
    uint64_t records_emitted;
    uint64_t packets_lost;  /* no record could be allocated for them */
    uint64_t halves_lost;   /* counted in `packets`, missing from `halves` */
} cm_agg_counters;

void cm_agg_get_counters(const cm_agg *a, cm_agg_counters *out);

/* The record as one JSON object, without a newline:
 *   {"start":S,"prefix":"10.1.2.0/24","packets":N,"payload_bytes":N,
 *    "count":N,"min":S,"mean":S,"p50":S,"p90":S,"p99":S,"max":S,
 *    "hole":N,"behind":N,"dupack":N}
 * with min .. max only when count > 0.  S: seconds with 9 decimals (start:
 * since the epoch).  Writes at most size bytes, NUL included, like
 * snprintf, and returns the length of the whole object;
 * CM_AGG_JSON_MAX is always enough. */
#define CM_AGG_JSON_MAX 512
size_t cm_agg_record_json(const cm_agg_record *rec, char *buf, size_t size);

#endif
