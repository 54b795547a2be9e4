/* Delay sketch tests: count, min, max and mean exact, percentiles within the
 * SPEC's tolerance (1 % of the value or 1 us, whichever is larger) of the
 * exact nearest rank, on random data of several shapes; bucket bounds;
 * the display histogram.
 */
#include <string.h>

#include "check.h"
#include "sketch.h"

/* xorshift64*: reproducible data without libc's rand. */
static uint64_t rng_state = UINT64_C(0x9E3779B97F4A7C15);
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}
static uint64_t rnd_below(uint64_t n) { return n ? rnd() % n : 0; }

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The SPEC's tolerance around the exact value x. */
static bool within_tolerance(int64_t got, int64_t x)
{
    long double d = (long double)got - (long double)x;
    if (d < 0)
        d = -d;
    long double ax = x < 0 ? -(long double)x : (long double)x;
    return d <= 1000 || d * 100 <= ax;
}

/* Exact mean, ties to even, by long double-free integer reference: the sum
 * in 128 bits through __int128 where the compiler has it. */
static int64_t exact_mean(const int64_t *v, size_t n)
{
    __int128 sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    bool neg = sum < 0;
    unsigned __int128 m = neg ? (unsigned __int128)(-sum) : (unsigned __int128)sum;
    unsigned __int128 q = m / n, r = m % n;
    if (2 * r > n || (2 * r == n && (q & 1)))
        q++;
    return neg ? -(int64_t)q : (int64_t)q;
}

static int failures_reported;

/* Feeds v[0..n) and compares every figure with the exact reference. */
static void compare(const char *what, int64_t *v, size_t n)
{
    cm_sketch s;
    cm_sketch_init(&s);
    for (size_t i = 0; i < n; i++)
        CHECK(cm_sketch_add(&s, v[i]));
    qsort(v, n, sizeof *v, cmp_i64);
    CHECK_EQ_I64(s.n, n);
    CHECK_EQ_I64(s.min, v[0]);
    CHECK_EQ_I64(s.max, v[n - 1]);
    CHECK_EQ_I64(cm_sketch_mean(&s), exact_mean(v, n));
    static const unsigned pcts[] = {0, 1, 5, 10, 25, 50, 75, 90, 95, 99, 100};
    for (size_t p = 0; p < sizeof pcts / sizeof pcts[0]; p++) {
        uint64_t k = cm_rank(n, pcts[p]);
        int64_t exact = v[k - 1], got = cm_sketch_percentile(&s, pcts[p]);
        bool ok = within_tolerance(got, exact);
        CHECK(ok);
        if (!ok && failures_reported++ < 10)
            fprintf(stderr, "  %s n=%zu p%u: got %" PRId64 ", exact %" PRId64 "\n", what, n,
                    pcts[p], got, exact);
        if (k == 1 || k == n)
            CHECK_EQ_I64(got, exact); /* the ends are exact */
    }
    cm_delay_summary sum;
    cm_sketch_summarise(&s, &sum);
    CHECK_EQ_I64(sum.count, n);
    CHECK_EQ_I64(sum.min, v[0]);
    CHECK_EQ_I64(sum.max, v[n - 1]);
    CHECK_EQ_I64(sum.mean, cm_sketch_mean(&s));
    CHECK_EQ_I64(sum.p50, cm_sketch_percentile(&s, 50));
    CHECK_EQ_I64(sum.p90, cm_sketch_percentile(&s, 90));
    CHECK_EQ_I64(sum.p99, cm_sketch_percentile(&s, 99));
    cm_sketch_free(&s);
}

