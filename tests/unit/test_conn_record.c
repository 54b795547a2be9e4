/* Per-connection records: counts and distributions from the engine's
 * results, exact JSON for a hand-derived connection, and random traffic
 * against an exact reference (count, min, max, mean exact; percentiles
 * within the SPEC's tolerance of nearest rank).
 */
#include <string.h>

#include "check.h"
#include "conn_record.h"
#include "connmon.h"

#define MS(x) ((int64_t)(x) * 1000000)

enum { S = CM_TH_SYN, A = CM_TH_ACK, P = CM_TH_PSH };

static cm_packet packet(int side, int64_t t, uint32_t frame, uint32_t seq, uint32_t ack,
                        uint16_t flags, uint32_t len, uint32_t tsval, uint32_t tsecr)
{
    cm_packet p;
    memset(&p, 0, sizeof p);
    p.t_ns = t;
    p.frame = frame;
    p.stream = 7;
    p.src.family = p.dst.family = 4;
    uint8_t c[4] = {10, 0, 0, 1}, s[4] = {10, 0, 0, 2};
    memcpy(p.src.bytes, side ? s : c, 4);
    memcpy(p.dst.bytes, side ? c : s, 4);
    p.sport = side ? 80 : 40000;
    p.dport = side ? 40000 : 80;
    p.seq = seq;
    p.ack = ack;
    p.flags = flags;
    p.window = 1000;
    p.payload = len;
    p.has_ts = true;
    p.tsval = tsval;
    p.tsecr = tsecr;
    return p;
}

/* Handshake, one request, one response, their ACKs: every value derived by
 * hand from the SPEC. */
static void test_hand_connection(void)
{
    cm_config cfg;
    cm_config_default(&cfg);
    cm_engine *eng = cm_engine_new(&cfg);
    cm_conn_record rec;
    cm_conn_record_init(&rec);
    const int64_t T0 = INT64_C(1700000000) * 1000000000 + 123456789;
    struct { int side; int64_t t; uint32_t seq, ack; uint16_t fl; uint32_t len, tsv, tse; } k[] = {
        {0, T0 + MS(0), 1000, 0, S, 0, 100, 0},               /* 1 SYN */
        {1, T0 + MS(10), 5000, 1001, S | A, 0, 500, 100},     /* 2 SYN/ACK: b half 10 */
        {0, T0 + MS(30), 1001, 5001, A, 0, 101, 500},         /* 3 ACK: a half 20, path 30 */
        {0, T0 + MS(31), 1001, 5001, P | A, 100, 102, 500},   /* 4 request */
        {1, T0 + MS(42), 5001, 1101, A, 0, 501, 102},         /* 5 ACK: b half 11, path 31 */
        {1, T0 + MS(43), 5001, 1101, P | A, 1000, 502, 102},  /* 6 response */
        {0, T0 + MS(66), 1101, 6001, A, 0, 103, 502},         /* 7 ACK: a half 23, path 34 */
    };
    cm_result res[8];
    for (uint32_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        cm_packet p = packet(k[i].side, k[i].t, i + 1, k[i].seq, k[i].ack, k[i].fl, k[i].len,
                             k[i].tsv, k[i].tse);
        CHECK(cm_engine_analyse(eng, &p, &res[i + 1]));
        CHECK(cm_conn_record_add(&rec, &p, &res[i + 1]));
    }
    /* the engine gives what the comments say */
    CHECK_EQ_I64(res[2].tsrtd_ns, MS(10));
    CHECK(!(res[2].present & CM_HAS_PATHRTD));
    CHECK_EQ_I64(res[3].tsrtd_ns, MS(20));
    CHECK_EQ_I64(res[3].pathrtd_ns, MS(30));
    CHECK(!(res[4].present & (CM_HAS_TSRTD | CM_HAS_SEQRTD)));
    CHECK_EQ_I64(res[5].tsrtd_ns, MS(11));
    CHECK_EQ_I64(res[5].pathrtd_ns, MS(31));
    CHECK(!(res[6].present & (CM_HAS_TSRTD | CM_HAS_SEQRTD)));
    CHECK_EQ_I64(res[7].tsrtd_ns, MS(23));
    CHECK_EQ_I64(res[7].pathrtd_ns, MS(34));

    CHECK_EQ_I64(rec.first_frame, 1);
    CHECK_EQ_I64(rec.last_frame, 7);
    CHECK_EQ_I64(rec.dir[0].packets, 4);
    CHECK_EQ_I64(rec.dir[1].packets, 3);
    CHECK_EQ_I64(rec.dir[0].payload_bytes, 100);
    CHECK_EQ_I64(rec.dir[1].payload_bytes, 1000);

    char buf[CM_CONN_RECORD_JSON_MAX];
    size_t n = cm_conn_record_json(&rec, buf, sizeof buf);
    const char *want =
        "{\"first_frame\":1,\"last_frame\":7,"
        "\"first_time\":1700000000.123456789,\"last_time\":1700000000.189456789,"
        "\"a\":{\"flow\":\"10.0.0.1:40000+10.0.0.2:80\",\"packets\":4,\"payload_bytes\":100,"
        "\"tsrtd_count\":2,\"seqrtd_count\":2,\"pathrtd_count\":2,"
        "\"half\":{\"count\":2,\"min\":0.020000000,\"mean\":0.021500000,\"p50\":0.020000000,"
        "\"p90\":0.023000000,\"p99\":0.023000000,\"max\":0.023000000},"
        "\"path\":{\"count\":2,\"min\":0.030000000,\"mean\":0.032000000,\"p50\":0.030000000,"
        "\"p90\":0.034000000,\"p99\":0.034000000,\"max\":0.034000000},"
        "\"hole\":0,\"behind\":0,\"dupack\":0},"
        "\"b\":{\"flow\":\"10.0.0.2:80+10.0.0.1:40000\",\"packets\":3,\"payload_bytes\":1000,"
        "\"tsrtd_count\":2,\"seqrtd_count\":2,\"pathrtd_count\":1,"
        "\"half\":{\"count\":2,\"min\":0.010000000,\"mean\":0.010500000,\"p50\":0.010000000,"
        "\"p90\":0.011000000,\"p99\":0.011000000,\"max\":0.011000000},"
        "\"path\":{\"count\":1,\"min\":0.031000000,\"mean\":0.031000000,\"p50\":0.031000000,"
        "\"p90\":0.031000000,\"p99\":0.031000000,\"max\":0.031000000},"
        "\"hole\":0,\"behind\":0,\"dupack\":0}}";
    CHECK(strcmp(buf, want) == 0);
    CHECK_EQ_I64(n, strlen(want));
    if (strcmp(buf, want) != 0)
        fprintf(stderr, "got  %s\nwant %s\n", buf, want);

    /* a short buffer: truncated, NUL-terminated, full length returned */
    char small[40];
    CHECK_EQ_I64(cm_conn_record_json(&rec, small, sizeof small), strlen(want));
    CHECK(strlen(small) == sizeof small - 1 && strncmp(small, want, sizeof small - 1) == 0);
    CHECK_EQ_I64(cm_conn_record_json(&rec, NULL, 0), strlen(want));

    CHECK(cm_conn_record_bytes(&rec) > sizeof rec);
    cm_conn_record_free(&rec);
    CHECK_EQ_I64(rec.seen, 0);
    CHECK_EQ_I64(cm_conn_record_bytes(&rec), sizeof rec);
    cm_engine_free(eng);
}

