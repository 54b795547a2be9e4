/* Unit tests of the command line's connection numbering (cli/conntrack.c):
 * what Wireshark's tcp.stream is for the plugin.
 *
 * Conventions: side 0 is the client 10.0.0.1:40000, side 1 the server
 * 10.0.0.2:80; times in ms.  Every packet is assigned and then analysed, so
 * that the engine holds state for the connection as in the command line.
 */
#include <string.h>

#include "check.h"
#include "connmon.h"
#include "conntrack.h"

#define MS(x) ((int64_t)(x) * 1000000)

enum { S = CM_TH_SYN, A = CM_TH_ACK, P = CM_TH_PSH };

static cm_engine *eng;
static conntrack *ct;
static uint32_t next_frame;

static void start_bounded(int64_t max_idle_ns, size_t max_flows)
{
    conntrack_free(ct);
    cm_engine_free(eng);
    cm_config cfg;
    cm_config_default(&cfg);
    eng = cm_engine_new(&cfg);
    ct = conntrack_new(eng, max_idle_ns, max_flows);
    CHECK(eng && ct);
    next_frame = 1;
}

static void start(int64_t max_idle_ns)
{
    start_bounded(max_idle_ns, 0);
}

typedef struct pk {
    int side;
    int64_t t;          /* ns */
    uint16_t fl;
    uint32_t seq, ack;
    uint16_t cport;     /* client port, 40000 unless given */
    uint8_t client;     /* last byte of the client's address, 1 unless given */
    bool v6;
} pk;

static cm_packet packet(pk k)
{
    cm_packet p;
    memset(&p, 0, sizeof p);
    p.t_ns = k.t;
    p.frame = next_frame++;
    cm_addr c = {.family = k.v6 ? 6 : 4}, s = c;
    c.bytes[0] = s.bytes[0] = 10;
    c.bytes[k.v6 ? 15 : 3] = k.client ? k.client : 1;
    s.bytes[k.v6 ? 15 : 3] = 2;
    p.src = k.side ? s : c;
    p.dst = k.side ? c : s;
    uint16_t cport = k.cport ? k.cport : 40000;
    p.sport = k.side ? 80 : cport;
    p.dport = k.side ? cport : 80;
    p.flags = k.fl;
    p.seq = k.seq;
    p.ack = k.ack;
    p.window = 1000;
    return p;
}

static conn *last_conn;
static cm_packet last_pkt;

/* The stream conntrack gives the packet. */
static uint32_t assign_pk(pk k)
{
    last_pkt = packet(k);
    cm_result r;
    CHECK(conntrack_assign(ct, &last_pkt, &last_conn));
    CHECK(cm_engine_analyse(eng, &last_pkt, &r));
    return last_pkt.stream;
}
#define ASSIGN(...) assign_pk((pk){__VA_ARGS__})

static void test_four_tuple_and_directions(void)
{
    start(0);
    uint32_t s0 = ASSIGN(.side = 0, .t = MS(0), .fl = S, .seq = 100);
    CHECK_EQ_I64(s0, 0);
    CHECK(strcmp(conntrack_label(ct, &last_pkt), "10.0.0.1:40000+10.0.0.2:80") == 0);
    CHECK_EQ_I64(ASSIGN(.side = 1, .t = MS(1), .fl = S | A, .seq = 500, .ack = 101), s0);
    CHECK(strcmp(conntrack_label(ct, &last_pkt), "10.0.0.2:80+10.0.0.1:40000") == 0);
    CHECK_EQ_I64(ASSIGN(.side = 0, .t = MS(2), .fl = A, .seq = 101, .ack = 501), s0);
    CHECK(strcmp(conntrack_label(ct, &last_pkt), "10.0.0.1:40000+10.0.0.2:80") == 0);
    /* another client port, another client address, IPv6 with the same
     * bytes: other connections, numbered in order of first sight */
    CHECK_EQ_I64(ASSIGN(.side = 0, .t = MS(3), .fl = A, .seq = 1, .cport = 40001), 1);
    CHECK_EQ_I64(ASSIGN(.side = 1, .t = MS(4), .fl = A, .seq = 1, .client = 3), 2);
    CHECK_EQ_I64(ASSIGN(.side = 0, .t = MS(5), .fl = A, .seq = 1, .v6 = true), 3);
    CHECK(strcmp(conntrack_label(ct, &last_pkt), "[a00::1]:40000+[a00::2]:80") == 0);
    /* and back to each */
    CHECK_EQ_I64(ASSIGN(.side = 1, .t = MS(6), .fl = A, .seq = 2, .cport = 40001), 1);
    CHECK_EQ_I64(ASSIGN(.side = 0, .t = MS(7), .fl = A, .seq = 2, .client = 3), 2);
    CHECK_EQ_I64(ASSIGN(.side = 1, .t = MS(8), .fl = A, .seq = 2, .v6 = true), 3);
    CHECK_EQ_I64(ASSIGN(.side = 1, .t = MS(9), .fl = A, .seq = 501, .ack = 101), s0);
    CHECK_EQ_I64(conntrack_count(ct), 4);
    CHECK_EQ_I64(cm_engine_stream_count(eng), 4);
}

