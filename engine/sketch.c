/* Bounded-memory delay distributions: see sketch.h for the bucket layout
 * and its error bound.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "sketch.h"

#include <stdlib.h>
#include <string.h>

/* The linear part reaches 256 us so that a percentile shown in whole
 * microseconds (the stats tree) still meets the SPEC's tolerance: from
 * 256 us on, half a bucket plus half a microsecond of rounding is below
 * 1 % of the value; from 128 us it would not be. */
enum {
    LINEAR = 256,   /* 1 us buckets below 256 us */
    SUB_BITS = 6,   /* 2^6 = 64 buckets per octave above */
    FIRST_OCTAVE = 8,
};

/* ---- buckets ---------------------------------------------------------------- */

static unsigned log2_u64(uint64_t u) /* u > 0 */
{
    unsigned e = 0;
    for (unsigned step = 32; step; step >>= 1)
        if (u >> step) {
            u >>= step;
            e += step;
        }
    return e;
}

/* |v| without overflow (INT64_MIN included). */
static uint64_t magnitude(int64_t v)
{
    return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

static int index_of_magnitude(uint64_t m)
{
    uint64_t u = m / 1000;
    if (u < LINEAR)
        return (int)u;
    unsigned e = log2_u64(u);
    unsigned sub = (unsigned)(u >> (e - SUB_BITS)) - (1u << SUB_BITS);
    return LINEAR + (int)((e - FIRST_OCTAVE) << SUB_BITS) + (int)sub;
}

int cm_sketch_key(int64_t v)
{
    int idx = index_of_magnitude(magnitude(v));
    return v < 0 ? -1 - idx : idx;
}

/* The magnitudes [lo, hi] of bucket index idx and its midpoint, in ns;
 * hi can exceed INT64_MAX for the top buckets, hence unsigned. */
static void index_range(int idx, uint64_t *lo, uint64_t *hi, uint64_t *mid)
{
    uint64_t u_lo, width;
    if (idx < LINEAR) {
        u_lo = (uint64_t)idx;
        width = 1;
    } else {
        unsigned e = FIRST_OCTAVE + (unsigned)((idx - LINEAR) >> SUB_BITS);
        unsigned sub = (unsigned)((idx - LINEAR) & ((1 << SUB_BITS) - 1));
        width = (uint64_t)1 << (e - SUB_BITS);
        u_lo = ((uint64_t)(1u << SUB_BITS) + sub) * width;
    }
    *lo = u_lo * 1000;
    *hi = *lo + width * 1000 - 1;
    if (*hi < *lo) /* past 2^64: only magnitudes up to 2^63 occur */
        *hi = UINT64_MAX;
    *mid = *lo + width * 500;
}

/* Unsigned magnitude to int64 with a sign, saturating. */
static int64_t signed_clip(uint64_t m, bool negative)
{
    if (negative)
        return m >= (uint64_t)1 << 63 ? INT64_MIN : -(int64_t)m;
    return m > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)m;
}

void cm_sketch_key_range(int key, int64_t *lo, int64_t *hi, int64_t *rep)
{
    bool neg = key < 0;
    uint64_t mlo, mhi, mid;
    index_range(neg ? -1 - key : key, &mlo, &mhi, &mid);
    if (neg) {
        *lo = signed_clip(mhi, true);
        *hi = signed_clip(mlo, true);
    } else {
        *lo = signed_clip(mlo, false);
        *hi = signed_clip(mhi, false);
    }
    *rep = signed_clip(mid, neg);
}

static int64_t key_rep(int key)
{
    int64_t lo, hi, rep;
    cm_sketch_key_range(key, &lo, &hi, &rep);
    return rep;
}

/* ---- the sorted bucket array --------------------------------------------------- */

static int16_t *keys_of(const cm_sketch *s)
{
    return (int16_t *)(void *)(s->counts + s->cap);
}

void cm_sketch_init(cm_sketch *s)
{
    memset(s, 0, sizeof *s);
}

void cm_sketch_free(cm_sketch *s)
{
    free(s->counts);
    cm_sketch_init(s);
}

