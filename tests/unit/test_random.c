/* Robustness: random and mutated input to the TCP decoder and the engine
 * (deterministic PRNG).  Nothing may crash or read out of bounds (run under
 * AddressSanitizer by scripts/test.sh), and the results keep their
 * invariants whatever the input. */
#include <string.h>

#include "check.h"
#include "connmon.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

static void test_decoder_random_bytes(void)
{
    uint8_t buf[80];
    for (int i = 0; i < 200000; i++) {
        size_t cap = rnd() % 70;
        for (size_t k = 0; k < cap; k++)
            buf[k] = (uint8_t)rnd();
        if (cap > 12 && rnd() % 2)
            buf[12] = (uint8_t)((5 + rnd() % 11) << 4); /* plausible offsets */
        cm_tcp_header h;
        /* exactly `cap` bytes readable: copy to a heap buffer ASan guards */
        uint8_t *p = malloc(cap ? cap : 1);
        memcpy(p, buf, cap);
        cm_tcp_status st = cm_tcp_decode(p, cap, rnd() % 3000, &h);
        free(p);
        if (st == CM_TCP_OK) {
            CHECK(cap >= 16);
            CHECK(h.header_len >= 20 && h.header_len <= 60);
        }
    }
}

/* A few connections with packets whose fields are drawn around a moving
 * "true" state, so matches, retransmissions and odd values all happen.
 * The same packets also go through engines that pack idle connections
 * after every packet and after 3 ms: packing must never change a result. */