static void test_port_reuse_syn_with_new_isn(void)
{
    start(0);
    CHECK_EQ_I64(ASSIGN(.side = 0, .t = MS(0), .fl = S, .seq = 100), 0);
    CHECK_EQ_I64(ASSIGN(.side = 1, .t = MS(1), .fl = S | A, .seq = 500, .ack = 101), 0);
    CHECK_EQ_I64(ASSIGN(.side = 0, .t = MS(2), .fl = A, .seq = 101, .ack = 501), 0);
    /* a retransmitted SYN (same ISN) stays */
    CHECK_EQ_I64(ASSIGN(.side = 0, .t = MS(3), .fl = S, .seq = 100), 0);
    /* a SYN with another ISN starts a new connection; the old one is gone,
     * here and in the engine */
    CHECK_EQ_I64(ASSIGN(.side = 0, .t = MS(4), .fl = S, .seq = 9000), 1);
    CHECK_EQ_I64(conntrack_count(ct), 1);
    CHECK_EQ_I64(cm_engine_stream_count(eng), 1);
    /* a new connection formats its labels afresh */
    CHECK(strcmp(conntrack_label(ct, &last_pkt), "10.0.0.1:40000+10.0.0.2:80") == 0);
    CHECK_EQ_I64(ASSIGN(.side = 1, .t = MS(5), .fl = S | A, .seq = 700, .ack = 9001), 1);
    /* a SYN-ACK is not a new connection, whatever its ISN */
    CHECK_EQ_I64(ASSIGN(.side = 1, .t = MS(6), .fl = S | A, .seq = 800, .ack = 9001), 1);
    /* the server's pure SYN with yet another ISN is */
    CHECK_EQ_I64(ASSIGN(.side = 1, .t = MS(7), .fl = S, .seq = 1234), 2);
    CHECK(strcmp(conntrack_label(ct, &last_pkt), "10.0.0.2:80+10.0.0.1:40000") == 0);
    conn_stats st = conntrack_stats(ct);
    CHECK_EQ_I64(st.expired_idle, 0);
}

/* A SYN-ACK with another ISN moves its direction's base: a later SYN with
 * that ISN continues the connection, one with the old ISN does not. */
static void test_synack_moves_base(void)
{
    start(0);
    CHECK_EQ_I64(ASSIGN(.side = 0, .t = MS(0), .fl = S, .seq = 100), 0);
    CHECK_EQ_I64(ASSIGN(.side = 1, .t = MS(1), .fl = S | A, .seq = 5000, .ack = 101), 0);
    CHECK_EQ_I64(ASSIGN(.side = 1, .t = MS(2), .fl = S | A, .seq = 7000, .ack = 101), 0);
    CHECK_EQ_I64(ASSIGN(.side = 1, .t = MS(3), .fl = S, .seq = 7000), 0);
    CHECK_EQ_I64(ASSIGN(.side = 1, .t = MS(4), .fl = S, .seq = 5000), 1);
}

/* Without a SYN, a direction's base is its first seq - 1, or the other
 * direction's ack - 1. */
static void test_base_from_mid_stream(void)
{
    start(0);
    CHECK_EQ_I64(ASSIGN(.side = 0, .t = MS(0), .fl = A, .seq = 101, .ack = 5001), 0);
    CHECK_EQ_I64(ASSIGN(.side = 0, .t = MS(1), .fl = S, .seq = 100), 0);
    CHECK_EQ_I64(ASSIGN(.side = 1, .t = MS(2), .fl = S, .seq = 5000), 0);
    CHECK_EQ_I64(ASSIGN(.side = 1, .t = MS(3), .fl = S, .seq = 5001), 1);
    /* the new connection: the server sent first, with a SYN */
    CHECK_EQ_I64(ASSIGN(.side = 1, .t = MS(4), .fl = S, .seq = 5001), 1);
    CHECK_EQ_I64(ASSIGN(.side = 0, .t = MS(5), .fl = S | A, .seq = 300, .ack = 5002), 1);
    CHECK_EQ_I64(ASSIGN(.side = 0, .t = MS(6), .fl = S, .seq = 300), 1);
    CHECK_EQ_I64(ASSIGN(.side = 0, .t = MS(7), .fl = S, .seq = 301), 2);
}

