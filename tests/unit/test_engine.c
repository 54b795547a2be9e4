/* Engine unit tests: one block per SPEC rule, exact expected values.
 *
 * Conventions: stream 1 unless said otherwise; side 0 is the client
 * 10.0.0.1:40000, side 1 the server 10.0.0.2:80; times in ms unless the
 * test needs nanoseconds.
 */
#include <string.h>

#include "check.h"
#include "connmon.h"

#define MS(x) ((int64_t)(x) * 1000000)
#define US(x) ((int64_t)(x) * 1000)

/* Flag shorthands (FN is FIN: F and R are the SPEC's flow names). */
enum { S = CM_TH_SYN, A = CM_TH_ACK, FN = CM_TH_FIN, R = CM_TH_RST, P = CM_TH_PSH };

typedef struct pk {
    int side;
    int64_t t;      /* ns */
    uint32_t seq, ack;
    uint16_t fl;
    uint32_t len;
    bool ts;
    uint32_t tsval, tsecr;
    uint16_t win;
    bool sack;
    uint32_t stream;
} pk;

static cm_engine *eng;
static uint32_t next_frame;

static void start(cm_ts_pure_acks mode, int64_t max_age_ns)
{
    cm_config cfg;
    cm_config_default(&cfg);
    cfg.ts_pure_acks = mode;
    if (max_age_ns >= 0)
        cfg.rtd_max_age_ns = max_age_ns;
    cm_engine_free(eng);
    eng = cm_engine_new(&cfg);
    next_frame = 1;
}

static cm_result feed(pk k)
{
    cm_packet p;
    memset(&p, 0, sizeof p);
    p.t_ns = k.t;
    p.frame = next_frame++;
    p.stream = k.stream ? k.stream : 1;
    p.src.family = p.dst.family = 4;
    uint8_t c[4] = {10, 0, 0, 1}, s[4] = {10, 0, 0, 2};
    memcpy(p.src.bytes, k.side ? s : c, 4);
    memcpy(p.dst.bytes, k.side ? c : s, 4);
    p.sport = k.side ? 80 : 40000;
    p.dport = k.side ? 40000 : 80;
    p.seq = k.seq;
    p.ack = k.ack;
    p.flags = k.fl;
    p.window = k.win;
    p.payload = k.len;
    p.has_ts = k.ts;
    p.has_sack = k.sack;
    p.tsval = k.tsval;
    p.tsecr = k.tsecr;
    cm_result r;
    CHECK(cm_engine_analyse(eng, &p, &r));
    return r;
}

/* Packet builders: W is the default window. */
#define W 1000
#define PKT(...) feed((pk){.win = W, __VA_ARGS__})

static bool has(const cm_result *r, uint32_t bit) { return (r->present & bit) != 0; }

/* ---- TS rules ----------------------------------------------------------------- */

static void test_handshake_syn_recorded(void)
{
    start(CM_TS_PURE_ACKS_CLOCKED, -1);
    cm_result r;
    r = PKT(.side = 0, .t = MS(0), .seq = 1000, .fl = S, .ts = true, .tsval = 100);
    CHECK(!has(&r, CM_HAS_SEQGAP) && r.flow_first);
    /* SYN-ACK echoes the SYN's TSval and ACKs its sequence space (L=1). */
    r = PKT(.side = 1, .t = MS(40), .seq = 5000, .ack = 1001, .fl = S | A, .ts = true,
            .tsval = 7000, .tsecr = 100);
    CHECK(has(&r, CM_HAS_TSRTD) && has(&r, CM_HAS_SEQRTD));
    CHECK_EQ_I64(r.tsrtd_ns, MS(40));
    CHECK_EQ_I64(r.tsrtd_frame, 1);
    CHECK(!r.tsrtd_pureack);
    CHECK_EQ_I64(r.seqrtd_ns, MS(40));
    CHECK_EQ_I64(r.seqrtd_frame, 1);
    CHECK_EQ_I64(r.minrtd_ns, MS(40));
    /* Final ACK of the handshake: closes the SYN-ACK's round trips. */
    r = PKT(.side = 0, .t = MS(41), .seq = 1001, .ack = 5001, .fl = A, .ts = true,
            .tsval = 101, .tsecr = 7000);
    CHECK_EQ_I64(r.tsrtd_ns, MS(1));
    CHECK_EQ_I64(r.tsrtd_frame, 2);
    CHECK_EQ_I64(r.seqrtd_ns, MS(1));
    CHECK_EQ_I64(r.seqrtd_frame, 2);
    CHECK_EQ_I64(r.minrtd_ns, MS(1));
    CHECK_EQ_I64(r.seqgap, 0);
    /* A second echo of 7000 gets nothing: one sample per entry. */
    r = PKT(.side = 0, .t = MS(42), .seq = 1001, .ack = 5001, .fl = A, .ts = true,
            .tsval = 101, .tsecr = 7000);
    CHECK(!has(&r, CM_HAS_TSRTD) && !has(&r, CM_HAS_SEQRTD) && !has(&r, CM_HAS_MINRTD));
}

static void test_first_edge_floor(void)
{
    start(CM_TS_PURE_ACKS_ALL, -1);
    cm_result r;
    /* Capture starts mid-stream: the first TSval of a flow is not timed. */
    r = PKT(.side = 0, .t = MS(0), .seq = 1000, .ack = 9000, .fl = A, .len = 100, .ts = true,
            .tsval = 50, .tsecr = 1);
    r = PKT(.side = 1, .t = MS(30), .seq = 9000, .ack = 1100, .fl = A, .ts = true, .tsval = 800,
            .tsecr = 50);
    CHECK(!has(&r, CM_HAS_TSRTD));
    CHECK(has(&r, CM_HAS_SEQRTD));
    CHECK_EQ_I64(r.seqrtd_ns, MS(30));
    /* Same TSval again: not after the floor, not recorded. */
    r = PKT(.side = 0, .t = MS(31), .seq = 1100, .ack = 9000, .fl = A, .len = 100, .ts = true,
            .tsval = 50, .tsecr = 800);
    CHECK(!has(&r, CM_HAS_TSRTD)); /* 800 was the server's first TSval: floor */
    r = PKT(.side = 0, .t = MS(32), .seq = 1200, .ack = 9000, .fl = A, .len = 100, .ts = true,
            .tsval = 51, .tsecr = 800);
    r = PKT(.side = 1, .t = MS(62), .seq = 9000, .ack = 1300, .fl = A, .ts = true, .tsval = 801,
            .tsecr = 50);
    CHECK(!has(&r, CM_HAS_TSRTD)); /* 50 never recorded */
    r = PKT(.side = 1, .t = MS(63), .seq = 9000, .ack = 1300, .fl = A, .ts = true, .tsval = 801,
            .tsecr = 51);
    CHECK(has(&r, CM_HAS_TSRTD));
    CHECK_EQ_I64(r.tsrtd_ns, MS(31));
    CHECK_EQ_I64(r.tsrtd_frame, 4);
    /* A lower TSval (reordered) is below the floor: not recorded. */
    r = PKT(.side = 0, .t = MS(70), .seq = 1300, .ack = 9000, .fl = A, .len = 10, .ts = true,
            .tsval = 49, .tsecr = 801);
    r = PKT(.side = 1, .t = MS(80), .seq = 9000, .ack = 1310, .fl = A, .ts = true, .tsval = 802,
            .tsecr = 49);
    CHECK(!has(&r, CM_HAS_TSRTD));
}