/* Makes room for `more` buckets; false when out of memory. */
static bool reserve(cm_sketch *s, uint32_t more)
{
    if (s->cap - s->len >= more)
        return true;
    uint64_t want = (uint64_t)s->len + more;
    uint64_t cap = s->cap ? s->cap : 4;
    while (cap < want)
        cap += (cap + 1) / 2;
    cap = (cap + 1) & ~(uint64_t)1; /* keeps the key array 4-byte aligned */
    if (cap > UINT32_MAX / 8)
        return false;
    uint32_t *mem = malloc((size_t)cap * (sizeof(uint32_t) + sizeof(int16_t)));
    if (!mem)
        return false;
    if (s->len) {
        memcpy(mem, s->counts, s->len * sizeof(uint32_t));
        memcpy(mem + cap, keys_of(s), s->len * sizeof(int16_t));
    }
    free(s->counts);
    s->counts = mem;
    s->cap = (uint32_t)cap;
    return true;
}

/* Index of the first bucket whose key is >= key. */
static uint32_t lower_bound(const cm_sketch *s, int key)
{
    const int16_t *k = keys_of(s);
    uint32_t lo = 0, hi = s->len;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (k[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Adds c values to bucket key.  A bucket whose count would pass
 * UINT32_MAX continues in a second one with the same key right after it
 * (the walk in rank order does not care).  False when out of memory. */
static bool bucket_add(cm_sketch *s, int key, uint64_t c)
{
    while (c) {
        uint32_t i = s->len ? lower_bound(s, key) : 0;
        while (i < s->len && keys_of(s)[i] == key && s->counts[i] == UINT32_MAX)
            i++;
        if (i == s->len || keys_of(s)[i] != key) {
            if (!reserve(s, 1))
                return false;
            int16_t *k = keys_of(s);
            memmove(s->counts + i + 1, s->counts + i, (s->len - i) * sizeof(uint32_t));
            memmove(k + i + 1, k + i, (s->len - i) * sizeof(int16_t));
            s->counts[i] = 0;
            k[i] = (int16_t)key;
            s->len++;
        }
        uint64_t room = UINT32_MAX - s->counts[i];
        uint64_t take = c < room ? c : room;
        s->counts[i] += (uint32_t)take;
        c -= take;
    }
    return true;
}

/* ---- exact moments --------------------------------------------------------------- */

static void sum_add(cm_sketch *s, uint64_t lo, int64_t hi)
{
    uint64_t old = s->sum_lo;
    s->sum_lo += lo;
    s->sum_hi = (int64_t)((uint64_t)s->sum_hi + (uint64_t)hi + (s->sum_lo < old));
}

static void moments_add(cm_sketch *s, int64_t min, int64_t max, uint64_t n,
                        uint64_t sum_lo, int64_t sum_hi)
{
    if (s->n == 0 || min < s->min)
        s->min = min;
    if (s->n == 0 || max > s->max)
        s->max = max;
    s->n += n;
    sum_add(s, sum_lo, sum_hi);
}

bool cm_sketch_add(cm_sketch *s, int64_t v)
{
    if (!bucket_add(s, cm_sketch_key(v), 1))
        return false;
    moments_add(s, v, v, 1, (uint64_t)v, v < 0 ? -1 : 0);
    return true;
}

bool cm_sketch_merge(cm_sketch *dst, const cm_sketch *src)
{
    if (src->n == 0)
        return true;
    /* Reserve the worst case first so a failure changes nothing. */
    if (!reserve(dst, src->len))
        return false;
    const int16_t *k = keys_of(src);
    for (uint32_t i = 0; i < src->len; i++)
        if (!bucket_add(dst, k[i], src->counts[i]))
            return false; /* only when a bucket passing 2^32 values needs a
                             second entry that cannot be allocated */
    moments_add(dst, src->min, src->max, src->n, src->sum_lo, src->sum_hi);
    return true;
}

uint64_t cm_rank(uint64_t n, unsigned pct)
{
    if (pct > 100)
        pct = 100;
    /* ceil(pct * n / 100) with n = 100 q + r: pct q + ceil(pct r / 100) */
    uint64_t k = pct * (n / 100) + (pct * (n % 100) + 99) / 100;
    return k ? k : 1;
}

/* The 128-bit magnitude |hi:lo| divided by d > 0, rounded to nearest, ties
 * to even.  The quotient must fit 64 bits. */
static uint64_t div_round_even(uint64_t hi, uint64_t lo, uint64_t d)
{
    uint64_t q = 0, r = 0;
    for (int bit = 127; bit >= 0; bit--) {
        uint64_t in = bit >= 64 ? (hi >> (bit - 64)) & 1 : (lo >> bit) & 1;
        bool carry = r >> 63;
        r = (r << 1) | in;
        q <<= 1;
        if (carry || r >= d) {
            r -= d;
            q |= 1;
        }
    }
    uint64_t rest = d - r; /* compare r with d / 2 without doubling r */
    if (r > rest || (r == rest && (q & 1)))
        q++;
    return q;
}

int64_t cm_sketch_mean(const cm_sketch *s)
{
    if (s->n == 0)
        return 0;
    bool neg = s->sum_hi < 0;
    uint64_t hi = (uint64_t)s->sum_hi, lo = s->sum_lo;
    if (neg) { /* two's complement negation of hi:lo */
        lo = ~lo + 1;
        hi = ~hi + (lo == 0);
    }
    uint64_t q = div_round_even(hi, lo, s->n);
    return signed_clip(q, neg); /* between min and max, so never clipped */
}

/* The value reported for rank k (1 <= k <= n): exact at both ends, else
 * the midpoint of the bucket holding the k-th value, kept within
 * [min, max]. */
static int64_t value_at(const cm_sketch *s, uint32_t bucket, uint64_t k)
{
    if (k <= 1)
        return s->min;
    if (k >= s->n)
        return s->max;
    int64_t v = key_rep(keys_of(s)[bucket]);
    return v < s->min ? s->min : v > s->max ? s->max : v;
}

int64_t cm_sketch_percentile(const cm_sketch *s, unsigned pct)
{
    if (s->n == 0)
        return 0;
    uint64_t k = cm_rank(s->n, pct), seen = 0;
    uint32_t i = 0;
    while (i + 1 < s->len && seen + s->counts[i] < k)
        seen += s->counts[i++];
    return value_at(s, i, k);
}

void cm_sketch_summarise(const cm_sketch *s, cm_delay_summary *out)
{
    memset(out, 0, sizeof *out);
    out->count = s->n;
    if (s->n == 0)
        return;
    out->min = s->min;
    out->max = s->max;
    out->mean = cm_sketch_mean(s);
    static const unsigned pcts[3] = {50, 90, 99};
    int64_t *dst[3] = {&out->p50, &out->p90, &out->p99};
    uint64_t seen = 0;
    uint32_t i = 0;
    for (int p = 0; p < 3; p++) { /* ranks ascend: one walk */
        uint64_t k = cm_rank(s->n, pcts[p]);
        while (i + 1 < s->len && seen + s->counts[i] < k)
            seen += s->counts[i++];
        *dst[p] = value_at(s, i, k);
    }
}

size_t cm_sketch_bytes(const cm_sketch *s)
{
    return sizeof *s + (size_t)s->cap * (sizeof(uint32_t) + sizeof(int16_t));
}

/* ---- display histogram ------------------------------------------------------------ */

static const int64_t hist_lower[CM_HIST_BUCKETS] = {
    0,
    INT64_C(100000), INT64_C(200000), INT64_C(500000),
    INT64_C(1000000), INT64_C(2000000), INT64_C(5000000),
    INT64_C(10000000), INT64_C(20000000), INT64_C(50000000),
    INT64_C(100000000), INT64_C(200000000), INT64_C(500000000),
    INT64_C(1000000000), INT64_C(2000000000), INT64_C(5000000000),
    INT64_C(10000000000),
};

static const char *const hist_labels[CM_HIST_BUCKETS] = {
    "< 100 us",
    "100-200 us", "200-500 us", "500 us-1 ms",
    "1-2 ms", "2-5 ms", "5-10 ms",
    "10-20 ms", "20-50 ms", "50-100 ms",
    "100-200 ms", "200-500 ms", "500 ms-1 s",
    "1-2 s", "2-5 s", "5-10 s",
    ">= 10 s",
};

unsigned cm_hist_bucket(int64_t v)
{
    unsigned i = CM_HIST_BUCKETS - 1;
    while (i > 0 && v < hist_lower[i])
        i--;
    return i;
}

int64_t cm_hist_lower(unsigned i)
{
    return i < CM_HIST_BUCKETS ? hist_lower[i] : INT64_MAX;
}

const char *cm_hist_label(unsigned i)
{
    return i < CM_HIST_BUCKETS ? hist_labels[i] : "";
}