/* A stream of which only one side was seen has no "b"; IPv6 labels are in
 * brackets; a direction without samples reports only count 0. */
static void test_one_directional_ipv6(void)
{
    cm_config cfg;
    cm_config_default(&cfg);
    cm_engine *eng = cm_engine_new(&cfg);
    cm_conn_record rec;
    cm_conn_record_init(&rec);
    for (uint32_t i = 0; i < 3; i++) {
        cm_packet p = packet(1, MS(5) * i - MS(1), 10 + i, 5000 + 100 * i, 1, A, 100, 7, 0);
        p.src.family = p.dst.family = 6;
        memset(p.src.bytes, 0, 16);
        memset(p.dst.bytes, 0, 16);
        p.src.bytes[0] = 0x20, p.src.bytes[1] = 0x01, p.src.bytes[2] = 0x0d, p.src.bytes[3] = 0xb8;
        memcpy(p.dst.bytes, p.src.bytes, 4);
        p.src.bytes[15] = 1;
        p.dst.bytes[15] = 2;
        if (i == 2)
            p.seq += 50; /* a hole */
        cm_result r;
        CHECK(cm_engine_analyse(eng, &p, &r));
        CHECK_EQ_I64(r.direction, 0);
        CHECK(cm_conn_record_add(&rec, &p, &r));
    }
    char buf[CM_CONN_RECORD_JSON_MAX];
    cm_conn_record_json(&rec, buf, sizeof buf);
    const char *want =
        "{\"first_frame\":10,\"last_frame\":12,\"first_time\":-0.001000000,"
        "\"last_time\":0.009000000,"
        "\"a\":{\"flow\":\"[2001:db8::1]:80+[2001:db8::2]:40000\",\"packets\":3,"
        "\"payload_bytes\":300,\"tsrtd_count\":0,\"seqrtd_count\":0,\"pathrtd_count\":0,"
        "\"half\":{\"count\":0},\"path\":{\"count\":0},\"hole\":1,\"behind\":0,\"dupack\":0}}";
    CHECK(strcmp(buf, want) == 0);
    if (strcmp(buf, want) != 0)
        fprintf(stderr, "got  %s\nwant %s\n", buf, want);
    cm_conn_record_free(&rec);
    cm_engine_free(eng);
}