/* A bulk sender (side 1) and an ACKing receiver (side 0). */
static void bulk_setup(void)
{
    /* side 1 first TS packet sets its floor; side 0 likewise */
    PKT(.side = 1, .t = MS(0), .seq = 5000, .ack = 1000, .fl = A, .len = 100, .ts = true,
        .tsval = 10, .tsecr = 1);
    PKT(.side = 0, .t = MS(1), .seq = 1000, .ack = 5100, .fl = A, .ts = true, .tsval = 1,
        .tsecr = 10);
}

static void test_pure_ack_clocked_idle(void)
{
    cm_result r;
    for (int mode = 0; mode < 3; mode++) {
        start((cm_ts_pure_acks)mode, -1);
        bulk_setup(); /* frames 1, 2: everything side 1 sent is acknowledged */
        /* pure ACK with a new TSval (frame 3) */
        r = PKT(.side = 0, .t = MS(5), .seq = 1000, .ack = 5100, .fl = A, .ts = true, .tsval = 2,
                .tsecr = 10);
        /* the server was idle; its next data, 2 s later, echoes TSval 2 */
        r = PKT(.side = 1, .t = MS(2005), .seq = 5100, .ack = 1000, .fl = A, .len = 100,
                .ts = true, .tsval = 30, .tsecr = 2);
        if (mode == CM_TS_PURE_ACKS_ALL) {
            CHECK(has(&r, CM_HAS_TSRTD));
            CHECK_EQ_I64(r.tsrtd_ns, MS(2000));
            CHECK_EQ_I64(r.tsrtd_frame, 3);
            CHECK(r.tsrtd_pureack);
        } else {
            CHECK(!has(&r, CM_HAS_TSRTD));
        }
        /* clocked: the entry was consumed anyway; a second echo gets nothing */
        r = PKT(.side = 1, .t = MS(2006), .seq = 5200, .ack = 1000, .fl = A, .len = 100,
                .ts = true, .tsval = 30, .tsecr = 2);
        CHECK(!has(&r, CM_HAS_TSRTD));
    }
}

static void test_pure_ack_clocked_in_flight(void)
{
    cm_result r;
    for (int mode = 0; mode < 3; mode++) {
        start((cm_ts_pure_acks)mode, -1);
        bulk_setup();
        /* server sends more data: in flight (high_end 5200 > ack_high 5100) */
        PKT(.side = 1, .t = MS(2), .seq = 5100, .ack = 1000, .fl = A, .len = 100, .ts = true,
            .tsval = 11, .tsecr = 1);
        /* frame 4: pure ACK with TSval 2, acking only up to 5100 (dup-ish) */
        PKT(.side = 0, .t = MS(3), .seq = 1000, .ack = 5100, .fl = A, .ts = true, .tsval = 2,
            .tsecr = 10, .win = 999);
        /* server data echoes 2 while 5200 is still unacknowledged */
        r = PKT(.side = 1, .t = MS(23), .seq = 5200, .ack = 1000, .fl = A, .len = 100, .ts = true,
                .tsval = 12, .tsecr = 2);
        if (mode == CM_TS_PURE_ACKS_NONE) {
            CHECK(!has(&r, CM_HAS_TSRTD));
        } else {
            CHECK(has(&r, CM_HAS_TSRTD));
            CHECK_EQ_I64(r.tsrtd_ns, MS(20));
            CHECK_EQ_I64(r.tsrtd_frame, 4);
            CHECK(r.tsrtd_pureack);
        }
    }
}

static void test_data_takes_over(void)
{
    start(CM_TS_PURE_ACKS_CLOCKED, -1);
    bulk_setup();
    cm_result r;
    /* frame 3: pure ACK, TSval 2 -> entry marked pure */
    PKT(.side = 0, .t = MS(5), .seq = 1000, .ack = 5100, .fl = A, .ts = true, .tsval = 2,
        .tsecr = 10);
    /* frame 4: client data with the same TSval: mark cleared, time and frame stay */
    PKT(.side = 0, .t = MS(6), .seq = 1000, .ack = 5100, .fl = A | P, .len = 50, .ts = true,
        .tsval = 2, .tsecr = 10);
    /* server replies: echo 2, acks the data.  No data in flight from the
     * server, but the entry now answers data. */
    r = PKT(.side = 1, .t = MS(46), .seq = 5100, .ack = 1050, .fl = A, .len = 100, .ts = true,
            .tsval = 11, .tsecr = 2);
    CHECK(has(&r, CM_HAS_TSRTD));
    CHECK_EQ_I64(r.tsrtd_ns, MS(41));
    CHECK_EQ_I64(r.tsrtd_frame, 3);
    CHECK(!r.tsrtd_pureack);
    CHECK(has(&r, CM_HAS_SEQRTD));
    CHECK_EQ_I64(r.seqrtd_ns, MS(40));
    CHECK_EQ_I64(r.seqrtd_frame, 4);
    CHECK_EQ_I64(r.minrtd_ns, MS(40));
}

static void test_none_mode_pure_ack_not_floor(void)
{
    /* In none mode a pure ACK is not eligible: it neither records nor moves
     * the floor, so data with the same TSval is recorded. */
    start(CM_TS_PURE_ACKS_NONE, -1);
    bulk_setup();
    PKT(.side = 0, .t = MS(5), .seq = 1000, .ack = 5100, .fl = A, .ts = true, .tsval = 2,
        .tsecr = 10); /* frame 3 */
    PKT(.side = 0, .t = MS(7), .seq = 1000, .ack = 5100, .fl = A, .len = 10, .ts = true,
        .tsval = 2, .tsecr = 10); /* frame 4 */
    cm_result r = PKT(.side = 1, .t = MS(27), .seq = 5100, .ack = 1010, .fl = A, .ts = true,
                      .tsval = 11, .tsecr = 2);
    CHECK(has(&r, CM_HAS_TSRTD));
    CHECK_EQ_I64(r.tsrtd_ns, MS(20));
    CHECK_EQ_I64(r.tsrtd_frame, 4);
}