static void test_rank(void)
{
    CHECK_EQ_I64(cm_rank(1, 50), 1);
    CHECK_EQ_I64(cm_rank(1, 99), 1);
    CHECK_EQ_I64(cm_rank(1, 0), 1);
    CHECK_EQ_I64(cm_rank(10, 50), 5);
    CHECK_EQ_I64(cm_rank(10, 90), 9);
    CHECK_EQ_I64(cm_rank(10, 99), 10);
    CHECK_EQ_I64(cm_rank(100, 99), 99);
    CHECK_EQ_I64(cm_rank(101, 99), 100); /* ceil(99.99) */
    CHECK_EQ_I64(cm_rank(200, 50), 100);
    CHECK_EQ_I64(cm_rank(201, 50), 101);
    CHECK_EQ_I64(cm_rank(3, 100), 3);
    /* no overflow near 2^64 */
    CHECK(cm_rank(UINT64_MAX, 100) == UINT64_MAX);
    CHECK(cm_rank(UINT64_MAX, 50) == UINT64_MAX / 2 + 1);
    /* (X n + 99) div 100 against the integer formula for small n */
    for (uint64_t n = 1; n < 500; n++)
        for (unsigned x = 0; x <= 100; x++) {
            uint64_t k = (x * n + 99) / 100;
            if (k == 0)
                k = 1;
            CHECK(cm_rank(n, x) == k);
        }
}

static void test_empty_and_one(void)
{
    cm_sketch s;
    cm_sketch_init(&s);
    cm_delay_summary sum;
    cm_sketch_summarise(&s, &sum);
    CHECK_EQ_I64(sum.count, 0);
    CHECK_EQ_I64(cm_sketch_bytes(&s), sizeof s);
    CHECK(cm_sketch_add(&s, 20123456));
    cm_sketch_summarise(&s, &sum);
    CHECK_EQ_I64(sum.count, 1);
    CHECK_EQ_I64(sum.min, 20123456);
    CHECK_EQ_I64(sum.mean, 20123456);
    CHECK_EQ_I64(sum.p50, 20123456); /* rank 1 of 1: exact */
    CHECK_EQ_I64(sum.p90, 20123456);
    CHECK_EQ_I64(sum.p99, 20123456);
    CHECK_EQ_I64(sum.max, 20123456);
    cm_sketch_free(&s);
    CHECK_EQ_I64(s.n, 0);
    CHECK(s.counts == NULL);
}