static void test_engine_random_traffic(void)
{
    for (int mode = 0; mode < 3; mode++) {
        cm_config cfg;
        cm_config_default(&cfg);
        cfg.ts_pure_acks = (cm_ts_pure_acks)mode;
        cfg.rtd_max_age_ns = (int64_t)(rnd() % 3) * 500000000;
        cfg.pack_idle_ns = -1;
        cm_engine *eng = cm_engine_new(&cfg);
        cm_engine *packing[2];
        cfg.pack_idle_ns = 0;
        packing[0] = cm_engine_new(&cfg);
        cfg.pack_idle_ns = 3000000;
        packing[1] = cm_engine_new(&cfg);
        uint32_t seq[8][2], ts[8][2];
        for (int c = 0; c < 8; c++)
            for (int d = 0; d < 2; d++)
                seq[c][d] = rnd(), ts[c][d] = rnd();
        int64_t t = 1000000000;
        int64_t minrtd[8][2];
        bool min_set[8][2];
        memset(min_set, 0, sizeof min_set);
        for (uint32_t frame = 1; frame <= 300000; frame++) {
            int c = (int)(rnd() % 8), d = (int)(rnd() % 2);
            cm_packet p;
            memset(&p, 0, sizeof p);
            t += (int64_t)(rnd() % 2000000) - (rnd() % 50 == 0 ? 3000000 : 0);
            p.t_ns = t;
            p.frame = frame;
            p.stream = (uint32_t)c + (rnd() % 1000 == 0 ? 100 : 0);
            p.src.family = p.dst.family = (c % 2) ? 6 : 4;
            p.src.bytes[0] = (uint8_t)(d + 1);
            p.dst.bytes[0] = (uint8_t)(2 - d);
            p.sport = d ? 80 : 40000;
            p.dport = d ? 40000 : 80;
            uint32_t r = rnd();
            p.payload = (r % 3 == 0) ? 0 : (r % 5 == 0 ? 1 : 1448);
            p.flags = (uint16_t)(CM_TH_ACK | (rnd() % 40 == 0 ? CM_TH_SYN : 0) |
                                 (rnd() % 60 == 0 ? CM_TH_FIN : 0) |
                                 (rnd() % 200 == 0 ? CM_TH_RST : 0));
            if (rnd() % 50 == 0)
                p.flags &= (uint16_t)~CM_TH_ACK;
            p.seq = seq[c][d] - (rnd() % 10 == 0 ? 1448u * (rnd() % 4) : 0);
            p.ack = seq[c][!d] - 1448u * (rnd() % 3);
            p.window = (uint16_t)(rnd() % 10 == 0 ? 0 : 1000 + rnd() % 2);
            p.has_ts = rnd() % 8 != 0;
            p.tsval = ts[c][d] + (rnd() % 4 == 0 ? (uint32_t)rnd() % 3 : 0);
            p.tsecr = ts[c][!d] - rnd() % 3;
            if (rnd() % 500 == 0)
                p.seq = rnd(), p.ack = rnd(), p.tsval = rnd(), p.tsecr = rnd();
            seq[c][d] += p.payload + ((p.flags & CM_TH_SYN) ? 1 : 0);
            if (rnd() % 3 == 0)
                ts[c][d]++;

            cm_result res;
            CHECK(cm_engine_analyse(eng, &p, &res));
            CHECK(res.payload == p.payload);
            for (int k = 0; k < 2; k++) {
                cm_result packed_res;
                CHECK(cm_engine_analyse(packing[k], &p, &packed_res));
                CHECK(memcmp(&packed_res, &res, sizeof res) == 0);
            }
            if (res.present & CM_HAS_TSRTD)
                CHECK(res.tsrtd_ns >= 0 && res.tsrtd_frame < frame);
            if (res.present & CM_HAS_SEQRTD)
                CHECK(res.seqrtd_ns >= 0 && res.seqrtd_frame < frame);
            if (res.present & (CM_HAS_TSRTD | CM_HAS_SEQRTD)) {
                CHECK(res.present & CM_HAS_MINRTD);
                if (res.present & CM_HAS_TSRTD)
                    CHECK(res.minrtd_ns <= res.tsrtd_ns);
                if (res.present & CM_HAS_SEQRTD)
                    CHECK(res.minrtd_ns <= res.seqrtd_ns);
                int dir = res.direction;
                if (p.stream < 8 && min_set[c][dir])
                    CHECK(res.minrtd_ns <= minrtd[c][dir]);
                if (p.stream < 8) {
                    minrtd[c][dir] = res.minrtd_ns;
                    min_set[c][dir] = true;
                }
            } else {
                CHECK(!(res.present & CM_HAS_MINRTD));
            }
            if (res.present & CM_HAS_DUPACK)
                CHECK(res.dupack_num >= 1 && res.dupack_frame < frame &&
                      (res.expert & CM_EXPERT_DUPACK));
            if (res.expert & CM_EXPERT_HOLE)
                CHECK((res.present & CM_HAS_SEQGAP) && res.seqgap > 0);
            if (rnd() % 20000 == 0) {
                cm_engine_forget_stream(eng, p.stream);
                cm_engine_forget_stream(packing[0], p.stream);
                cm_engine_forget_stream(packing[1], p.stream);
                if (p.stream < 8) /* fresh state: a new minimum */
                    min_set[c][0] = min_set[c][1] = false;
            }
        }
        cm_engine_counters want, got;
        cm_engine_get_counters(eng, &want);
        for (int k = 0; k < 2; k++) {
            cm_engine_get_counters(packing[k], &got);
            CHECK(want.alloc_failures == got.alloc_failures);
            CHECK(want.entries_expired == got.entries_expired);
            CHECK(want.streams_forgotten == got.streams_forgotten);
            CHECK(want.conns_packed == 0 && got.conns_packed > 0);
            CHECK(got.conns_unpacked > 0 && got.conns_unpacked <= got.conns_packed);
            CHECK(cm_engine_stream_count(packing[k]) == cm_engine_stream_count(eng));
            cm_engine_free(packing[k]);
        }
        cm_engine_free(eng);
    }
}

int main(void)
{
    RUN(test_decoder_random_bytes);
    RUN(test_engine_random_traffic);
    return check_summary("test_random");
}