static void test_ts_karn(void)
{
    start(CM_TS_PURE_ACKS_CLOCKED, -1);
    bulk_setup();
    cm_result r;
    /* frame 3: data [5100,5200) TSval 11; frame 4: its retransmission,
     * same TSval -> entry 11 removed (range overlaps) */
    PKT(.side = 1, .t = MS(10), .seq = 5100, .ack = 1000, .fl = A, .len = 100, .ts = true,
        .tsval = 11, .tsecr = 1);
    r = PKT(.side = 1, .t = MS(10) + US(500), .seq = 5100, .ack = 1000, .fl = A, .len = 100,
            .ts = true, .tsval = 11, .tsecr = 1);
    CHECK_EQ_I64(r.seqgap, -100);
    CHECK(r.expert & CM_EXPERT_BEHIND);
    r = PKT(.side = 0, .t = MS(30), .seq = 1000, .ack = 5200, .fl = A, .ts = true, .tsval = 3,
            .tsecr = 11);
    CHECK(!has(&r, CM_HAS_TSRTD));
    CHECK(!has(&r, CM_HAS_SEQRTD)); /* seq Karn too */

    /* frame 6: data [5200,5300) TSval 12; frame 7: RTO retransmission with a
     * new TSval 40: entry 12 removed, entry 40 recorded and timed. */
    PKT(.side = 1, .t = MS(40), .seq = 5200, .ack = 1000, .fl = A, .len = 100, .ts = true,
        .tsval = 12, .tsecr = 3);
    PKT(.side = 1, .t = MS(240), .seq = 5200, .ack = 1000, .fl = A, .len = 100, .ts = true,
        .tsval = 40, .tsecr = 3);
    r = PKT(.side = 0, .t = MS(260), .seq = 1000, .ack = 5300, .fl = A, .ts = true, .tsval = 4,
            .tsecr = 12);
    CHECK(!has(&r, CM_HAS_TSRTD));
    r = PKT(.side = 0, .t = MS(261), .seq = 1000, .ack = 5300, .fl = A, .ts = true, .tsval = 4,
            .tsecr = 40);
    CHECK(has(&r, CM_HAS_TSRTD));
    CHECK_EQ_I64(r.tsrtd_ns, MS(21));
    CHECK_EQ_I64(r.tsrtd_frame, 7);

    /* Karn applies to TS entries even when the retransmission has no TS
     * option: frame 10 data TSval 41, frame 11 retransmission without TS. */
    PKT(.side = 1, .t = MS(300), .seq = 5300, .ack = 1000, .fl = A, .len = 100, .ts = true,
        .tsval = 41, .tsecr = 4);
    PKT(.side = 1, .t = MS(301), .seq = 5300, .ack = 1000, .fl = A, .len = 100);
    r = PKT(.side = 0, .t = MS(320), .seq = 1000, .ack = 5400, .fl = A, .ts = true, .tsval = 5,
            .tsecr = 41);
    CHECK(!has(&r, CM_HAS_TSRTD));
}

static void test_ts_not_backwards_and_unknown_echo(void)
{
    start(CM_TS_PURE_ACKS_CLOCKED, -1);
    bulk_setup();
    cm_result r;
    PKT(.side = 1, .t = MS(10), .seq = 5100, .ack = 1000, .fl = A, .len = 100, .ts = true,
        .tsval = 11, .tsecr = 1);
    /* echo with an earlier capture time (clock stepped back): no sample,
     * and the entry is consumed */
    r = PKT(.side = 0, .t = MS(9), .seq = 1000, .ack = 5200, .fl = A, .ts = true, .tsval = 2,
            .tsecr = 11);
    CHECK(!has(&r, CM_HAS_TSRTD) && !has(&r, CM_HAS_SEQRTD));
    r = PKT(.side = 0, .t = MS(20), .seq = 1000, .ack = 5200, .fl = A, .ts = true, .tsval = 2,
            .tsecr = 11);
    CHECK(!has(&r, CM_HAS_TSRTD));
    /* echo of a value never seen */
    r = PKT(.side = 0, .t = MS(21), .seq = 1000, .ack = 5200, .fl = A, .ts = true, .tsval = 3,
            .tsecr = 999);
    CHECK(!has(&r, CM_HAS_TSRTD));
    /* an echo without the ACK flag does not match */
    PKT(.side = 1, .t = MS(30), .seq = 5200, .ack = 1000, .fl = A, .len = 100, .ts = true,
        .tsval = 12, .tsecr = 3);
    r = PKT(.side = 0, .t = MS(40), .seq = 1000, .ack = 0, .fl = 0, .ts = true, .tsval = 4,
            .tsecr = 12);
    CHECK(!has(&r, CM_HAS_TSRTD));
    r = PKT(.side = 0, .t = MS(41), .seq = 1000, .ack = 5300, .fl = A, .ts = true, .tsval = 5,
            .tsecr = 12);
    CHECK(has(&r, CM_HAS_TSRTD));
    CHECK_EQ_I64(r.tsrtd_ns, MS(11));
}

/* ---- rtd_max_age -------------------------------------------------------------- */

static void test_max_age_boundary(void)
{
    for (int extra = 0; extra <= 1; extra++) {
        start(CM_TS_PURE_ACKS_CLOCKED, MS(500));
        bulk_setup();
        /* frame 3: data at 10 ms */
        PKT(.side = 1, .t = MS(10), .seq = 5100, .ack = 1000, .fl = A, .len = 100, .ts = true,
            .tsval = 11, .tsecr = 1);
        /* ACK exactly 500 ms later (+1 ns in the second round) */
        cm_result r = PKT(.side = 0, .t = MS(510) + extra, .seq = 1000, .ack = 5200, .fl = A,
                          .ts = true, .tsval = 2, .tsecr = 11);
        if (!extra) {
            CHECK(has(&r, CM_HAS_TSRTD) && has(&r, CM_HAS_SEQRTD));
            CHECK_EQ_I64(r.tsrtd_ns, MS(500));
            CHECK_EQ_I64(r.seqrtd_ns, MS(500));
        } else {
            CHECK(!has(&r, CM_HAS_TSRTD) && !has(&r, CM_HAS_SEQRTD));
        }
    }
}