static void test_idle_expiry_on_next_packet(void)
{
    start(MS(1000));
    CHECK_EQ_I64(ASSIGN(.side = 0, .t = MS(0), .fl = A, .seq = 1), 0);
    /* exactly the limit is not idle yet */
    CHECK_EQ_I64(ASSIGN(.side = 1, .t = MS(1000), .fl = A, .seq = 1), 0);
    CHECK_EQ_I64(conntrack_stats(ct).expired_idle, 0);
    /* beyond it the connection is over: a new one, new engine state */
    CHECK_EQ_I64(ASSIGN(.side = 1, .t = MS(2000) + 1, .fl = A, .seq = 2), 1);
    CHECK_EQ_I64(conntrack_stats(ct).expired_idle, 1);
    CHECK_EQ_I64(conntrack_count(ct), 1);
    CHECK_EQ_I64(cm_engine_stream_count(eng), 1);
    CHECK(strcmp(conntrack_label(ct, &last_pkt), "10.0.0.2:80+10.0.0.1:40000") == 0);
}

static void test_idle_sweep_drops_engine_state(void)
{
    start(MS(1000));
    for (uint16_t i = 0; i < 10; i++)
        ASSIGN(.side = 0, .t = MS(i * 100), .fl = A, .seq = 1, .cport = (uint16_t)(40000 + i));
    CHECK_EQ_I64(conntrack_count(ct), 10);
    CHECK_EQ_I64(cm_engine_stream_count(eng), 10);
    /* at 1.45 s the connections last seen at 0.0-0.4 s are idle */
    conntrack_expire(ct, MS(1450));
    CHECK_EQ_I64(conntrack_count(ct), 5);
    CHECK_EQ_I64(cm_engine_stream_count(eng), 5);
    CHECK_EQ_I64(conntrack_stats(ct).expired_idle, 5);
    /* a remaining one keeps its number, an expired one gets a new one */
    CHECK_EQ_I64(ASSIGN(.side = 1, .t = MS(1460), .fl = A, .seq = 1, .cport = 40009), 9);
    CHECK_EQ_I64(ASSIGN(.side = 1, .t = MS(1460), .fl = A, .seq = 1, .cport = 40000), 10);
    conntrack_expire(ct, MS(100000));
    CHECK_EQ_I64(conntrack_count(ct), 0);
    CHECK_EQ_I64(cm_engine_stream_count(eng), 0);
    CHECK_EQ_I64(conntrack_stats(ct).expired_idle, 11);
}

static void test_never_expire(void)
{
    start(0);
    CHECK_EQ_I64(ASSIGN(.side = 0, .t = MS(0), .fl = A, .seq = 1), 0);
    conntrack_expire(ct, MS(1000000000));
    CHECK_EQ_I64(conntrack_count(ct), 1);
    CHECK_EQ_I64(ASSIGN(.side = 1, .t = MS(1000000000), .fl = A, .seq = 1), 0);
    CHECK_EQ_I64(conntrack_stats(ct).expired_idle, 0);
}

static void test_stats_flows_and_one_way(void)
{
    start(MS(1000));
    conn_stats st = conntrack_stats(ct);
    CHECK_EQ_I64(st.tally.flows, 0);
    CHECK_EQ_I64(st.tally.one_way, 0);
    ASSIGN(.side = 0, .t = MS(0), .fl = S, .seq = 100);
    ASSIGN(.side = 0, .t = MS(1), .fl = S, .seq = 100);
    st = conntrack_stats(ct);
    CHECK_EQ_I64(st.tally.flows, 1);
    CHECK_EQ_I64(st.tally.one_way, 1);
    ASSIGN(.side = 1, .t = MS(2), .fl = S | A, .seq = 500, .ack = 101);
    st = conntrack_stats(ct);
    CHECK_EQ_I64(st.tally.flows, 2);
    CHECK_EQ_I64(st.tally.one_way, 0);
    /* another connection seen one way only */
    ASSIGN(.side = 1, .t = MS(3), .fl = A, .seq = 1, .cport = 40001);
    st = conntrack_stats(ct);
    CHECK_EQ_I64(st.tally.flows, 3);
    CHECK_EQ_I64(st.tally.one_way, 1);
    /* expired connections stay counted; their successors count anew */
    conntrack_expire(ct, MS(5000));
    ASSIGN(.side = 0, .t = MS(5001), .fl = A, .seq = 1);
    st = conntrack_stats(ct);
    CHECK_EQ_I64(st.tally.flows, 4);
    CHECK_EQ_I64(st.tally.one_way, 2);
    CHECK_EQ_I64(st.expired_idle, 2);
    /* a reused port pair likewise */
    ASSIGN(.side = 1, .t = MS(5002), .fl = A, .seq = 1);
    ASSIGN(.side = 0, .t = MS(5003), .fl = S, .seq = 77);
    ASSIGN(.side = 0, .t = MS(5004), .fl = S, .seq = 88);
    st = conntrack_stats(ct);
    CHECK_EQ_I64(st.tally.flows, 7);
    CHECK_EQ_I64(st.tally.one_way, 3);
}

