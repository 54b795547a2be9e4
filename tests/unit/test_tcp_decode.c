/* Unit tests of TCP header decoding (engine/tcp_decode.c) and flow labels
 * (engine/flow_label.c). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "connmon.h"

/* A 20-byte header + options + payload, built by hand. */
static size_t tcp_bytes(uint8_t *b, uint8_t data_offset_words, const uint8_t *opts, size_t optlen)
{
    memset(b, 0, 80);
    b[0] = 0x9c; b[1] = 0x40;                       /* sport 40000 */
    b[2] = 0x00; b[3] = 0x50;                       /* dport 80 */
    b[4] = 0x11; b[5] = 0x22; b[6] = 0x33; b[7] = 0x44; /* seq */
    b[8] = 0xaa; b[9] = 0xbb; b[10] = 0xcc; b[11] = 0xdd; /* ack */
    b[12] = (uint8_t)(data_offset_words << 4) | 0x01; /* AE bit */
    b[13] = 0x18;                                   /* PSH ACK */
    b[14] = 0x01; b[15] = 0xf5;                     /* window 501 */
    if (optlen)
        memcpy(b + 20, opts, optlen); /* opts may be NULL when empty */
    return 20 + optlen;
}

static const uint8_t TS_OPT[] = {1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9};

static void test_plain_header(void)
{
    uint8_t b[80];
    cm_tcp_header h;
    size_t n = tcp_bytes(b, 8, TS_OPT, sizeof TS_OPT);
    CHECK(cm_tcp_decode(b, n, n + 100, &h) == CM_TCP_OK);
    CHECK_EQ_I64(h.sport, 40000);
    CHECK_EQ_I64(h.dport, 80);
    CHECK_EQ_I64(h.seq, 0x11223344u);
    CHECK_EQ_I64(h.ack, 0xaabbccddu);
    CHECK_EQ_I64(h.flags, 0x118);
    CHECK_EQ_I64(h.window, 501);
    CHECK_EQ_I64(h.header_len, 32);
    CHECK_EQ_I64(h.payload, 100);
    CHECK(h.has_ts);
    CHECK_EQ_I64(h.tsval, 7);
    CHECK_EQ_I64(h.tsecr, 9);
}

static void test_bad_headers(void)
{
    uint8_t b[80];
    cm_tcp_header h;
    size_t n = tcp_bytes(b, 5, NULL, 0);
    CHECK(cm_tcp_decode(b, 15, 40, &h) == CM_TCP_TRUNCATED);
    CHECK(cm_tcp_decode(b, 16, 40, &h) == CM_TCP_OK); /* Wireshark still gives the fields */
    CHECK_EQ_I64(h.payload, 20);
    n = tcp_bytes(b, 4, NULL, 0);
    CHECK(cm_tcp_decode(b, n, n, &h) == CM_TCP_BAD_OFFSET);
    n = tcp_bytes(b, 8, TS_OPT, sizeof TS_OPT);
    CHECK(cm_tcp_decode(b, n, 31, &h) == CM_TCP_SHORT_SEGMENT);
    CHECK(cm_tcp_decode(b, n, 32, &h) == CM_TCP_OK);
    CHECK_EQ_I64(h.payload, 0);
}

static void test_options_cut_and_malformed(void)
{
    uint8_t b[80];
    cm_tcp_header h;
    size_t n = tcp_bytes(b, 8, TS_OPT, sizeof TS_OPT);
    /* cut inside the TS option: analysed, TS absent */
    for (size_t cut = 20; cut < n; cut++) {
        CHECK(cm_tcp_decode(b, cut, n, &h) == CM_TCP_OK);
        CHECK(!h.has_ts);
    }
    CHECK(cm_tcp_decode(b, n, n, &h) == CM_TCP_OK && h.has_ts);

    /* two TS options: the last counts */
    const uint8_t two[] = {8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 8, 10, 0, 0, 0, 3, 0, 0, 0, 4};
    n = tcp_bytes(b, 10, two, sizeof two);
    CHECK(cm_tcp_decode(b, n, n, &h) == CM_TCP_OK && h.has_ts);
    CHECK_EQ_I64(h.tsval, 3);
    CHECK_EQ_I64(h.tsecr, 4);
    /* the second one cut: the first counts */
    CHECK(cm_tcp_decode(b, n - 1, n, &h) == CM_TCP_OK && h.has_ts);
    CHECK_EQ_I64(h.tsval, 1);

    /* TS option with a wrong length is not a TS option */
    const uint8_t badlen[] = {8, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0};
    n = tcp_bytes(b, 8, badlen, sizeof badlen);
    CHECK(cm_tcp_decode(b, n, n, &h) == CM_TCP_OK && !h.has_ts);

    /* a too-short option length stops the walk before the TS option */
    const uint8_t shortlen[] = {3, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};
    n = tcp_bytes(b, 8, shortlen, sizeof shortlen);
    CHECK(cm_tcp_decode(b, n, n, &h) == CM_TCP_OK && !h.has_ts);

    /* an option running past the header stops the walk */
    const uint8_t past[] = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};
    n = tcp_bytes(b, 7, past, sizeof past); /* header says 28 bytes */
    CHECK(cm_tcp_decode(b, 32, 40, &h) == CM_TCP_OK && !h.has_ts);

    /* EOL then zero padding is fine; EOL then junk ends the walk */
    const uint8_t eolpad[] = {8, 10, 0, 0, 0, 5, 0, 0, 0, 6, 0, 0};
    n = tcp_bytes(b, 8, eolpad, sizeof eolpad);
    CHECK(cm_tcp_decode(b, n, n, &h) == CM_TCP_OK && h.has_ts && h.tsval == 5);
    const uint8_t eoljunk[] = {0, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6};
    n = tcp_bytes(b, 8, eoljunk, sizeof eoljunk);
    CHECK(cm_tcp_decode(b, n, n, &h) == CM_TCP_OK && !h.has_ts);

    /* every byte value in the options, every cut: never reads past `captured` */
    for (int v = 0; v < 256; v++) {
        uint8_t opts[40];
        memset(opts, v, sizeof opts);
        n = tcp_bytes(b, 15, opts, sizeof opts);
        for (size_t cut = 16; cut <= n; cut++)
            CHECK(cm_tcp_decode(b, cut, n, &h) == CM_TCP_OK);
    }
}