static void test_max_age_uses_stream_tmax(void)
{
    start(CM_TS_PURE_ACKS_CLOCKED, MS(500));
    bulk_setup();
    PKT(.side = 1, .t = MS(10), .seq = 5100, .ack = 1000, .fl = A, .len = 100, .ts = true,
        .tsval = 11, .tsecr = 1);
    /* a packet of the stream stamped 600 ms (capture not in time order) */
    PKT(.side = 1, .t = MS(600), .seq = 5200, .ack = 1000, .fl = A, .len = 100, .ts = true,
        .tsval = 12, .tsecr = 1);
    /* the echo is stamped 100 ms, but tmax (600) - 10 > 500: forgotten */
    cm_result r = PKT(.side = 0, .t = MS(100), .seq = 1000, .ack = 5200, .fl = A, .ts = true,
                      .tsval = 2, .tsecr = 11);
    CHECK(!has(&r, CM_HAS_TSRTD) && !has(&r, CM_HAS_SEQRTD));
    /* other streams do not move this stream's tmax */
    start(CM_TS_PURE_ACKS_CLOCKED, MS(500));
    bulk_setup();
    PKT(.side = 1, .t = MS(10), .seq = 5100, .ack = 1000, .fl = A, .len = 100, .ts = true,
        .tsval = 11, .tsecr = 1);
    PKT(.side = 1, .t = MS(5000), .seq = 1, .ack = 1, .fl = A, .len = 100, .stream = 2);
    r = PKT(.side = 0, .t = MS(100), .seq = 1000, .ack = 5200, .fl = A, .ts = true, .tsval = 2,
            .tsecr = 11);
    CHECK(has(&r, CM_HAS_TSRTD));
    CHECK_EQ_I64(r.tsrtd_ns, MS(90));
}

static void test_forgotten_blocks_nothing(void)
{
    /* A forgotten seq entry leaves room for a new one with another end and
     * does not stop cumulative removal. */
    start(CM_TS_PURE_ACKS_CLOCKED, MS(100));
    bulk_setup();
    PKT(.side = 1, .t = MS(10), .seq = 5100, .ack = 1000, .fl = A, .len = 100); /* end 5200 */
    PKT(.side = 1, .t = MS(500), .seq = 5200, .ack = 1000, .fl = A, .len = 100); /* end 5300 */
    cm_result r = PKT(.side = 0, .t = MS(520), .seq = 1000, .ack = 5200, .fl = A);
    CHECK(!has(&r, CM_HAS_SEQRTD));
    r = PKT(.side = 0, .t = MS(530), .seq = 1000, .ack = 5300, .fl = A);
    CHECK(has(&r, CM_HAS_SEQRTD));
    CHECK_EQ_I64(r.seqrtd_ns, MS(30));
}

/* ---- seq rules ---------------------------------------------------------------- */

static void test_seq_cumulative_and_karn(void)
{
    start(CM_TS_PURE_ACKS_CLOCKED, -1);
    cm_result r;
    PKT(.side = 0, .t = MS(0), .seq = 1000, .ack = 1, .fl = A, .len = 0); /* client */
    PKT(.side = 1, .t = MS(1), .seq = 2000, .ack = 1000, .fl = A, .len = 100); /* 3: [2000,2100) */
    PKT(.side = 1, .t = MS(2), .seq = 2100, .ack = 1000, .fl = A, .len = 100); /* [2100,2200) */
    PKT(.side = 1, .t = MS(3), .seq = 2200, .ack = 1000, .fl = A, .len = 100); /* [2200,2300) */
    /* ACK 2150 advances but ends no segment: no sample; removes [..,2100) */
    r = PKT(.side = 0, .t = MS(20), .seq = 1000, .ack = 2150, .fl = A);
    CHECK(!has(&r, CM_HAS_SEQRTD));
    /* ACK 2100 does not advance: nothing */
    r = PKT(.side = 0, .t = MS(21), .seq = 1000, .ack = 2100, .fl = A);
    CHECK(!has(&r, CM_HAS_SEQRTD));
    /* cumulative ACK 2300: sample from the segment ending at 2300 */
    r = PKT(.side = 0, .t = MS(23), .seq = 1000, .ack = 2300, .fl = A);
    CHECK(has(&r, CM_HAS_SEQRTD));
    CHECK_EQ_I64(r.seqrtd_ns, MS(20));
    CHECK_EQ_I64(r.seqrtd_frame, 4);
    /* Karn: [2300,2400) sent, partly retransmitted [2350,2400): entry removed */
    PKT(.side = 1, .t = MS(30), .seq = 2300, .ack = 1000, .fl = A, .len = 100); /* frame 8 */
    r = PKT(.side = 1, .t = MS(31), .seq = 2350, .ack = 1000, .fl = A, .len = 50);
    CHECK_EQ_I64(r.seqgap, -50);
    CHECK(r.expert & CM_EXPERT_BEHIND);
    r = PKT(.side = 0, .t = MS(50), .seq = 1000, .ack = 2400, .fl = A);
    CHECK(!has(&r, CM_HAS_SEQRTD));
    /* retransmission that also carries new data is new data: recorded */
    PKT(.side = 1, .t = MS(60), .seq = 2400, .ack = 1000, .fl = A, .len = 100); /* 11: end 2500 */
    r = PKT(.side = 1, .t = MS(61), .seq = 2450, .ack = 1000, .fl = A, .len = 100); /* 12: end 2550 */
    CHECK_EQ_I64(r.seqgap, -50);
    r = PKT(.side = 0, .t = MS(80), .seq = 1000, .ack = 2550, .fl = A);
    CHECK(has(&r, CM_HAS_SEQRTD));
    CHECK_EQ_I64(r.seqrtd_ns, MS(19));
    CHECK_EQ_I64(r.seqrtd_frame, 12);
}

static void test_fin_sequence_space(void)
{
    start(CM_TS_PURE_ACKS_CLOCKED, -1);
    PKT(.side = 0, .t = MS(0), .seq = 1000, .ack = 2000, .fl = A);
    /* FIN with 10 bytes: L = 11 */
    PKT(.side = 1, .t = MS(5), .seq = 2000, .ack = 1000, .fl = A | FN, .len = 10);
    cm_result r = PKT(.side = 0, .t = MS(15), .seq = 1000, .ack = 2011, .fl = A);
    CHECK(has(&r, CM_HAS_SEQRTD));
    CHECK_EQ_I64(r.seqrtd_ns, MS(10));
    /* a bare FIN */
    PKT(.side = 0, .t = MS(16), .seq = 1000, .ack = 2011, .fl = A | FN);
    r = PKT(.side = 1, .t = MS(36), .seq = 2011, .ack = 1001, .fl = A);
    CHECK(has(&r, CM_HAS_SEQRTD));
    CHECK_EQ_I64(r.seqrtd_ns, MS(20));
    CHECK_EQ_I64(r.seqgap, 0);
}