static void test_mean_rounding(void)
{
    static const struct { int64_t a, b, mean; } cases[] = {
        {1, 2, 2},    /* 1.5 -> 2 (even) */
        {2, 3, 2},    /* 2.5 -> 2 */
        {0, 1, 0},    /* 0.5 -> 0 */
        {-1, -2, -2}, /* -1.5 -> -2 */
        {-2, -3, -2}, /* -2.5 -> -2 */
        {0, -1, 0},   /* -0.5 -> 0 */
        {INT64_MAX, INT64_MAX, INT64_MAX},
        {INT64_MIN, INT64_MIN, INT64_MIN},
        {INT64_MAX, INT64_MAX - 1, INT64_MAX - 1}, /* .5 -> even */
        {INT64_MIN, INT64_MAX, 0},                  /* -0.5 -> 0 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cm_sketch s;
        cm_sketch_init(&s);
        CHECK(cm_sketch_add(&s, cases[i].a));
        CHECK(cm_sketch_add(&s, cases[i].b));
        CHECK_EQ_I64(cm_sketch_mean(&s), cases[i].mean);
        cm_sketch_free(&s);
    }
    /* 1, 1, 2: 4/3 -> 1; 1, 2, 2: 5/3 -> 2 */
    cm_sketch s;
    cm_sketch_init(&s);
    cm_sketch_add(&s, 1);
    cm_sketch_add(&s, 1);
    cm_sketch_add(&s, 2);
    CHECK_EQ_I64(cm_sketch_mean(&s), 1);
    cm_sketch_add(&s, 2);
    cm_sketch_add(&s, 2);
    CHECK_EQ_I64(cm_sketch_mean(&s), 2); /* 8/5 = 1.6 */
    cm_sketch_free(&s);
    /* a sum far past 2^64: a thousand values near INT64_MAX */
    cm_sketch_init(&s);
    for (int i = 0; i < 1000; i++)
        cm_sketch_add(&s, INT64_MAX - (i & 1));
    CHECK_EQ_I64(cm_sketch_mean(&s), INT64_MAX - 1); /* MAX - 0.5: ties to even */
    cm_sketch_free(&s);
}

/* Every bucket: its range contains the values that map to it, keys increase
 * with the value, the reported value is within tolerance of both ends. */
static void test_buckets(void)
{
    int64_t prev_hi = -1;
    for (int key = 0; key < CM_SKETCH_KEYS_PER_SIGN; key++) {
        int64_t lo, hi, rep;
        cm_sketch_key_range(key, &lo, &hi, &rep);
        CHECK(lo <= rep && rep <= hi);
        if (key > 0)
            CHECK_EQ_I64(lo, prev_hi + 1); /* buckets tile 0 .. INT64_MAX */
        prev_hi = hi;
        CHECK_EQ_I64(cm_sketch_key(lo), key);
        CHECK_EQ_I64(cm_sketch_key(hi), key);
        CHECK(within_tolerance(rep, lo));
        CHECK(within_tolerance(rep, hi));
        /* shown in whole microseconds (the stats tree), still within */
        int64_t rep_us = (rep / 1000 + (rep % 1000 >= 500)) * 1000;
        CHECK(within_tolerance(rep_us, lo));
        CHECK(within_tolerance(rep_us, hi));
        int nk = -1 - key;
        int64_t nlo, nhi, nrep;
        cm_sketch_key_range(nk, &nlo, &nhi, &nrep);
        CHECK(nlo <= nrep && nrep <= nhi);
        CHECK_EQ_I64(cm_sketch_key(nhi), key == 0 ? 0 : nk); /* -0 is 0 */
        CHECK_EQ_I64(cm_sketch_key(nlo), nk);
        CHECK(within_tolerance(nrep, nlo));
        CHECK(within_tolerance(nrep, nhi));
    }
    CHECK_EQ_I64(prev_hi, INT64_MAX);
    CHECK_EQ_I64(cm_sketch_key(INT64_MAX), CM_SKETCH_KEYS_PER_SIGN - 1);
    CHECK_EQ_I64(cm_sketch_key(INT64_MIN), -CM_SKETCH_KEYS_PER_SIGN);
    CHECK_EQ_I64(cm_sketch_key(0), 0);
    CHECK_EQ_I64(cm_sketch_key(999), 0);
    CHECK_EQ_I64(cm_sketch_key(1000), 1);
    CHECK_EQ_I64(cm_sketch_key(-1), -1);
    CHECK_EQ_I64(cm_sketch_key(255999), 255);
    CHECK_EQ_I64(cm_sketch_key(256000), 256);
    CHECK_EQ_I64(cm_sketch_key(259999), 256); /* 4 us wide from 256 us */
    CHECK_EQ_I64(cm_sketch_key(260000), 257);
    /* random values, keys monotonic */
    for (int i = 0; i < 100000; i++) {
        int64_t a = (int64_t)rnd(), b = (int64_t)rnd() >> rnd_below(63);
        if (a > b) {
            int64_t t = a;
            a = b;
            b = t;
        }
        CHECK(cm_sketch_key(a) <= cm_sketch_key(b));
    }
}

#define N_MAX 100000
static int64_t data[N_MAX];

static void test_random_shapes(void)
{
    static const size_t sizes[] = {1, 2, 3, 7, 10, 99, 100, 101, 1000, 12345, N_MAX};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        /* uniform 0 .. 200 ms */
        for (size_t i = 0; i < n; i++)
            data[i] = (int64_t)rnd_below(200000000);
        compare("uniform", data, n);
        /* uniform below 300 us: the 1 us buckets and the first octaves */
        for (size_t i = 0; i < n; i++)
            data[i] = (int64_t)rnd_below(300000);
        compare("small", data, n);
        /* log-normal-ish: exponent a sum of four uniforms, 2^10 .. 2^40 ns */
        for (size_t i = 0; i < n; i++) {
            unsigned e = 10 + (unsigned)(rnd_below(8) + rnd_below(8) + rnd_below(8) + rnd_below(8));
            data[i] = (int64_t)(((uint64_t)1 << e) + rnd_below((uint64_t)1 << e));
        }
        compare("lognormal", data, n);
        /* ties: a handful of distinct values */
        for (size_t i = 0; i < n; i++)
            data[i] = 20000000 + 1234567 * (int64_t)rnd_below(4);
        compare("ties", data, n);
        /* huge values, all over int64 */
        for (size_t i = 0; i < n; i++)
            data[i] = (int64_t)(rnd() >> 1) >> rnd_below(63);
        compare("huge", data, n);
        /* negative and positive (a duplicate-ACK age when time ran backwards) */
        for (size_t i = 0; i < n; i++)
            data[i] = (int64_t)rnd_below(2000000000) - 1000000000;
        compare("signed", data, n);
        /* the extremes */
        for (size_t i = 0; i < n; i++)
            data[i] = rnd() & 1 ? INT64_MAX - (int64_t)rnd_below(3) : INT64_MIN + (int64_t)rnd_below(3);
        compare("extremes", data, n);
    }
}