/* The longest object fits CM_CONN_RECORD_JSON_MAX: IPv6 labels, every
 * count and time at its widest. */
static void test_json_max(void)
{
    cm_conn_record rec;
    cm_conn_record_init(&rec);
    rec.seen = 3;
    rec.first_frame = rec.last_frame = UINT32_MAX;
    rec.first_t_ns = INT64_MIN;
    rec.last_t_ns = INT64_MIN;
    for (int d = 0; d < 2; d++) {
        cm_dir_record *dr = &rec.dir[d];
        dr->packets = dr->payload_bytes = dr->tsrtd_count = dr->seqrtd_count = UINT64_MAX;
        dr->pathrtd_count = dr->hole = dr->behind = dr->dupack = UINT64_MAX;
        dr->src.family = dr->dst.family = 6;
        memset(dr->src.bytes, 0xff, 16);
        memset(dr->dst.bytes, 0xff, 16);
        dr->sport = dr->dport = 65535;
        cm_sketch_add(&dr->half, INT64_MIN);
        cm_sketch_add(&dr->half, INT64_MIN + 1);
        cm_sketch_add(&dr->path, INT64_MIN);
        cm_sketch_add(&dr->path, INT64_MIN + 3);
    }
    size_t n = cm_conn_record_json(&rec, NULL, 0);
    CHECK(n < CM_CONN_RECORD_JSON_MAX);
    printf("     longest record: %zu bytes\n", n);
    cm_conn_record_free(&rec);
}

/* ---- random traffic against an exact reference -------------------------------- */

static uint64_t rng_state = UINT64_C(0x243F6A8885A308D3);
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

#define CONNS 6
#define MAXV 40000

typedef struct ref_dir {
    uint64_t packets, payload, ts, seq, path, hole, behind, dupack;
    int64_t half[MAXV], pathv[MAXV];
    size_t nhalf, npath;
} ref_dir;

static ref_dir ref[CONNS][2];

static void compare_dist(const cm_sketch *s, int64_t *v, size_t n)
{
    cm_delay_summary d;
    cm_sketch_summarise(s, &d);
    CHECK_EQ_I64(d.count, n);
    if (!n)
        return;
    qsort(v, n, sizeof *v, cmp_i64);
    __int128 sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    int64_t q = (int64_t)(sum / (__int128)n), r = (int64_t)(sum % (__int128)n);
    if (2 * r > (int64_t)n || (2 * r == (int64_t)n && (q & 1)))
        q++; /* values are >= 0 here */
    CHECK_EQ_I64(d.min, v[0]);
    CHECK_EQ_I64(d.max, v[n - 1]);
    CHECK_EQ_I64(d.mean, q);
    int64_t got[3] = {d.p50, d.p90, d.p99};
    unsigned pct[3] = {50, 90, 99};
    for (int i = 0; i < 3; i++) {
        uint64_t k = (pct[i] * n + 99) / 100;
        int64_t exact = v[(k ? k : 1) - 1], diff = got[i] - exact;
        if (diff < 0)
            diff = -diff;
        CHECK(diff <= 1000 || diff * 100 <= exact);
    }
}