static void test_wraparound(void)
{
    start(CM_TS_PURE_ACKS_ALL, -1);
    cm_result r;
    uint32_t s0 = 0xffffff00u;
    PKT(.side = 0, .t = MS(0), .seq = 77, .ack = s0, .fl = A, .ts = true, .tsval = 0xfffffff0u,
        .tsecr = 5);
    PKT(.side = 1, .t = MS(1), .seq = s0, .ack = 77, .fl = A, .len = 200, .ts = true,
        .tsval = 0xfffffffeu, .tsecr = 0xfffffff0u); /* floor for side 1, end 0x0c8 */
    PKT(.side = 1, .t = MS(2), .seq = s0 + 200, .ack = 77, .fl = A, .len = 200, .ts = true,
        .tsval = 3, .tsecr = 0xfffffff0u); /* TSval wrapped: 3 after 0xfffffffe */
    r = PKT(.side = 0, .t = MS(12), .seq = 77, .ack = s0 + 400, .fl = A, .ts = true,
            .tsval = 0xfffffff1u, .tsecr = 3);
    CHECK(has(&r, CM_HAS_TSRTD) && has(&r, CM_HAS_SEQRTD));
    CHECK_EQ_I64(r.tsrtd_ns, MS(10));
    CHECK_EQ_I64(r.seqrtd_ns, MS(10));
    CHECK_EQ_I64(r.seqrtd_frame, 3);
    /* next segment continues after the wrap: in order */
    r = PKT(.side = 1, .t = MS(13), .seq = s0 + 400, .ack = 77, .fl = A, .len = 100, .ts = true,
            .tsval = 4, .tsecr = 0xfffffff1u);
    CHECK_EQ_I64(r.seqgap, 0);
    CHECK(!(r.expert & (CM_EXPERT_BEHIND | CM_EXPERT_HOLE)));
    /* and the one from before the wrap is behind */
    r = PKT(.side = 1, .t = MS(14), .seq = s0, .ack = 77, .fl = A, .len = 100, .ts = true,
            .tsval = 4, .tsecr = 0xfffffff1u);
    CHECK_EQ_I64(r.seqgap, -500);
    CHECK(r.expert & CM_EXPERT_BEHIND);
}

/* ---- seqgap, expert hints, flowbytes ---------------------------------------------- */

static void test_seqgap_and_experts(void)
{
    start(CM_TS_PURE_ACKS_CLOCKED, -1);
    cm_result r;
    r = PKT(.side = 1, .t = MS(0), .seq = 1000, .ack = 1, .fl = A, .len = 100);
    CHECK(!has(&r, CM_HAS_SEQGAP));
    CHECK_EQ_I64(r.flowbytes, 100);
    r = PKT(.side = 1, .t = MS(1), .seq = 1300, .ack = 1, .fl = A, .len = 100); /* hole 200 */
    CHECK_EQ_I64(r.seqgap, 200);
    CHECK(r.expert == CM_EXPERT_HOLE);
    r = PKT(.side = 1, .t = MS(2), .seq = 1100, .ack = 1, .fl = A, .len = 100); /* fills */
    CHECK_EQ_I64(r.seqgap, -300);
    CHECK(r.expert == CM_EXPERT_BEHIND);
    CHECK_EQ_I64(r.flowbytes, 300);
    r = PKT(.side = 1, .t = MS(3), .seq = 1400, .ack = 1, .fl = A, .len = 100);
    CHECK_EQ_I64(r.seqgap, 0);
    CHECK(r.expert == 0);
    /* a hole on a RST is not flagged */
    r = PKT(.side = 1, .t = MS(4), .seq = 1600, .ack = 1, .fl = R);
    CHECK_EQ_I64(r.seqgap, 100);
    CHECK(r.expert == 0);
    /* a pure ACK behind: L = 0, not flagged (the RST moved high_end to 1600) */
    r = PKT(.side = 1, .t = MS(5), .seq = 1200, .ack = 1, .fl = A);
    CHECK_EQ_I64(r.seqgap, -400);
    CHECK(r.expert == 0);
    CHECK_EQ_I64(r.payload, 0);
    CHECK_EQ_I64(r.flowbytes, 400);
}

static void test_behind_already_acked_and_keepalive(void)
{
    start(CM_TS_PURE_ACKS_CLOCKED, -1);
    cm_result r;
    PKT(.side = 1, .t = MS(0), .seq = 1000, .ack = 1, .fl = A, .len = 100); /* high_end 1100 */
    PKT(.side = 0, .t = MS(1), .seq = 1, .ack = 1100, .fl = A);
    /* keepalive: 1 byte at high_end - 1: not behind, seqgap -1 */
    r = PKT(.side = 1, .t = MS(2), .seq = 1099, .ack = 1, .fl = A, .len = 1);
    CHECK_EQ_I64(r.seqgap, -1);
    CHECK(r.expert == 0);
    /* keepalive with 0 bytes */
    r = PKT(.side = 1, .t = MS(3), .seq = 1099, .ack = 1, .fl = A);
    CHECK(r.expert == 0);
    /* 2 bytes at high_end - 1: the seqgap rule does not flag it, but the
     * bytes end at or before the peer's ACK?  1099+2 = 1101 > 1100: no. */
    r = PKT(.side = 1, .t = MS(4), .seq = 1099, .ack = 1, .fl = A, .len = 2); /* high_end 1101 */
    CHECK_EQ_I64(r.seqgap, -1);
    CHECK(r.expert == 0);
    /* data the peer already acknowledged, even at high_end: behind */
    PKT(.side = 0, .t = MS(5), .seq = 1, .ack = 1201, .fl = A); /* acks beyond (odd but legal) */
    r = PKT(.side = 1, .t = MS(6), .seq = 1101, .ack = 1, .fl = A, .len = 100);
    CHECK_EQ_I64(r.seqgap, 0);
    CHECK(r.expert == CM_EXPERT_BEHIND);
    /* the peer's previous ACK number 0 disables that test */
    PKT(.side = 0, .t = MS(7), .seq = 1, .ack = 0, .fl = 0);
    r = PKT(.side = 1, .t = MS(8), .seq = 1201, .ack = 1, .fl = A, .len = 100);
    CHECK(r.expert == 0);
}

/* ---- duplicate ACKs -------------------------------------------------------------- */