/* More connections than the table's first buckets, both directions of each
 * found again (the hash is symmetric, growing keeps every connection). */
static void test_many_connections(void)
{
    start(0);
    enum { N = 5000 };
    for (uint32_t i = 0; i < N; i++) {
        pk k = {.side = (int)(i % 2), .t = MS(i), .fl = A, .seq = 1,
                .cport = (uint16_t)(1024 + i % 1000), .client = (uint8_t)(i / 1000 + 1),
                .v6 = i % 3 == 0};
        CHECK_EQ_I64(assign_pk(k), i);
    }
    CHECK_EQ_I64(conntrack_count(ct), N);
    int wrong = 0;
    for (uint32_t i = 0; i < N; i++) {
        pk k = {.side = (int)(1 - i % 2), .t = MS(N + i), .fl = A, .seq = 2,
                .cport = (uint16_t)(1024 + i % 1000), .client = (uint8_t)(i / 1000 + 1),
                .v6 = i % 3 == 0};
        wrong += assign_pk(k) != i;
    }
    CHECK_EQ_I64(wrong, 0);
    CHECK_EQ_I64(conntrack_count(ct), N);
    conn_stats st = conntrack_stats(ct);
    CHECK_EQ_I64(st.tally.flows, 2 * N);
    CHECK_EQ_I64(st.tally.one_way, 0);
}

static void test_max_flows_evicts_least_recent(void)
{
    start_bounded(0, 3);
    uint32_t a = ASSIGN(.t = MS(0), .fl = S, .seq = 1, .cport = 1001);
    uint32_t b = ASSIGN(.t = MS(1), .fl = S, .seq = 1, .cport = 1002);
    uint32_t c = ASSIGN(.t = MS(2), .fl = S, .seq = 1, .cport = 1003);
    CHECK_EQ_I64(conntrack_count(ct), 3);
    /* a is seen again: b is now the least recent */
    CHECK_EQ_I64(ASSIGN(.side = 1, .t = MS(3), .fl = S | A, .seq = 9, .ack = 2, .cport = 1001), a);
    uint32_t d = ASSIGN(.t = MS(4), .fl = S, .seq = 1, .cport = 1004);
    CHECK_EQ_I64(conntrack_count(ct), 3);
    CHECK_EQ_I64(cm_engine_stream_count(eng), 3); /* b's engine state went too */
    CHECK_EQ_I64(conntrack_stats(ct).evicted, 1);
    CHECK_EQ_I64(conntrack_stats(ct).expired_idle, 0);
    /* a and c kept their streams; b comes back as a new connection */
    CHECK_EQ_I64(ASSIGN(.t = MS(5), .fl = A, .seq = 2, .ack = 10, .cport = 1001), a);
    CHECK_EQ_I64(ASSIGN(.t = MS(6), .fl = A, .seq = 2, .cport = 1003), c);
    uint32_t b2 = ASSIGN(.t = MS(7), .fl = A, .seq = 2, .cport = 1002);
    CHECK(b2 != b && b2 > d);
    CHECK_EQ_I64(conntrack_stats(ct).evicted, 2); /* d was the least recent */
    CHECK_EQ_I64(conntrack_count(ct), 3);
    /* the bound holds as the input grows */
    for (int i = 0; i < 1000; i++)
        ASSIGN(.t = MS(10 + i), .fl = S, .seq = 1, .cport = (uint16_t)(2000 + i));
    CHECK_EQ_I64(conntrack_count(ct), 3);
    CHECK_EQ_I64(cm_engine_stream_count(eng), 3);
    CHECK_EQ_I64(conntrack_stats(ct).evicted, 1002);
}

int main(void)
{
    RUN(test_four_tuple_and_directions);
    RUN(test_port_reuse_syn_with_new_isn);
    RUN(test_synack_moves_base);
    RUN(test_base_from_mid_stream);
    RUN(test_idle_expiry_on_next_packet);
    RUN(test_idle_sweep_drops_engine_state);
    RUN(test_never_expire);
    RUN(test_stats_flows_and_one_way);
    RUN(test_many_connections);
    RUN(test_max_flows_evicts_least_recent);
    conntrack_free(ct);
    cm_engine_free(eng);
    return check_summary("test_cli_conntrack");
}