static void test_random_traffic(void)
{
    cm_config cfg;
    cm_config_default(&cfg);
    cfg.rtd_max_age_ns = MS(400);
    cm_engine *eng = cm_engine_new(&cfg);
    cm_conn_record rec[CONNS];
    uint32_t seq[CONNS][2], ts[CONNS][2], first_frame[CONNS] = {0}, last_frame[CONNS] = {0};
    for (int c = 0; c < CONNS; c++) {
        cm_conn_record_init(&rec[c]);
        for (int d = 0; d < 2; d++)
            seq[c][d] = rnd(), ts[c][d] = rnd();
    }
    memset(ref, 0, sizeof ref);
    int64_t t = INT64_C(1800000000000000000);
    for (uint32_t frame = 1; frame <= 150000; frame++) {
        int c = (int)(rnd() % CONNS), side = (int)(rnd() % 2);
        if (c == 0 && frame < 1000)
            side = 1; /* connection 0 starts with its "server" side */
        cm_packet p;
        memset(&p, 0, sizeof p);
        t += (int64_t)(rnd() % 3000000);
        p.t_ns = t;
        p.frame = frame;
        p.stream = (uint32_t)c;
        p.src.family = p.dst.family = 4;
        p.src.bytes[3] = (uint8_t)(side + 1);
        p.dst.bytes[3] = (uint8_t)(2 - side);
        p.sport = (uint16_t)(side ? 80 : 40000 + c);
        p.dport = (uint16_t)(side ? 40000 + c : 80);
        p.payload = rnd() % 3 ? 0 : (rnd() % 4 ? 1448 : 100);
        p.flags = A | (rnd() % 300 == 0 ? S : 0);
        p.seq = seq[c][side] - (rnd() % 12 == 0 ? 1448u : 0) + (rnd() % 40 == 0 ? 1448u : 0);
        p.ack = seq[c][!side] - 1448u * (rnd() % 3);
        p.window = (uint16_t)(1000 + (rnd() % 8 == 0));
        p.has_ts = rnd() % 10 != 0;
        p.tsval = ts[c][side];
        p.tsecr = ts[c][!side] - rnd() % 2;
        seq[c][side] += p.payload;
        if (rnd() % 3 == 0)
            ts[c][side]++;
        cm_result r;
        CHECK(cm_engine_analyse(eng, &p, &r));
        CHECK(cm_conn_record_add(&rec[c], &p, &r));
        if (!first_frame[c])
            first_frame[c] = frame;
        last_frame[c] = frame;
        ref_dir *d = &ref[c][r.direction];
        d->packets++;
        d->payload = r.flowbytes;
        d->ts += (r.present & CM_HAS_TSRTD) != 0;
        d->seq += (r.present & CM_HAS_SEQRTD) != 0;
        d->hole += (r.expert & CM_EXPERT_HOLE) != 0;
        d->behind += (r.expert & CM_EXPERT_BEHIND) != 0;
        d->dupack += (r.expert & CM_EXPERT_DUPACK) != 0;
        if ((r.present & CM_HAS_TSRTD) && d->nhalf < MAXV)
            d->half[d->nhalf++] = r.tsrtd_ns;
        else if ((r.present & CM_HAS_SEQRTD) && d->nhalf < MAXV)
            d->half[d->nhalf++] = r.seqrtd_ns;
        if ((r.present & CM_HAS_PATHRTD) && d->npath < MAXV) {
            d->path++;
            d->pathv[d->npath++] = r.pathrtd_ns;
        }
    }
    size_t bytes = 0;
    for (int c = 0; c < CONNS; c++) {
        CHECK_EQ_I64(rec[c].first_frame, first_frame[c]);
        CHECK_EQ_I64(rec[c].last_frame, last_frame[c]);
        CHECK_EQ_I64(rec[c].samples_lost, 0);
        for (int d = 0; d < 2; d++) {
            const cm_dir_record *dr = &rec[c].dir[d];
            ref_dir *rd = &ref[c][d];
            CHECK_EQ_I64(dr->packets, rd->packets);
            CHECK_EQ_I64(dr->payload_bytes, rd->payload);
            CHECK_EQ_I64(dr->tsrtd_count, rd->ts);
            CHECK_EQ_I64(dr->seqrtd_count, rd->seq);
            CHECK_EQ_I64(dr->pathrtd_count, rd->path);
            CHECK_EQ_I64(dr->hole, rd->hole);
            CHECK_EQ_I64(dr->behind, rd->behind);
            CHECK_EQ_I64(dr->dupack, rd->dupack);
            CHECK(rd->nhalf > 100 && rd->npath > 100 && rd->hole > 0 && rd->behind > 0);
            compare_dist(&dr->half, rd->half, rd->nhalf);
            compare_dist(&dr->path, rd->pathv, rd->npath);
        }
        /* connection 0's first sender was its port-80 side: a is that side */
        if (c == 0)
            CHECK_EQ_I64(rec[c].dir[0].sport, 80);
        bytes += cm_conn_record_bytes(&rec[c]);
        cm_conn_record_free(&rec[c]);
    }
    printf("     random connections: %zu bytes each on average\n", bytes / CONNS);
    cm_engine_free(eng);
}

int main(void)
{
    RUN(test_hand_connection);
    RUN(test_one_directional_ipv6);
    RUN(test_json_max);
    RUN(test_random_traffic);
    return check_summary("test_conn_record");
}