static void test_dupacks(void)
{
    start(CM_TS_PURE_ACKS_CLOCKED, -1);
    cm_result r;
    PKT(.side = 1, .t = MS(0), .seq = 5000, .ack = 1000, .fl = A, .len = 100);   /* 1 */
    PKT(.side = 0, .t = MS(10), .seq = 1000, .ack = 5100, .fl = A);              /* 2: orig */
    r = PKT(.side = 0, .t = MS(12), .seq = 1000, .ack = 5100, .fl = A);          /* 3: dup 1 */
    CHECK(has(&r, CM_HAS_DUPACK) && (r.expert & CM_EXPERT_DUPACK));
    CHECK_EQ_I64(r.dupack_ns, MS(2));
    CHECK_EQ_I64(r.dupack_num, 1);
    CHECK_EQ_I64(r.dupack_frame, 2);
    r = PKT(.side = 0, .t = MS(15), .seq = 1000, .ack = 5100, .fl = A | CM_TH_ECE); /* dup 2 */
    CHECK_EQ_I64(r.dupack_num, 2);
    CHECK_EQ_I64(r.dupack_ns, MS(5));
    /* window changed: not a dup (window update) */
    r = PKT(.side = 0, .t = MS(16), .seq = 1000, .ack = 5100, .fl = A, .win = 2000);
    CHECK(!has(&r, CM_HAS_DUPACK));
    /* same window again: dup 3, still counted from frame 2 */
    r = PKT(.side = 0, .t = MS(17), .seq = 1000, .ack = 5100, .fl = A, .win = 2000);
    CHECK(has(&r, CM_HAS_DUPACK));
    CHECK_EQ_I64(r.dupack_num, 3);
    CHECK_EQ_I64(r.dupack_frame, 2);
    /* window 0 twice: never a dup */
    PKT(.side = 0, .t = MS(18), .seq = 1000, .ack = 5100, .fl = A, .win = 0);
    r = PKT(.side = 0, .t = MS(19), .seq = 1000, .ack = 5100, .fl = A, .win = 0);
    CHECK(!has(&r, CM_HAS_DUPACK));
    PKT(.side = 0, .t = MS(20), .seq = 1000, .ack = 5100, .fl = A); /* 9: window back, no dup */
    /* seq not at high_end */
    r = PKT(.side = 0, .t = MS(21), .seq = 999, .ack = 5100, .fl = A);
    CHECK(!has(&r, CM_HAS_DUPACK));
    /* RST */
    r = PKT(.side = 0, .t = MS(22), .seq = 1000, .ack = 5100, .fl = A | R);
    CHECK(!has(&r, CM_HAS_DUPACK));
    /* no ACK flag */
    r = PKT(.side = 0, .t = MS(23), .seq = 1000, .ack = 5100, .fl = 0);
    CHECK(!has(&r, CM_HAS_DUPACK));
    /* ACK changed: new original (frame 13), numbering restarts */
    PKT(.side = 1, .t = MS(24), .seq = 5100, .ack = 1000, .fl = A, .len = 100);   /* 13 */
    r = PKT(.side = 0, .t = MS(30), .seq = 1000, .ack = 5200, .fl = A);          /* 14 */
    CHECK(!has(&r, CM_HAS_DUPACK));
    r = PKT(.side = 0, .t = MS(31), .seq = 1000, .ack = 5200, .fl = A);          /* 15 */
    CHECK(has(&r, CM_HAS_DUPACK));
    CHECK_EQ_I64(r.dupack_num, 1);
    CHECK_EQ_I64(r.dupack_frame, 14);
    CHECK_EQ_I64(r.dupack_ns, MS(1));
    /* keepalive from the peer just before: the answer is no dup */
    PKT(.side = 1, .t = MS(40), .seq = 5199, .ack = 1000, .fl = A);               /* 16 */
    r = PKT(.side = 0, .t = MS(41), .seq = 1000, .ack = 5200, .fl = A);
    CHECK(!has(&r, CM_HAS_DUPACK));
    /* still the keepalive as the peer's previous packet: no dup either */
    r = PKT(.side = 0, .t = MS(42), .seq = 1000, .ack = 5200, .fl = A);
    CHECK(!has(&r, CM_HAS_DUPACK));
    /* the peer sends an ordinary ACK; now the next one is dup #2 of frame 14 */
    PKT(.side = 1, .t = MS(43), .seq = 5200, .ack = 1000, .fl = A);
    r = PKT(.side = 0, .t = MS(44), .seq = 1000, .ack = 5200, .fl = A);
    CHECK(has(&r, CM_HAS_DUPACK));
    CHECK_EQ_I64(r.dupack_num, 2);
    CHECK_EQ_I64(r.dupack_frame, 14);
    CHECK_EQ_I64(r.dupack_ns, MS(14));
    /* data is never a dup ACK */
    r = PKT(.side = 0, .t = MS(45), .seq = 1000, .ack = 5200, .fl = A, .len = 10);
    CHECK(!has(&r, CM_HAS_DUPACK));
}

static void test_dupack_ack_flag_off_moves_orig(void)
{
    /* The ACK number counts for prev_ack / ack_orig whether or not the flag is set. */
    start(CM_TS_PURE_ACKS_CLOCKED, -1);
    PKT(.side = 0, .t = MS(0), .seq = 1000, .ack = 5100, .fl = A);  /* 1 */
    PKT(.side = 0, .t = MS(1), .seq = 1000, .ack = 0, .fl = 0);     /* 2: ack 0, orig moves */
    PKT(.side = 0, .t = MS(2), .seq = 1000, .ack = 5100, .fl = A);  /* 3: changed again */
    cm_result r = PKT(.side = 0, .t = MS(5), .seq = 1000, .ack = 5100, .fl = A);
    CHECK(has(&r, CM_HAS_DUPACK));
    CHECK_EQ_I64(r.dupack_frame, 3);
    CHECK_EQ_I64(r.dupack_ns, MS(3));
}

static void test_zero_window_probe(void)
{
    start(CM_TS_PURE_ACKS_CLOCKED, -1);
    cm_result r;
    PKT(.side = 1, .t = MS(0), .seq = 5000, .ack = 1000, .fl = A, .len = 100);
    PKT(.side = 0, .t = MS(10), .seq = 1000, .ack = 5100, .fl = A, .win = 0);
    /* 1-byte probe at high_end: not recorded, high_end stays 5100 */
    r = PKT(.side = 1, .t = MS(200), .seq = 5100, .ack = 1000, .fl = A, .len = 1);
    CHECK_EQ_I64(r.seqgap, 0);
    r = PKT(.side = 0, .t = MS(210), .seq = 1000, .ack = 5100, .fl = A, .win = 0);
    r = PKT(.side = 1, .t = MS(400), .seq = 5100, .ack = 1000, .fl = A, .len = 1);
    CHECK_EQ_I64(r.seqgap, 0);
    CHECK(r.expert == 0);
    /* window opens; the probe byte is acknowledged: no seq sample (never recorded) */
    r = PKT(.side = 0, .t = MS(410), .seq = 1000, .ack = 5101, .fl = A, .win = 500);
    CHECK(!has(&r, CM_HAS_SEQRTD));
    /* the real segment resends that byte: at high_end, new data, recorded */
    r = PKT(.side = 1, .t = MS(411), .seq = 5100, .ack = 1000, .fl = A, .len = 100);
    CHECK_EQ_I64(r.seqgap, 0);
    r = PKT(.side = 0, .t = MS(421), .seq = 1000, .ack = 5200, .fl = A, .win = 500);
    CHECK(has(&r, CM_HAS_SEQRTD));
    CHECK_EQ_I64(r.seqrtd_ns, MS(10));
}