/* A steady delay costs little; memory grows with the spread, not with n. */
static void test_memory(void)
{
    cm_sketch s;
    cm_sketch_init(&s);
    for (int i = 0; i < 100000; i++)
        cm_sketch_add(&s, 20000000 + (int64_t)rnd_below(1000000)); /* 20-21 ms */
    size_t steady = cm_sketch_bytes(&s);
    CHECK(steady <= 56 + 16 * 6 + 64); /* 8 buckets of 128 us */
    cm_sketch_free(&s);
    for (int i = 0; i < 100000; i++)
        cm_sketch_add(&s, 10000000 + (int64_t)rnd_below(30000000)); /* 10-40 ms */
    CHECK(s.len <= 130);
    CHECK(cm_sketch_bytes(&s) <= 56 + 200 * 6);
    cm_sketch_free(&s);
    for (int i = 0; i < 200000; i++)
        cm_sketch_add(&s, (int64_t)(rnd() >> 1) >> rnd_below(63));
    CHECK(s.len <= 2 * CM_SKETCH_KEYS_PER_SIGN); /* bounded whatever comes */
    cm_sketch_free(&s);
    printf("     steady 20-21 ms: %zu bytes\n", steady);
}

static void test_merge(void)
{
    cm_sketch a, b, all;
    cm_sketch_init(&a);
    cm_sketch_init(&b);
    cm_sketch_init(&all);
    size_t n = 0;
    for (int i = 0; i < 5000; i++) {
        int64_t v = (int64_t)rnd_below(50000000) + (i % 2 ? 30000000 : 0);
        cm_sketch_add(i % 3 ? &a : &b, v);
        cm_sketch_add(&all, v);
        data[n++] = v;
    }
    CHECK(cm_sketch_merge(&a, &b));
    CHECK_EQ_I64(a.n, all.n);
    CHECK_EQ_I64(a.min, all.min);
    CHECK_EQ_I64(a.max, all.max);
    CHECK_EQ_I64(cm_sketch_mean(&a), cm_sketch_mean(&all));
    CHECK_EQ_I64(a.len, all.len);
    CHECK(memcmp(a.counts, all.counts, a.len * sizeof(uint32_t)) == 0);
    for (unsigned p = 0; p <= 100; p++)
        CHECK_EQ_I64(cm_sketch_percentile(&a, p), cm_sketch_percentile(&all, p));
    cm_sketch empty;
    cm_sketch_init(&empty);
    CHECK(cm_sketch_merge(&a, &empty));
    CHECK_EQ_I64(a.n, all.n);
    CHECK(cm_sketch_merge(&empty, &a));
    CHECK_EQ_I64(empty.n, a.n);
    CHECK_EQ_I64(empty.min, a.min);
    cm_sketch_free(&a);
    cm_sketch_free(&b);
    cm_sketch_free(&all);
    cm_sketch_free(&empty);
}

