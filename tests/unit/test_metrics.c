/* Prometheus metrics: bucket bounds (le is inclusive), counters, the
 * "other" series, exact exposition lines, snprintf-like sizing, and random
 * values against a reference count per bucket.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "metrics.h"

#define US(x) ((int64_t)(x) * 1000)
#define MS(x) ((int64_t)(x) * 1000000)
#define SEC(x) ((int64_t)(x) * 1000000000)

static void add(cm_metrics *m, const char *src, uint32_t payload, int64_t half, uint32_t expert)
{
    cm_packet p;
    cm_result r;
    memset(&p, 0, sizeof p);
    memset(&r, 0, sizeof r);
    if (strchr(src, ':')) {
        p.src.family = 6;
        CHECK(inet_pton(AF_INET6, src, p.src.bytes) == 1);
    } else {
        p.src.family = 4;
        CHECK(inet_pton(AF_INET, src, p.src.bytes) == 1);
    }
    p.payload = r.payload = payload;
    if (half >= 0) {
        r.present = CM_HAS_SEQRTD;
        r.seqrtd_ns = half;
    }
    r.expert = expert;
    cm_metrics_add(m, &p, &r);
}

static char *format(const cm_metrics *m)
{
    size_t n = cm_metrics_format(m, NULL, 0);
    char *buf = malloc(n + 1);
    CHECK(buf != NULL);
    CHECK_EQ_I64(cm_metrics_format(m, buf, n + 1), n);
    CHECK_EQ_I64(strlen(buf), n);
    return buf;
}

static void check_has(const char *text, const char *line)
{
    const char *p = strstr(text, line);
    /* a whole line */
    bool ok = p && (p == text || p[-1] == '\n') && p[strlen(line)] == '\n';
    CHECK(ok);
    if (!ok)
        fprintf(stderr, "  no line \"%s\"\n", line);
}

static void test_slots(void)
{
    CHECK_EQ_I64(CM_METRICS_FINITE_BUCKETS, 16);
    CHECK_EQ_I64(cm_metrics_bound(0), US(100));
    CHECK_EQ_I64(cm_metrics_bound(1), US(200));
    CHECK_EQ_I64(cm_metrics_bound(2), US(500));
    CHECK_EQ_I64(cm_metrics_bound(15), SEC(10));
    CHECK_EQ_I64(cm_metrics_slot(0), 0);
    CHECK_EQ_I64(cm_metrics_slot(-5), 0);
    CHECK_EQ_I64(cm_metrics_slot(US(100)), 0);   /* le is inclusive */
    CHECK_EQ_I64(cm_metrics_slot(US(100) + 1), 1);
    CHECK_EQ_I64(cm_metrics_slot(US(200)), 1);
    CHECK_EQ_I64(cm_metrics_slot(MS(20)), 7);    /* le = 0.02 */
    CHECK_EQ_I64(cm_metrics_slot(MS(20) + 1), 8); /* le = 0.05 */
    CHECK_EQ_I64(cm_metrics_slot(SEC(10)), 15);
    CHECK_EQ_I64(cm_metrics_slot(SEC(10) + 1), 16); /* +Inf */
    CHECK_EQ_I64(cm_metrics_slot(INT64_MAX), 16);
    for (unsigned i = 1; i < CM_METRICS_FINITE_BUCKETS; i++)
        CHECK(cm_metrics_bound(i) > cm_metrics_bound(i - 1));
}