static void test_minrtd_and_streams(void)
{
    start(CM_TS_PURE_ACKS_CLOCKED, -1);
    cm_result r;
    PKT(.side = 1, .t = MS(0), .seq = 5000, .ack = 1000, .fl = A, .len = 100);
    r = PKT(.side = 0, .t = MS(30), .seq = 1000, .ack = 5100, .fl = A);
    CHECK_EQ_I64(r.minrtd_ns, MS(30));
    PKT(.side = 1, .t = MS(31), .seq = 5100, .ack = 1000, .fl = A, .len = 100);
    r = PKT(.side = 0, .t = MS(51), .seq = 1000, .ack = 5200, .fl = A);
    CHECK_EQ_I64(r.minrtd_ns, MS(20));
    PKT(.side = 1, .t = MS(52), .seq = 5200, .ack = 1000, .fl = A, .len = 100);
    r = PKT(.side = 0, .t = MS(92), .seq = 1000, .ack = 5300, .fl = A);
    CHECK_EQ_I64(r.seqrtd_ns, MS(40));
    CHECK_EQ_I64(r.minrtd_ns, MS(20));
    /* same addresses, another stream (port reuse): fresh state */
    r = PKT(.side = 0, .t = MS(100), .seq = 1000, .ack = 5300, .fl = A, .stream = 7);
    CHECK(r.flow_first && !has(&r, CM_HAS_SEQGAP) && !has(&r, CM_HAS_DUPACK));
    CHECK_EQ_I64(r.flowbytes, 0);
    CHECK_EQ_I64(cm_engine_stream_count(eng), 2);
    cm_engine_forget_stream(eng, 7);
    CHECK_EQ_I64(cm_engine_stream_count(eng), 1);
}

static void test_many_pending_entries(void)
{
    /* A long window of outstanding segments, acknowledged in pieces. */
    start(CM_TS_PURE_ACKS_CLOCKED, -1);
    uint32_t seq = 0xfff00000u;
    for (int i = 0; i < 5000; i++)
        PKT(.side = 1, .t = US(i), .seq = seq + 100u * i, .ack = 1, .fl = A, .len = 100,
            .ts = true, .tsval = 0xfffff000u + i, .tsecr = 1);
    int samples = 0;
    for (int i = 0; i < 5000; i += 2) {
        cm_result r = PKT(.side = 0, .t = MS(20) + US(i), .seq = 1, .ack = seq + 100u * (i + 2),
                          .fl = A, .ts = true, .tsval = 7 + i, .tsecr = 0xfffff000u + i + 1);
        if (has(&r, CM_HAS_SEQRTD) && r.seqrtd_ns == MS(20) - US(1) &&
            has(&r, CM_HAS_TSRTD) && r.tsrtd_ns == MS(20) - US(1))
            samples++;
    }
    /* the first TSval of side 1 is the floor, not timed: i = 0 is fine
     * (echo of i + 1); every ACK matches */
    CHECK_EQ_I64(samples, 2500);
}

static void test_dupack_sack_window_change(void)
{
    /* SPEC v4 (Wireshark 4.4): a SACK-bearing ACK is a duplicate even when
     * its window changed; without SACK a window change is an update. */
    start(CM_TS_PURE_ACKS_CLOCKED, -1);
    cm_result r;
    PKT(.side = 1, .t = MS(0), .seq = 5000, .ack = 1000, .fl = A, .len = 100);    /* 1 */
    PKT(.side = 0, .t = MS(10), .seq = 1000, .ack = 5100, .fl = A);               /* 2: orig */
    r = PKT(.side = 0, .t = MS(11), .seq = 1000, .ack = 5100, .fl = A, .win = 900, .sack = true);
    CHECK(has(&r, CM_HAS_DUPACK) && (r.expert & CM_EXPERT_DUPACK));
    CHECK_EQ_I64(r.dupack_num, 1);
    CHECK_EQ_I64(r.dupack_frame, 2);
    CHECK_EQ_I64(r.dupack_ns, MS(1));
    r = PKT(.side = 0, .t = MS(12), .seq = 1000, .ack = 5100, .fl = A, .win = 800, .sack = true);
    CHECK_EQ_I64(r.dupack_num, 2);
    /* window changed without SACK: a window update, not a duplicate */
    r = PKT(.side = 0, .t = MS(13), .seq = 1000, .ack = 5100, .fl = A, .win = 700);
    CHECK(!has(&r, CM_HAS_DUPACK));
    /* SACK does not excuse a zero window, a moved ACK or data */
    r = PKT(.side = 0, .t = MS(14), .seq = 1000, .ack = 5100, .fl = A, .win = 0, .sack = true);
    CHECK(!has(&r, CM_HAS_DUPACK));
    r = PKT(.side = 0, .t = MS(15), .seq = 1000, .ack = 5100, .fl = A, .win = 0, .sack = true);
    CHECK(!has(&r, CM_HAS_DUPACK));
    r = PKT(.side = 0, .t = MS(16), .seq = 1000, .ack = 5100, .fl = A, .len = 5, .sack = true);
    CHECK(!has(&r, CM_HAS_DUPACK));
    r = PKT(.side = 0, .t = MS(17), .seq = 1005, .ack = 5100, .fl = A, .win = 600, .sack = true);
    CHECK(has(&r, CM_HAS_DUPACK));
    CHECK_EQ_I64(r.dupack_num, 3);
    CHECK_EQ_I64(r.dupack_frame, 2);
}

