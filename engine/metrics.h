/* Prometheus metrics (the command line's --metrics): running totals since
 * the start, and their text exposition (format 0.0.4), formatted into a
 * buffer.  Serving it (HTTP) is the front end's.
 *
 *   connmon_packets_total                  counter  analysed TCP packets
 *   connmon_payload_bytes_total            counter  their TCP payload bytes
 *   connmon_holes_total                    counter  packets flagged hole
 *   connmon_behind_total                   counter  ... behind
 *   connmon_dupacks_total                  counter  ... dupack
 *   connmon_connections_evicted_total      counter  connections dropped
 *                                                   (idle, or to bound memory)
 *   connmon_connections                    gauge    connections held now
 *   connmon_rtd_seconds{prefix="..."}      histogram of the halves (tsrtd,
 *        else seqrtd) by the sender's prefix (len4 / len6 bits, as the
 *        aggregates), buckets le = 100 us, 200 us, 500 us, 1 ms, ..., 10 s
 *        (sketch.h's display histogram bounds) and +Inf
 *
 * Bounded: the first max_prefixes prefixes that carry a half get a series
 * of their own, the halves of every later prefix go into prefix="other"
 * (counters must never go down, so a prefix that has a series keeps it;
 * with max_prefixes 0 everything is "other").  "other" is always exposed,
 * so sum(connmon_rtd_seconds_count) is every half since the start.
 *
 * Memory: sizeof(cm_metrics) plus about 200 bytes per prefix series.
 * Failure: a series that cannot be allocated counts its halves in "other";
 * nothing is lost.
 *
 * Not thread-safe: one thread counts and formats; a server thread serves
 * copies of the formatted text.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_METRICS_H
#define CONNMON_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "connmon.h"
#include "prefix.h"
#include "sketch.h"

typedef struct cm_metrics_config {
    unsigned len4, len6;  /* prefix lengths of the series */
    size_t max_prefixes;  /* series of their own before "other" */
} cm_metrics_config;

#define CM_METRICS_DEFAULT_MAX_PREFIXES 256

/* The histogram's finite upper bounds (le), ns: CM_HIST_BUCKETS - 1 of
 * them, then +Inf. */
#define CM_METRICS_FINITE_BUCKETS (CM_HIST_BUCKETS - 1)

typedef struct cm_metrics cm_metrics;

/* Returns NULL when out of memory. */
cm_metrics *cm_metrics_new(const cm_metrics_config *cfg);
void cm_metrics_free(cm_metrics *m);

/* Counts one analysed packet and the engine's result for it. */
void cm_metrics_add(cm_metrics *m, const cm_packet *pkt, const cm_result *res);

/* The front end's connection numbers: held now, dropped since the start. */
void cm_metrics_set_connections(cm_metrics *m, uint64_t held, uint64_t evicted_total);

/* The exposition text.  Writes at most size bytes, NUL included, like
 * snprintf, and returns the length of the whole text: call again with a
 * larger buffer when the result is >= size. */
size_t cm_metrics_format(const cm_metrics *m, char *buf, size_t size);

/* The histogram slot of a value: i < CM_METRICS_FINITE_BUCKETS for the
 * first bound >= v, CM_METRICS_FINITE_BUCKETS for +Inf. */
unsigned cm_metrics_slot(int64_t v);

/* Bound i (ns), i < CM_METRICS_FINITE_BUCKETS. */
int64_t cm_metrics_bound(unsigned i);

/* Number of prefix series, "other" not counted. */
size_t cm_metrics_prefix_count(const cm_metrics *m);

#endif
