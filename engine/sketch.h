/* A bounded-memory distribution of delays (SPEC "Distributions and
 * per-connection records"): count, min, max and the sum are exact, so the
 * mean is exact (sum / n, rounded to the nearest ns, ties to even);
 * percentiles come from buckets and are within the SPEC's tolerance of the
 * nearest-rank value: at most 1 % of it or 1 us, whichever is larger.
 *
 * Buckets, on the magnitude m of a value in ns and u = m div 1000 (us):
 *   u < 256           one bucket per microsecond (width 1 us),
 *   u in [2^e, 2^e+1) 64 buckets per octave, e = 8 .. 53 (width 2^(e-6) us).
 * A bucket reports its midpoint, which is at most half a width from any of
 * its values: 0.5 us below 256 us, 1/128 (0.78 %) of the value above, so
 * even rounded to whole microseconds a reported value stays within the
 * tolerance.
 * Negative values (delays are never negative, a duplicate-ACK age can be
 * when capture time runs backwards) go into mirrored buckets with the same
 * bound on their magnitude.  There are 2 x 3138 possible buckets; only
 * those holding a value are stored, as a sorted array of (key, count)
 * pairs, 6 bytes each.  A delay that wanders between 10 and 40 ms fills
 * about 130 buckets; a steady one a few dozen.
 *
 * Memory: sizeof(cm_sketch) (56 bytes) plus 6 bytes per bucket in use,
 * the array grown by half again when full (cm_sketch_bytes says what a
 * sketch holds).
 *
 * Failure: only cm_sketch_add and cm_sketch_merge allocate; when they
 * cannot, they return false and (see cm_sketch_merge) leave the sketch as
 * it was: the value is not counted anywhere, so count and percentiles stay
 * consistent, and the caller counts the failure.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_SKETCH_H
#define CONNMON_SKETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cm_sketch {
    uint64_t n;          /* values added */
    int64_t  min, max;   /* exact; meaningless while n == 0 */
    uint64_t sum_lo;     /* exact sum, 128-bit two's complement: */
    int64_t  sum_hi;     /*   sum = sum_hi * 2^64 + sum_lo */
    uint32_t *counts;    /* counts[i] values in bucket keys[i]; keys
                            ascending; keys live in the same allocation,
                            right after the cap counts */
    uint32_t len, cap;   /* buckets in use, allocated */
} cm_sketch;

/* An empty sketch (all zero is empty too). */
void cm_sketch_init(cm_sketch *s);
/* Frees the buckets; the sketch is empty afterwards. */
void cm_sketch_free(cm_sketch *s);

/* Adds one value (ns).  Returns false, leaving the sketch unchanged, when
 * out of memory. */
bool cm_sketch_add(cm_sketch *s, int64_t v);

/* Adds every value of src to dst (for aggregates; src != dst).  Returns
 * false when out of memory: dst is then unchanged, except in the unlikely
 * case of a bucket passing 2^32 values, where part of src may be in it. */
bool cm_sketch_merge(cm_sketch *dst, const cm_sketch *src);

/* The rank of percentile pct (0..100) among n values: the nearest rank
 * k = ceil(pct * n / 100), at least 1, computed without overflow. */
uint64_t cm_rank(uint64_t n, unsigned pct);

/* Mean, rounded to the nearest ns, ties to even.  n must be >= 1. */
int64_t cm_sketch_mean(const cm_sketch *s);

/* Percentile pct (0..100) within the SPEC's tolerance of the nearest-rank
 * value; exact when that value is the minimum or the maximum (rank 1 or
 * n).  n must be >= 1. */
int64_t cm_sketch_percentile(const cm_sketch *s, unsigned pct);

/* What per-connection records and statistics report (SPEC). */
typedef struct cm_delay_summary {
    uint64_t count;
    int64_t  min, mean, p50, p90, p99, max; /* ns; only when count > 0 */
} cm_delay_summary;

/* Fills *out in one pass over the buckets; with n == 0 only count (0). */
void cm_sketch_summarise(const cm_sketch *s, cm_delay_summary *out);

/* Bytes the sketch holds: the struct and its bucket array. */
size_t cm_sketch_bytes(const cm_sketch *s);

/* ---- the buckets, for tests ---------------------------------------------- */

#define CM_SKETCH_KEYS_PER_SIGN 3138

/* The bucket key of v: 0 .. 3137 for v >= 0, -1 .. -3138 for v < 0,
 * increasing with v. */
int cm_sketch_key(int64_t v);

/* The smallest and largest value of bucket `key` (clipped to int64) and the
 * value it reports. */
void cm_sketch_key_range(int key, int64_t *lo, int64_t *hi, int64_t *rep);

/* ---- the display histogram -------------------------------------------------
 * Log-spaced buckets from 100 us to 10 s in steps 1-2-5, plus one below and
 * one above: [0, 100 us), [100 us, 200 us), [200 us, 500 us), [500 us,
 * 1 ms), ..., [5 s, 10 s), [10 s, inf).  Negative values count in the first
 * bucket. */

#define CM_HIST_BUCKETS 17

/* The histogram bucket of v (ns). */
unsigned cm_hist_bucket(int64_t v);

/* The lower bound of bucket i in ns (0 for the first). */
int64_t cm_hist_lower(unsigned i);

/* A label for bucket i: "< 100 us", "100-200 us", ..., "5-10 s", ">= 10 s". */
const char *cm_hist_label(unsigned i);

#endif