static void test_pathrtd(void)
{
    /* Mid-path: the client side's half is 5 ms, the server side's 20 ms. */
    start(CM_TS_PURE_ACKS_CLOCKED, MS(1000));
    cm_result r;
    r = PKT(.side = 0, .t = MS(0), .seq = 100, .fl = S, .ts = true, .tsval = 1);            /* 1 */
    CHECK(!has(&r, CM_HAS_PATHRTD));
    r = PKT(.side = 1, .t = MS(20), .seq = 900, .ack = 101, .fl = S | A, .ts = true,
            .tsval = 50, .tsecr = 1);                                                  /* 2 */
    CHECK(has(&r, CM_HAS_TSRTD) && !has(&r, CM_HAS_PATHRTD)); /* no reverse half yet */
    CHECK_EQ_I64(r.tsrtd_ns, MS(20));
    r = PKT(.side = 0, .t = MS(25), .seq = 101, .ack = 901, .fl = A, .ts = true, .tsval = 2,
            .tsecr = 50);                                                              /* 3 */
    CHECK(has(&r, CM_HAS_TSRTD) && has(&r, CM_HAS_PATHRTD));
    CHECK_EQ_I64(r.tsrtd_ns, MS(5));
    CHECK_EQ_I64(r.pathrtd_ns, MS(25));
    CHECK_EQ_I64(r.pathrtd_frame, 2);
    CHECK_EQ_I64(r.minrtd_ns, MS(5)); /* pathrtd never enters minrtd */
    /* a packet without a half gets none and changes nothing */
    r = PKT(.side = 0, .t = MS(26), .seq = 101, .ack = 901, .fl = A, .ts = true, .tsval = 2,
            .tsecr = 50);                                                              /* 4 */
    CHECK(!has(&r, CM_HAS_PATHRTD));
    /* data from the client, acked by the server 30 ms later (seq half only:
     * the server's ACK carries no TS option) */
    PKT(.side = 0, .t = MS(30), .seq = 101, .ack = 901, .fl = A, .len = 100);          /* 5 */
    r = PKT(.side = 1, .t = MS(60), .seq = 901, .ack = 201, .fl = A);                   /* 6 */
    CHECK(has(&r, CM_HAS_SEQRTD) && !has(&r, CM_HAS_TSRTD));
    CHECK_EQ_I64(r.pathrtd_ns, MS(30) + MS(5)); /* paired with frame 3's half */
    CHECK_EQ_I64(r.pathrtd_frame, 3);
    /* R's half is not used up: another server half pairs with frame 3 too */
    PKT(.side = 0, .t = MS(61), .seq = 201, .ack = 901, .fl = A, .len = 100);          /* 7 */
    r = PKT(.side = 1, .t = MS(71), .seq = 901, .ack = 301, .fl = A);                   /* 8 */
    CHECK_EQ_I64(r.pathrtd_ns, MS(10) + MS(5));
    CHECK_EQ_I64(r.pathrtd_frame, 3);
    /* a reverse half older than rtd_max_age (by P's own time) is not used:
     * the boundary is inclusive */
    start(CM_TS_PURE_ACKS_CLOCKED, MS(100));
    PKT(.side = 1, .t = MS(0), .seq = 5000, .ack = 1000, .fl = A, .len = 100);         /* 1 */
    PKT(.side = 0, .t = MS(10), .seq = 1000, .ack = 5100, .fl = A, .len = 10);         /* 2: half 10 */
    PKT(.side = 1, .t = MS(15), .seq = 5100, .ack = 1010, .fl = A, .len = 100);        /* 3: half 5 */
    PKT(.side = 0, .t = MS(105), .seq = 1010, .ack = 5200, .fl = A, .len = 10);        /* 4: half 90 */
    r = PKT(.side = 1, .t = MS(115), .seq = 5200, .ack = 1020, .fl = A);                /* 5: half 10 */
    CHECK(has(&r, CM_HAS_SEQRTD));
    CHECK_EQ_I64(r.pathrtd_ns, MS(10) + MS(90));
    CHECK_EQ_I64(r.pathrtd_frame, 4);
    PKT(.side = 0, .t = MS(120), .seq = 1020, .ack = 5200, .fl = A, .len = 10);        /* 6 */
    r = PKT(.side = 1, .t = MS(216), .seq = 5200, .ack = 1030, .fl = A);                /* 7: 96 ms */
    CHECK(has(&r, CM_HAS_SEQRTD));
    CHECK(!has(&r, CM_HAS_PATHRTD)); /* frame 4's half is 111 ms old */
    PKT(.side = 0, .t = MS(316), .seq = 1030, .ack = 5200, .fl = A, .len = 1);         /* 8 */
    PKT(.side = 1, .t = MS(317), .seq = 5200, .ack = 1031, .fl = A);                    /* 9: half 1 */
    PKT(.side = 0, .t = MS(318), .seq = 1031, .ack = 5200, .fl = A, .len = 1);         /* 10 */
    r = PKT(.side = 1, .t = MS(417), .seq = 5200, .ack = 1032, .fl = A);                /* 11: 99 ms */
    CHECK(has(&r, CM_HAS_SEQRTD) && !has(&r, CM_HAS_PATHRTD)); /* frame 4's: 312 ms old */
    /* exactly rtd_max_age old: still paired */
    PKT(.side = 1, .t = MS(418), .seq = 5200, .ack = 1032, .fl = A, .len = 10);        /* 12 */
    r = PKT(.side = 0, .t = MS(517), .seq = 1032, .ack = 5210, .fl = A);                /* 13: 99 ms */
    CHECK(has(&r, CM_HAS_SEQRTD));
    CHECK_EQ_I64(r.pathrtd_ns, MS(99) + MS(99));
    CHECK_EQ_I64(r.pathrtd_frame, 11);
}

static void test_counters(void)
{
    start(CM_TS_PURE_ACKS_CLOCKED, MS(100));
    cm_engine_counters k;
    PKT(.side = 0, .t = MS(0), .seq = 1000, .ack = 5000, .fl = A, .len = 10);   /* entry end 1010 */
    PKT(.side = 0, .t = MS(1), .seq = 1010, .ack = 5000, .fl = A, .len = 10);   /* entry end 1020 */
    /* 200 ms later both are forgotten; the next record pops them */
    PKT(.side = 0, .t = MS(200), .seq = 1020, .ack = 5000, .fl = A, .len = 10);
    cm_engine_get_counters(eng, &k);
    CHECK_EQ_I64(k.entries_expired, 2);
    CHECK_EQ_I64(k.alloc_failures, 0);
    CHECK_EQ_I64(k.streams_forgotten, 0);
    cm_engine_forget_stream(eng, 1);
    cm_engine_forget_stream(eng, 1); /* not held: not counted again */
    cm_engine_get_counters(eng, &k);
    CHECK_EQ_I64(k.streams_forgotten, 1);
}

int main(void)
{
    RUN(test_handshake_syn_recorded);
    RUN(test_first_edge_floor);
    RUN(test_pure_ack_clocked_idle);
    RUN(test_pure_ack_clocked_in_flight);
    RUN(test_data_takes_over);
    RUN(test_none_mode_pure_ack_not_floor);
    RUN(test_ts_karn);
    RUN(test_ts_not_backwards_and_unknown_echo);
    RUN(test_max_age_boundary);
    RUN(test_max_age_uses_stream_tmax);
    RUN(test_forgotten_blocks_nothing);
    RUN(test_seq_cumulative_and_karn);
    RUN(test_fin_sequence_space);
    RUN(test_wraparound);
    RUN(test_seqgap_and_experts);
    RUN(test_behind_already_acked_and_keepalive);
    RUN(test_dupacks);
    RUN(test_dupack_ack_flag_off_moves_orig);
    RUN(test_dupack_sack_window_change);
    RUN(test_pathrtd);
    RUN(test_counters);
    RUN(test_zero_window_probe);
    RUN(test_minrtd_and_streams);
    RUN(test_many_pending_entries);
    cm_engine_free(eng);
    return check_summary("test_engine");
}
