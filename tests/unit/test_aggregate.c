/* Aggregates per interval and source prefix: interval alignment and
 * closing (later packet, clock, end of input), time running backwards,
 * prefix order and "other", exact JSON, and random traffic against an
 * exact reference (counts exact, percentiles within the SPEC's tolerance
 * of nearest rank).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "check.h"

#define MS(x) ((int64_t)(x) * 1000000)
#define SEC(x) ((int64_t)(x) * 1000000000)
#define T0 SEC(1795697390) /* a multiple of 10 s */

/* ---- what the callback saw -------------------------------------------------------- */

#define MAX_SEEN 4096
typedef struct seen_rec {
    int64_t start_ns;
    char prefix[CM_PREFIX_TEXT_MAX];
    uint64_t packets, payload_bytes, hole, behind, dupack;
    cm_delay_summary d;
    char json[CM_AGG_JSON_MAX];
} seen_rec;

static seen_rec seen[MAX_SEEN];
static size_t nseen;

static void on_record(const cm_agg_record *r, void *arg)
{
    (void)arg;
    if (nseen == MAX_SEEN)
        return;
    seen_rec *s = &seen[nseen++];
    s->start_ns = r->start_ns;
    if (r->other)
        strcpy(s->prefix, "other");
    else
        cm_prefix_format(&r->prefix, s->prefix, sizeof s->prefix);
    s->packets = r->packets;
    s->payload_bytes = r->payload_bytes;
    s->hole = r->hole;
    s->behind = r->behind;
    s->dupack = r->dupack;
    cm_sketch_summarise(&r->halves, &s->d);
    size_t n = cm_agg_record_json(r, s->json, sizeof s->json);
    CHECK(n < sizeof s->json);
}

static cm_agg *new_agg(int64_t interval, size_t max_prefixes)
{
    cm_agg_config cfg = {interval, CM_AGG_DEFAULT_LEN4, CM_AGG_DEFAULT_LEN6, max_prefixes};
    nseen = 0;
    cm_agg *a = cm_agg_new(&cfg, on_record, NULL);
    CHECK(a != NULL);
    return a;
}

/* A packet from src (IPv4 or IPv6 text) at t; half < 0: none; tsrtd when
 * ts, else seqrtd. */
static void add(cm_agg *a, int64_t t, const char *src, uint32_t payload, int64_t half, bool ts,
                uint32_t expert)
{
    cm_packet p;
    cm_result r;
    memset(&p, 0, sizeof p);
    memset(&r, 0, sizeof r);
    p.t_ns = t;
    if (strchr(src, ':')) {
        p.src.family = p.dst.family = 6;
        CHECK(inet_pton(AF_INET6, src, p.src.bytes) == 1);
    } else {
        p.src.family = p.dst.family = 4;
        CHECK(inet_pton(AF_INET, src, p.src.bytes) == 1);
    }
    p.payload = r.payload = payload;
    if (half >= 0) {
        r.present |= ts ? CM_HAS_TSRTD : CM_HAS_SEQRTD;
        if (ts)
            r.tsrtd_ns = half;
        else
            r.seqrtd_ns = half;
    }
    r.expert = expert;
    CHECK(cm_agg_add(a, &p, &r));
}

static void check_json(size_t i, const char *want)
{
    CHECK(i < nseen);
    if (i >= nseen)
        return;
    CHECK(strcmp(seen[i].json, want) == 0);
    if (strcmp(seen[i].json, want) != 0)
        fprintf(stderr, "  got  %s\n  want %s\n", seen[i].json, want);
}

/* ---- hand-made cases ---------------------------------------------------------------- */