/* SACK blocks (RFC 2018): kind 5, 8 bytes per block.  Like Wireshark, a
 * block counts once its left edge is captured, whatever follows. */
static void test_sack_flag(void)
{
    uint8_t b[80];
    cm_tcp_header h;
    const uint8_t sack[] = {1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2};
    size_t n = tcp_bytes(b, 8, sack, sizeof sack); /* option at 22 */
    CHECK(cm_tcp_decode(b, n, n, &h) == CM_TCP_OK && h.has_sack && !h.has_ts);
    /* the left edge is bytes 24..27: captured up to 28 is enough */
    CHECK(cm_tcp_decode(b, 28, n, &h) == CM_TCP_OK && h.has_sack);
    for (size_t cut = 16; cut < 28; cut++) {
        CHECK(cm_tcp_decode(b, cut, n, &h) == CM_TCP_OK);
        CHECK(!h.has_sack);
    }

    /* lengths 2..5 hold no left edge; 6 holds one (a malformed block that
     * Wireshark still reads the edge of) */
    for (uint8_t olen = 2; olen <= 6; olen++) {
        const uint8_t opt[] = {5, olen, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1};
        n = tcp_bytes(b, 8, opt, sizeof opt);
        CHECK(cm_tcp_decode(b, n, n, &h) == CM_TCP_OK);
        CHECK(h.has_sack == (olen >= 6));
    }

    /* SACK and TS together, three blocks (40 bytes of options) */
    uint8_t both[40] = {1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9, 1, 1, 5, 26};
    n = tcp_bytes(b, 15, both, sizeof both);
    CHECK(cm_tcp_decode(b, n, n, &h) == CM_TCP_OK && h.has_sack && h.has_ts);
    CHECK_EQ_I64(h.tsval, 7);

    /* not a SACK: SACK-permitted (kind 4), a block running past the header,
     * a block after EOL, a walk stopped by a bad length before it */
    const uint8_t permitted[] = {4, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    n = tcp_bytes(b, 8, permitted, sizeof permitted);
    CHECK(cm_tcp_decode(b, n, n, &h) == CM_TCP_OK && !h.has_sack);
    const uint8_t past[] = {1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2};
    tcp_bytes(b, 7, past, sizeof past); /* header says 28 bytes, option ends at 32 */
    CHECK(cm_tcp_decode(b, 32, 40, &h) == CM_TCP_OK && !h.has_sack);
    const uint8_t after_eol[] = {0, 0, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2};
    n = tcp_bytes(b, 8, after_eol, sizeof after_eol);
    CHECK(cm_tcp_decode(b, n, n, &h) == CM_TCP_OK && !h.has_sack);
    const uint8_t bad_before[] = {3, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2};
    n = tcp_bytes(b, 8, bad_before, sizeof bad_before);
    CHECK(cm_tcp_decode(b, n, n, &h) == CM_TCP_OK && !h.has_sack);
}

static void test_packet_set_tcp(void)
{
    uint8_t b[80];
    cm_tcp_header h;
    uint8_t opts[20] = {1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9, 1, 1, 5, 6, 0, 0, 0, 3};
    size_t n = tcp_bytes(b, 10, opts, sizeof opts);
    CHECK(cm_tcp_decode(b, n, n + 5, &h) == CM_TCP_OK);
    cm_packet p;
    memset(&p, 0, sizeof p);
    p.frame = 17;
    p.src.family = 4;
    cm_packet_set_tcp(&p, &h);
    CHECK_EQ_I64(p.sport, 40000);
    CHECK_EQ_I64(p.dport, 80);
    CHECK_EQ_I64(p.seq, 0x11223344u);
    CHECK_EQ_I64(p.ack, 0xaabbccddu);
    CHECK_EQ_I64(p.flags, 0x118);
    CHECK_EQ_I64(p.window, 501);
    CHECK_EQ_I64(p.payload, 5);
    CHECK(p.has_ts && p.has_sack);
    CHECK_EQ_I64(p.tsval, 7);
    CHECK_EQ_I64(p.tsecr, 9);
    /* the front end's facts stay */
    CHECK_EQ_I64(p.frame, 17);
    CHECK_EQ_I64(p.src.family, 4);
}

static void test_flow_label(void)
{
    cm_packet p;
    memset(&p, 0, sizeof p);
    char buf[CM_FLOW_LABEL_MAX];
    p.src.family = p.dst.family = 4;
    memcpy(p.src.bytes, (uint8_t[]){192, 0, 2, 1}, 4);
    memcpy(p.dst.bytes, (uint8_t[]){198, 51, 100, 7}, 4);
    p.sport = 443;
    p.dport = 50000;
    cm_format_flow(buf, sizeof buf, &p);
    CHECK(strcmp(buf, "192.0.2.1:443+198.51.100.7:50000") == 0);
    p.src.family = p.dst.family = 6;
    memcpy(p.src.bytes, (uint8_t[]){0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 16);
    memcpy(p.dst.bytes, (uint8_t[]){0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, 16);
    cm_format_flow(buf, sizeof buf, &p);
    CHECK(strcmp(buf, "[2001:db8::1]:443+[2001:db8::2]:50000") == 0);

}

/* The label as inet_ntop and snprintf make it (what cm_format_flow did
 * before it wrote IPv4 digits itself). */
static void reference_label(char *buf, size_t size, const cm_packet *p)
{
    char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
    int af = p->src.family == 6 ? AF_INET6 : AF_INET;
    inet_ntop(af, p->src.bytes, s, sizeof s);
    inet_ntop(af, p->dst.bytes, d, sizeof d);
    if (af == AF_INET6)
        snprintf(buf, size, "[%s]:%u+[%s]:%u", s, p->sport, d, p->dport);
    else
        snprintf(buf, size, "%s:%u+%s:%u", s, p->sport, d, p->dport);
}

static void test_flow_label_random(void)
{
    uint64_t x = 0x2545F4914F6CDD1Dull;
    for (int i = 0; i < 20000; i++) {
        cm_packet p;
        memset(&p, 0, sizeof p);
        p.src.family = p.dst.family = (uint8_t)(i % 3 == 0 ? 6 : 4);
        for (int k = 0; k < 16; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            /* small and zero bytes often, to get short numbers and :: */
            uint8_t b = (uint8_t)(x % 4 == 0 ? 0 : x % 4 == 1 ? (x >> 8) % 10 : x >> 16);
            p.src.bytes[k] = b;
            p.dst.bytes[15 - k] = (uint8_t)(b * 7);
        }
        p.sport = (uint16_t)(i % 5 == 0 ? (uint64_t)(i % 10) : x >> 24);
        p.dport = (uint16_t)(i % 7 == 0 ? 65535 : x >> 40);
        char got[CM_FLOW_LABEL_MAX], want[CM_FLOW_LABEL_MAX];
        size_t n = cm_format_flow(got, sizeof got, &p);
        reference_label(want, sizeof want, &p);
        CHECK(strcmp(got, want) == 0);
        CHECK_EQ_I64(n, strlen(want));
        if (strcmp(got, want) != 0) {
            fprintf(stderr, "  got %s, want %s\n", got, want);
            break;
        }
        /* cut short as snprintf cuts */
        size_t size = (size_t)(x >> 50) % (strlen(want) + 2);
        char cut[CM_FLOW_LABEL_MAX] = "untouched", cut_want[CM_FLOW_LABEL_MAX] = "untouched";
        n = cm_format_flow(cut, size, &p);
        reference_label(cut_want, size, &p);
        CHECK(strcmp(cut, cut_want) == 0);
        CHECK_EQ_I64(n, size ? strlen(cut_want) : 0);
    }
}

int main(void)
{
    RUN(test_plain_header);
    RUN(test_bad_headers);
    RUN(test_options_cut_and_malformed);
    RUN(test_sack_flag);
    RUN(test_packet_set_tcp);
    RUN(test_flow_label_random);
    RUN(test_flow_label);
    return check_summary("test_tcp_decode");
}