static void test_exposition(void)
{
    cm_metrics_config cfg = {24, 48, 2};
    cm_metrics *m = cm_metrics_new(&cfg);
    CHECK(m != NULL);
    add(m, "10.0.2.9", 1448, US(100), CM_EXPERT_HOLE);
    add(m, "10.0.2.7", 0, MS(20) + 1, CM_EXPERT_DUPACK);
    add(m, "10.0.1.1", 100, SEC(11), CM_EXPERT_BEHIND);
    add(m, "10.0.1.2", 0, -1, 0);                      /* no half */
    add(m, "2001:db8::1", 0, MS(3), 0);                /* third prefix: other */
    add(m, "10.0.3.1", 0, MS(1), CM_EXPERT_BEHIND);    /* other */
    cm_metrics_set_connections(m, 3, 12);
    CHECK_EQ_I64(cm_metrics_prefix_count(m), 2);
    char *t = format(m);
    const char *head =
        "# HELP connmon_packets_total TCP packets analysed.\n"
        "# TYPE connmon_packets_total counter\n"
        "connmon_packets_total 6\n";
    CHECK(strncmp(t, head, strlen(head)) == 0);
    check_has(t, "connmon_payload_bytes_total 1548");
    check_has(t, "connmon_holes_total 1");
    check_has(t, "connmon_behind_total 2");
    check_has(t, "connmon_dupacks_total 1");
    check_has(t, "connmon_connections_evicted_total 12");
    check_has(t, "# TYPE connmon_connections gauge");
    check_has(t, "connmon_connections 3");
    check_has(t, "# TYPE connmon_rtd_seconds histogram");
    /* 10.0.2.0/24: 100 us (le 0.0001) and 20 ms + 1 ns (le 0.05) */
    check_has(t, "connmon_rtd_seconds_bucket{prefix=\"10.0.2.0/24\",le=\"0.0001\"} 1");
    check_has(t, "connmon_rtd_seconds_bucket{prefix=\"10.0.2.0/24\",le=\"0.0002\"} 1");
    check_has(t, "connmon_rtd_seconds_bucket{prefix=\"10.0.2.0/24\",le=\"0.02\"} 1");
    check_has(t, "connmon_rtd_seconds_bucket{prefix=\"10.0.2.0/24\",le=\"0.05\"} 2");
    check_has(t, "connmon_rtd_seconds_bucket{prefix=\"10.0.2.0/24\",le=\"10\"} 2");
    check_has(t, "connmon_rtd_seconds_bucket{prefix=\"10.0.2.0/24\",le=\"+Inf\"} 2");
    check_has(t, "connmon_rtd_seconds_sum{prefix=\"10.0.2.0/24\"} 0.020100001");
    check_has(t, "connmon_rtd_seconds_count{prefix=\"10.0.2.0/24\"} 2");
    /* 10.0.1.0/24: 11 s, only in +Inf */
    check_has(t, "connmon_rtd_seconds_bucket{prefix=\"10.0.1.0/24\",le=\"10\"} 0");
    check_has(t, "connmon_rtd_seconds_bucket{prefix=\"10.0.1.0/24\",le=\"+Inf\"} 1");
    check_has(t, "connmon_rtd_seconds_sum{prefix=\"10.0.1.0/24\"} 11.000000000");
    /* other: 3 ms and 1 ms */
    check_has(t, "connmon_rtd_seconds_bucket{prefix=\"other\",le=\"0.001\"} 1");
    check_has(t, "connmon_rtd_seconds_bucket{prefix=\"other\",le=\"0.002\"} 1");
    check_has(t, "connmon_rtd_seconds_bucket{prefix=\"other\",le=\"0.005\"} 2");
    check_has(t, "connmon_rtd_seconds_sum{prefix=\"other\"} 0.004000000");
    check_has(t, "connmon_rtd_seconds_count{prefix=\"other\"} 2");
    /* series in prefix order, other last; every bound in order */
    const char *p1 = strstr(t, "prefix=\"10.0.1.0/24\"");
    const char *p2 = strstr(t, "prefix=\"10.0.2.0/24\"");
    const char *po = strstr(t, "prefix=\"other\"");
    CHECK(p1 && p2 && po && p1 < p2 && p2 < po);
    static const char *const les[] = {"0.0001", "0.0002", "0.0005", "0.001", "0.002", "0.005",
                                      "0.01",   "0.02",   "0.05",   "0.1",   "0.2",   "0.5",
                                      "1",      "2",      "5",      "10",    "+Inf"};
    const char *at = p1;
    for (size_t i = 0; i < sizeof les / sizeof les[0]; i++) {
        char want[64];
        snprintf(want, sizeof want, "le=\"%s\"}", les[i]);
        const char *q = strstr(at, want);
        CHECK(q != NULL);
        if (q)
            at = q;
    }
    /* the text ends with a newline; each line is a comment or "name value" */
    size_t n = strlen(t);
    CHECK(n > 0 && t[n - 1] == '\n');
    /* a short buffer gets a cut, terminated text and the full length */
    char small[32];
    CHECK_EQ_I64(cm_metrics_format(m, small, sizeof small), n);
    CHECK_EQ_I64(strlen(small), sizeof small - 1);
    free(t);
    cm_metrics_free(m);
}