static void test_one_interval_exact_json(void)
{
    cm_agg *a = new_agg(SEC(10), 0);
    add(a, T0 + MS(1500), "10.0.1.5", 100, MS(20), true, 0);
    add(a, T0 + MS(1600), "10.0.1.77", 0, MS(10), false, CM_EXPERT_DUPACK);
    add(a, T0 + MS(1700), "10.0.1.5", 1448, -1, false, CM_EXPERT_HOLE | CM_EXPERT_BEHIND);
    add(a, T0 + MS(9999), "10.0.2.1", 0, -1, false, 0);
    add(a, T0 + MS(9999), "2001:db8:1:2::5", 500, 1234567, true, CM_EXPERT_BEHIND);
    CHECK_EQ_I64(nseen, 0); /* nothing closed yet */
    cm_agg_flush(a);
    CHECK_EQ_I64(nseen, 3);
    check_json(0, "{\"start\":1795697390.000000000,\"prefix\":\"10.0.1.0/24\",\"packets\":3,"
                  "\"payload_bytes\":1548,\"count\":2,\"min\":0.010000000,\"mean\":0.015000000,"
                  "\"p50\":0.010000000,\"p90\":0.020000000,\"p99\":0.020000000,"
                  "\"max\":0.020000000,\"hole\":1,\"behind\":1,\"dupack\":1}");
    check_json(1, "{\"start\":1795697390.000000000,\"prefix\":\"10.0.2.0/24\",\"packets\":1,"
                  "\"payload_bytes\":0,\"count\":0,\"hole\":0,\"behind\":0,\"dupack\":0}");
    check_json(2, "{\"start\":1795697390.000000000,\"prefix\":\"2001:db8:1::/48\",\"packets\":1,"
                  "\"payload_bytes\":500,\"count\":1,\"min\":0.001234567,\"mean\":0.001234567,"
                  "\"p50\":0.001234567,\"p90\":0.001234567,\"p99\":0.001234567,"
                  "\"max\":0.001234567,\"hole\":0,\"behind\":1,\"dupack\":0}");
    cm_agg_flush(a); /* nothing open: nothing more */
    CHECK_EQ_I64(nseen, 3);
    cm_agg_counters c;
    cm_agg_get_counters(a, &c);
    CHECK_EQ_I64(c.records_emitted, 3);
    CHECK_EQ_I64(c.packets_lost, 0);
    cm_agg_free(a);
}

static void test_intervals_close_on_later_packet(void)
{
    cm_agg *a = new_agg(SEC(10), 0);
    add(a, T0 + SEC(3), "10.0.0.1", 1, MS(1), true, 0);
    add(a, T0 + SEC(10) - 1, "10.0.0.1", 1, MS(2), true, 0); /* last ns of [T0, T0+10) */
    CHECK_EQ_I64(nseen, 0);
    add(a, T0 + SEC(10), "10.0.0.1", 1, MS(3), true, 0); /* first ns of the next */
    CHECK_EQ_I64(nseen, 1);
    CHECK_EQ_I64(seen[0].start_ns, T0);
    CHECK_EQ_I64(seen[0].packets, 2);
    CHECK_EQ_I64(seen[0].d.max, MS(2));
    /* a jump over empty intervals: the next record starts at its own
     * interval, the empty ones emit nothing */
    add(a, T0 + SEC(47), "10.0.0.1", 1, MS(4), true, 0);
    CHECK_EQ_I64(nseen, 2);
    CHECK_EQ_I64(seen[1].start_ns, T0 + SEC(10));
    CHECK_EQ_I64(seen[1].packets, 1);
    cm_agg_flush(a);
    CHECK_EQ_I64(nseen, 3);
    CHECK_EQ_I64(seen[2].start_ns, T0 + SEC(40));
    CHECK_EQ_I64(seen[2].d.min, MS(4));
    cm_agg_free(a);
}

static void test_time_backwards_and_clock(void)
{
    cm_agg *a = new_agg(SEC(10), 0);
    add(a, T0 + SEC(5), "10.0.0.1", 0, MS(1), true, 0);
    /* time runs backwards into the previous interval: counts in the open one */
    add(a, T0 - SEC(30), "10.0.0.1", 0, MS(2), true, 0);
    CHECK_EQ_I64(nseen, 0);
    /* the clock passes the end: emitted without a packet */
    cm_agg_advance(a, T0 + SEC(9));
    CHECK_EQ_I64(nseen, 0);
    cm_agg_advance(a, T0 + SEC(10));
    CHECK_EQ_I64(nseen, 1);
    CHECK_EQ_I64(seen[0].start_ns, T0);
    CHECK_EQ_I64(seen[0].packets, 2);
    /* a late packet of the closed interval opens the interval of the
     * clock, never [T0, T0+10) again */
    add(a, T0 + SEC(8), "10.0.0.1", 0, MS(3), true, 0);
    cm_agg_advance(a, T0 + SEC(15)); /* clock going back and forth changes nothing */
    cm_agg_advance(a, T0 + SEC(12));
    CHECK_EQ_I64(nseen, 1);
    cm_agg_advance(a, T0 + SEC(20));
    CHECK_EQ_I64(nseen, 2);
    CHECK_EQ_I64(seen[1].start_ns, T0 + SEC(10));
    CHECK_EQ_I64(seen[1].d.min, MS(3));
    cm_agg_flush(a);
    CHECK_EQ_I64(nseen, 2);
    cm_agg_free(a);
}