/* Counts past 2^32 in one bucket: doubling by merges (one value, 2^34
 * times). */
static void test_saturation(void)
{
    cm_sketch x, y;
    cm_sketch_init(&x);
    cm_sketch_add(&x, 5000);     /* bucket 5 */
    for (int i = 0; i < 34; i++) {
        cm_sketch_init(&y);
        CHECK(cm_sketch_merge(&y, &x));
        CHECK(cm_sketch_merge(&y, &x));
        cm_sketch_free(&x);
        x = y;
    }
    CHECK(x.n == (uint64_t)1 << 34);
    CHECK_EQ_I64(x.len, 5); /* 2^34 / (2^32 - 1), rounded up */
    uint64_t total = 0;
    for (uint32_t i = 0; i < x.len; i++)
        total += x.counts[i];
    CHECK(total == x.n);
    CHECK_EQ_I64(cm_sketch_mean(&x), 5000);
    CHECK_EQ_I64(cm_sketch_percentile(&x, 50), 5000);
    /* a smaller and a larger value around it keep their ranks */
    CHECK(cm_sketch_add(&x, 1000));
    CHECK(cm_sketch_add(&x, 9000000));
    CHECK_EQ_I64(cm_sketch_percentile(&x, 0), 1000);
    CHECK_EQ_I64(cm_sketch_percentile(&x, 100), 9000000);
    CHECK_EQ_I64(cm_sketch_percentile(&x, 99), 5500); /* the bucket's midpoint */
    CHECK(cm_sketch_add(&x, 5100)); /* into the saturated key */
    CHECK_EQ_I64(x.len, 7);
    cm_sketch_free(&x);
}

static void test_histogram(void)
{
    CHECK_EQ_I64(cm_hist_bucket(-5), 0);
    CHECK_EQ_I64(cm_hist_bucket(0), 0);
    CHECK_EQ_I64(cm_hist_bucket(99999), 0);
    CHECK_EQ_I64(cm_hist_bucket(100000), 1);
    CHECK_EQ_I64(cm_hist_bucket(199999), 1);
    CHECK_EQ_I64(cm_hist_bucket(200000), 2);
    CHECK_EQ_I64(cm_hist_bucket(20000000), 8);
    CHECK_EQ_I64(cm_hist_bucket(9999999999), 15);
    CHECK_EQ_I64(cm_hist_bucket(10000000000), 16);
    CHECK_EQ_I64(cm_hist_bucket(INT64_MAX), 16);
    CHECK(strcmp(cm_hist_label(0), "< 100 us") == 0);
    CHECK(strcmp(cm_hist_label(8), "20-50 ms") == 0);
    CHECK(strcmp(cm_hist_label(16), ">= 10 s") == 0);
    for (unsigned i = 1; i < CM_HIST_BUCKETS; i++) {
        CHECK(cm_hist_lower(i) > cm_hist_lower(i - 1));
        CHECK_EQ_I64(cm_hist_bucket(cm_hist_lower(i)), i);
        CHECK_EQ_I64(cm_hist_bucket(cm_hist_lower(i) - 1), i - 1);
    }
}

int main(void)
{
    RUN(test_rank);
    RUN(test_empty_and_one);
    RUN(test_mean_rounding);
    RUN(test_buckets);
    RUN(test_random_shapes);
    RUN(test_memory);
    RUN(test_merge);
    RUN(test_saturation);
    RUN(test_histogram);
    return check_summary("test_sketch");
}