static void test_nothing_yet_and_zero_prefixes(void)
{
    cm_metrics_config cfg = {24, 48, 0};
    cm_metrics *m = cm_metrics_new(&cfg);
    char *t = format(m);
    check_has(t, "connmon_packets_total 0");
    check_has(t, "connmon_rtd_seconds_count{prefix=\"other\"} 0");
    check_has(t, "connmon_rtd_seconds_sum{prefix=\"other\"} 0.000000000");
    free(t);
    add(m, "10.9.9.9", 0, MS(7), 0); /* max_prefixes 0: all in other */
    CHECK_EQ_I64(cm_metrics_prefix_count(m), 0);
    t = format(m);
    check_has(t, "connmon_rtd_seconds_bucket{prefix=\"other\",le=\"0.01\"} 1");
    CHECK(strstr(t, "10.9.9.0") == NULL);
    free(t);
    cm_metrics_free(m);
}

/* ---- random values against a reference ---------------------------------------------- */

static uint64_t rng_state = UINT64_C(0x0123456789ABCDEF);
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static void test_random(void)
{
    cm_metrics_config cfg = {16, 32, 1000};
    cm_metrics *m = cm_metrics_new(&cfg);
    enum { NP = 40 };
    uint64_t cum[NP][CM_METRICS_FINITE_BUCKETS + 1];
    int64_t sum[NP];
    memset(cum, 0, sizeof cum);
    memset(sum, 0, sizeof sum);
    for (int k = 0; k < 50000; k++) {
        int w = (int)(rnd() % NP);
        char src[32];
        snprintf(src, sizeof src, "10.%d.%u.%u", w, rnd() % 256, rnd() % 256);
        int64_t v = (int64_t)(rnd() % 100000) << (rnd() % 20);
        if (rnd() % 50 == 0) /* exactly on a bound */
            v = cm_metrics_bound(rnd() % CM_METRICS_FINITE_BUCKETS);
        for (unsigned i = 0; i < CM_METRICS_FINITE_BUCKETS; i++)
            cum[w][i] += v <= cm_metrics_bound(i);
        cum[w][CM_METRICS_FINITE_BUCKETS]++;
        sum[w] += v;
        add(m, src, 0, v, 0);
    }
    CHECK_EQ_I64(cm_metrics_prefix_count(m), NP);
    char *t = format(m);
    static const char *const les[] = {"0.0001", "0.0002", "0.0005", "0.001", "0.002", "0.005",
                                      "0.01",   "0.02",   "0.05",   "0.1",   "0.2",   "0.5",
                                      "1",      "2",      "5",      "10",    "+Inf"};
    for (int w = 0; w < NP; w++) {
        for (unsigned i = 0; i <= CM_METRICS_FINITE_BUCKETS; i++) {
            char line[128];
            snprintf(line, sizeof line,
                     "connmon_rtd_seconds_bucket{prefix=\"10.%d.0.0/16\",le=\"%s\"} %" PRIu64, w,
                     les[i], cum[w][i]);
            check_has(t, line);
        }
        char line[128];
        snprintf(line, sizeof line, "connmon_rtd_seconds_sum{prefix=\"10.%d.0.0/16\"} %" PRId64
                 ".%09" PRId64, w, sum[w] / SEC(1), sum[w] % SEC(1));
        check_has(t, line);
    }
    free(t);
    cm_metrics_free(m);
}

int main(void)
{
    RUN(test_slots);
    RUN(test_exposition);
    RUN(test_nothing_yet_and_zero_prefixes);
    RUN(test_random);
    return check_summary("test_metrics");
}