static void test_alignment(void)
{
    /* intervals are multiples of N since the epoch, also N not dividing a
     * minute, fractional N and times before the epoch */
    cm_agg *a = new_agg(SEC(7), 0);
    add(a, SEC(100), "10.0.0.1", 0, -1, false, 0);
    cm_agg_flush(a);
    CHECK_EQ_I64(seen[0].start_ns, SEC(98));
    cm_agg_free(a);

    a = new_agg(MS(250), 0);
    add(a, T0 + MS(1260), "10.0.0.1", 0, -1, false, 0);
    cm_agg_flush(a);
    CHECK_EQ_I64(seen[0].start_ns, T0 + MS(1250));
    check_json(0, "{\"start\":1795697391.250000000,\"prefix\":\"10.0.0.0/24\",\"packets\":1,"
                  "\"payload_bytes\":0,\"count\":0,\"hole\":0,\"behind\":0,\"dupack\":0}");
    cm_agg_free(a);

    a = new_agg(SEC(10), 0);
    add(a, -1, "10.0.0.1", 0, -1, false, 0);
    cm_agg_flush(a);
    CHECK_EQ_I64(seen[0].start_ns, -SEC(10));
    CHECK(strncmp(seen[0].json, "{\"start\":-10.000000000,", 23) == 0);
    cm_agg_free(a);

    cm_agg_config bad = {0, 24, 48, 0};
    CHECK(cm_agg_new(&bad, on_record, NULL) == NULL);
}

static void test_other(void)
{
    cm_agg *a = new_agg(SEC(60), 2);
    add(a, T0 + SEC(1), "10.0.9.1", 10, MS(9), true, 0);
    add(a, T0 + SEC(2), "10.0.3.1", 10, MS(3), true, 0);
    add(a, T0 + SEC(3), "10.0.1.1", 10, MS(1), true, 0);  /* third prefix: other */
    add(a, T0 + SEC(4), "2001:db8::1", 10, MS(6), true, 0); /* other */
    add(a, T0 + SEC(5), "10.0.9.2", 10, MS(8), true, 0);  /* has a record */
    cm_agg_flush(a);
    CHECK_EQ_I64(nseen, 3);
    CHECK(strcmp(seen[0].prefix, "10.0.3.0/24") == 0);
    CHECK(strcmp(seen[1].prefix, "10.0.9.0/24") == 0);
    CHECK(strcmp(seen[2].prefix, "other") == 0);
    CHECK_EQ_I64(seen[1].packets, 2);
    CHECK_EQ_I64(seen[2].packets, 2);
    CHECK_EQ_I64(seen[2].d.count, 2);
    CHECK_EQ_I64(seen[2].d.min, MS(1));
    CHECK_EQ_I64(seen[2].d.max, MS(6));
    CHECK(strstr(seen[2].json, "\"prefix\":\"other\"") != NULL);
    /* the next interval starts with an empty table and no "other" */
    add(a, T0 + SEC(61), "10.0.1.1", 10, MS(1), true, 0);
    cm_agg_flush(a);
    CHECK_EQ_I64(nseen, 4);
    CHECK(strcmp(seen[3].prefix, "10.0.1.0/24") == 0);
    cm_agg_free(a);
}

/* ---- random traffic against an exact reference -------------------------------------- */

static uint64_t rng_state = UINT64_C(0x243F6A8885A308D3);
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

#define NPREF 6
#define NINT 8
#define PER_CELL 4000
typedef struct ref_cell {
    uint64_t packets, payload, hole;
    int64_t v[PER_CELL];
    size_t n;
} ref_cell;
static ref_cell ref[NINT][NPREF];

static int64_t abs64(int64_t v)
{
    return v < 0 ? -v : v;
}

static void test_random(void)
{
    static const char *const srcs[NPREF] = {"10.1.0.9", "10.2.0.9", "10.3.0.9",
                                            "2001:db8:1::9", "2001:db8:2::9", "192.0.2.1"};
    static const char *const names[NPREF] = {"10.1.0.0/24", "10.2.0.0/24", "10.3.0.0/24",
                                             "2001:db8:1::/48", "2001:db8:2::/48",
                                             "192.0.2.0/24"};
    /* cm_prefix_cmp order of the names: IPv4 ascending, then IPv6 */
    static const int order[NPREF] = {0, 1, 2, 5, 3, 4};
    memset(ref, 0, sizeof ref);
    cm_agg *a = new_agg(SEC(5), 0);
    int64_t t = T0;
    for (int k = 0; k < 30000; k++) {
        t += rnd() % MS(2); /* ~30 s in all: 6 to 7 intervals of 5 s */
        int which = (int)(rnd() % NPREF);
        int cell = (int)((t - T0) / SEC(5));
        ref_cell *rc = &ref[cell][which];
        uint32_t payload = rnd() % 3 ? 0 : 1448;
        int64_t half = -1;
        if (rnd() % 3 == 0) {
            /* 0..~2 s, log-ish spread */
            half = (int64_t)(rnd() % 1000000) << (rnd() % 12);
            if (rc->n < PER_CELL)
                rc->v[rc->n++] = half;
        }
        uint32_t ex = rnd() % 10 == 0 ? CM_EXPERT_HOLE : 0;
        rc->packets++;
        rc->payload += payload;
        rc->hole += ex != 0;
        add(a, t, srcs[which], payload, half, rnd() & 1, ex);
    }
    cm_agg_flush(a);
    size_t i = 0;
    for (int cell = 0; cell < NINT; cell++) {
        for (int o = 0; o < NPREF; o++) {
            int w = order[o];
            ref_cell *rc = &ref[cell][w];
            if (!rc->packets)
                continue;
            CHECK(i < nseen);
            if (i >= nseen)
                return;
            seen_rec *s = &seen[i++];
            CHECK_EQ_I64(s->start_ns, T0 + SEC(5) * cell);
            CHECK(strcmp(s->prefix, names[w]) == 0);
            CHECK_EQ_I64(s->packets, rc->packets);
            CHECK_EQ_I64(s->payload_bytes, rc->payload);
            CHECK_EQ_I64(s->hole, rc->hole);
            CHECK_EQ_I64(s->d.count, rc->n);
            if (!rc->n)
                continue;
            qsort(rc->v, rc->n, sizeof rc->v[0], cmp_i64);
            CHECK_EQ_I64(s->d.min, rc->v[0]);
            CHECK_EQ_I64(s->d.max, rc->v[rc->n - 1]);
            int64_t sum = 0;
            for (size_t j = 0; j < rc->n; j++)
                sum += rc->v[j];
            CHECK(abs64(s->d.mean * (int64_t)rc->n - sum) <= (int64_t)rc->n);
            const unsigned pcts[3] = {50, 90, 99};
            const int64_t got[3] = {s->d.p50, s->d.p90, s->d.p99};
            for (int p = 0; p < 3; p++) {
                int64_t exact = rc->v[cm_rank(rc->n, pcts[p]) - 1];
                int64_t tol = exact / 100 > 1000 ? exact / 100 : 1000;
                CHECK(abs64(got[p] - exact) <= tol);
            }
        }
    }
    CHECK_EQ_I64(i, nseen);
    cm_agg_free(a);
}

int main(void)
{
    RUN(test_one_interval_exact_json);
    RUN(test_intervals_close_on_later_packet);
    RUN(test_time_backwards_and_clock);
    RUN(test_alignment);
    RUN(test_other);
    RUN(test_random);
    return check_summary("test_aggregate");
}
