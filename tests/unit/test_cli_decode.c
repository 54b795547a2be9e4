/* Unit tests of the command line's link-layer decoding (cli/decode_frame.c):
 * every supported link type and encapsulation, built byte by byte.
 *
 * Conventions: the TCP segment is 10.0.0.1:40000 -> 10.0.0.2:80 (IPv6:
 * 2001:db8::1 -> 2001:db8::2), seq 0x11223344, ack 0x55667788, PSH ACK,
 * window 0x1000, a timestamp option (TSval 7, TSecr 9), 100 payload bytes.
 * Headers are wrapped around it from the inside out: eth(ETH_VLAN,
 * vlan(ETH_IPV4, ipv4(IP_TCP, tcp()))).
 */
#include <string.h>

#include "check.h"
#include "connmon.h"
#include "decode_frame.h"

enum {
    ETH_IPV4 = 0x0800, ETH_ARP = 0x0806, ETH_VLAN = 0x8100, ETH_IPV6 = 0x86dd,
    ETH_QINQ = 0x88a8, ETH_QINQ_OLD = 0x9100, ETH_MPLS = 0x8847, ETH_MPLS_MC = 0x8848,
    ETH_PPPOE = 0x8864,
};
enum {
    IP_HOPOPTS = 0, IP_ICMP = 1, IP_IPIP = 4, IP_TCP = 6, IP_IPV6 = 41, IP_ROUTING = 43,
    IP_FRAGMENT = 44, IP_AH = 51, IP_ICMPV6 = 58, IP_DSTOPTS = 60,
};
#define PAYLOAD 100

typedef struct bytes {
    uint8_t b[1024];
    size_t n;
} bytes;

/* header followed by inner */
static bytes wrap(const uint8_t *header, size_t hlen, const bytes *inner)
{
    bytes out;
    memcpy(out.b, header, hlen);
    memcpy(out.b + hlen, inner->b, inner->n);
    out.n = hlen + inner->n;
    return out;
}

#define HI(x) (uint8_t)((x) >> 8)
#define LO(x) (uint8_t)(x)

static bytes tcp(void)
{
    bytes s = {.n = 32 + PAYLOAD};
    const uint8_t h[32] = {
        0x9c, 0x40, 0x00, 0x50,             /* ports 40000 -> 80 */
        0x11, 0x22, 0x33, 0x44,             /* seq */
        0x55, 0x66, 0x77, 0x88,             /* ack */
        0x80, 0x18, 0x10, 0x00,             /* 8 words, PSH ACK, window */
        0x00, 0x00, 0x00, 0x00,             /* checksum, urgent pointer */
        1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9 /* NOP NOP TS 7 9 */
    };
    memset(s.b, 0xab, s.n);
    memcpy(s.b, h, sizeof h);
    return s;
}

static bytes ipv4_from(uint8_t proto, const bytes *in, uint8_t last_src, uint8_t last_dst)
{
    size_t total = 20 + in->n;
    const uint8_t h[20] = {0x45, 0, HI(total), LO(total), 0x12, 0x34, 0x40, 0x00 /* DF */,
                           64, proto, 0, 0, 10, 0, 0, last_src, 10, 0, 0, last_dst};
    return wrap(h, sizeof h, in);
}

static bytes ipv4(uint8_t proto, const bytes *in) { return ipv4_from(proto, in, 1, 2); }

static bytes ipv6(uint8_t next, const bytes *in)
{
    const uint8_t h[40] = {0x60, 0, 0, 0, HI(in->n), LO(in->n), next, 64,
                           0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
                           0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    return wrap(h, sizeof h, in);
}

/* An IPv6 extension header of 8 * (1 + len8) bytes, len8 <= 2 (hop-by-hop,
 * routing, destination options). */
static bytes ext8(uint8_t next, uint8_t len8, const bytes *in)
{
    uint8_t h[24] = {next, len8};
    return wrap(h, 8 * (1 + (size_t)(len8 % 3)), in);
}

static bytes eth(uint16_t type, const bytes *in)
{
    const uint8_t h[14] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, HI(type), LO(type)};
    return wrap(h, sizeof h, in);
}

static bytes vlan(uint16_t type, const bytes *in)
{
    const uint8_t h[4] = {0x00, 0x64 /* VLAN 100 */, HI(type), LO(type)};
    return wrap(h, sizeof h, in);
}

static bytes mpls(uint32_t label, bool bottom, const bytes *in)
{
    const uint8_t h[4] = {(uint8_t)(label >> 12), (uint8_t)(label >> 4),
                          (uint8_t)((label & 0xf) << 4 | (bottom ? 1 : 0)), 64};
    return wrap(h, sizeof h, in);
}

static bytes pppoe(uint16_t ppp_proto, const bytes *in)
{
    size_t len = in->n + 2;
    const uint8_t h[8] = {0x11, 0x00, 0x12, 0x34 /* session */, HI(len), LO(len),
                          HI(ppp_proto), LO(ppp_proto)};
    return wrap(h, sizeof h, in);
}

static frame_kind decode(int dlt, const bytes *f, cm_packet *pkt)
{
    memset(pkt, 0, sizeof *pkt);
    return decode_frame(dlt, f->b, f->n, f->n, pkt);
}

/* The conventional segment over IPv4 or IPv6 (family 4 or 6). */
static void check_segment(const cm_packet *p, int family)
{
    CHECK_EQ_I64(p->sport, 40000);
    CHECK_EQ_I64(p->dport, 80);
    CHECK_EQ_I64(p->seq, 0x11223344u);
    CHECK_EQ_I64(p->ack, 0x55667788u);
    CHECK_EQ_I64(p->flags, CM_TH_PSH | CM_TH_ACK);
    CHECK_EQ_I64(p->window, 0x1000);
    CHECK_EQ_I64(p->payload, PAYLOAD);
    CHECK(p->has_ts);
    CHECK_EQ_I64(p->tsval, 7);
    CHECK_EQ_I64(p->tsecr, 9);
    CHECK_EQ_I64(p->src.family, family);
    CHECK_EQ_I64(p->dst.family, family);
    if (family == 4) {
        CHECK(memcmp(p->src.bytes, "\x0a\x00\x00\x01", 4) == 0);
        CHECK(memcmp(p->dst.bytes, "\x0a\x00\x00\x02", 4) == 0);
    } else {
        CHECK(p->src.bytes[0] == 0x20 && p->src.bytes[3] == 0xb8 && p->src.bytes[15] == 1);
        CHECK(p->dst.bytes[0] == 0x20 && p->dst.bytes[3] == 0xb8 && p->dst.bytes[15] == 2);
    }
}

static void expect_tcp(int dlt, const bytes *f, int family)
{
    cm_packet p;
    CHECK(decode(dlt, f, &p) == FRAME_TCP);
    check_segment(&p, family);
}

static void expect_not_tcp(int dlt, const bytes *f)
{
    cm_packet p;
    CHECK(decode(dlt, f, &p) == FRAME_NOT_TCP);
}

/* ---- link types ------------------------------------------------------------- */

/* One frame written out in full, to pin the layout the builders make. */
static void test_ethernet_literal(void)
{
    static const uint8_t frame[] = {
        /* Ethernet */ 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00,
        /* IPv4, total length 52 */ 0x45, 0, 0, 52, 0, 0, 0x40, 0, 64, 6, 0, 0,
        10, 0, 0, 1, 10, 0, 0, 2,
        /* TCP 443 -> 51000, SYN ACK, 8 words */ 0x01, 0xbb, 0xc7, 0x38,
        0, 0, 0x10, 0, 0, 0, 0x20, 0, 0x80, 0x12, 0xff, 0xff, 0, 0, 0, 0,
        /* NOP NOP TS 1000 0 */ 1, 1, 8, 10, 0, 0, 0x03, 0xe8, 0, 0, 0, 0};
    cm_packet p;
    memset(&p, 0, sizeof p);
    CHECK(decode_frame(DLT_EN10MB, frame, sizeof frame, sizeof frame, &p) == FRAME_TCP);
    CHECK_EQ_I64(p.sport, 443);
    CHECK_EQ_I64(p.dport, 51000);
    CHECK_EQ_I64(p.seq, 0x1000);
    CHECK_EQ_I64(p.ack, 0x2000);
    CHECK_EQ_I64(p.flags, CM_TH_SYN | CM_TH_ACK);
    CHECK_EQ_I64(p.window, 0xffff);
    CHECK_EQ_I64(p.payload, 0);
    CHECK(p.has_ts);
    CHECK_EQ_I64(p.tsval, 1000);
    CHECK_EQ_I64(p.tsecr, 0);
    CHECK_EQ_I64(p.src.family, 4);
    CHECK_EQ_I64(p.src.bytes[3], 1);
    CHECK_EQ_I64(p.dst.bytes[3], 2);
    /* time, frame and stream are the caller's */
    CHECK_EQ_I64(p.t_ns, 0);
    CHECK_EQ_I64(p.frame, 0);
    CHECK_EQ_I64(p.stream, 0);
}

static void test_ethernet(void)
{
    bytes seg = tcp(), ip4 = ipv4(IP_TCP, &seg), ip6 = ipv6(IP_TCP, &seg);
    bytes f = eth(ETH_IPV4, &ip4);
    expect_tcp(DLT_EN10MB, &f, 4);
    f = eth(ETH_IPV6, &ip6);
    expect_tcp(DLT_EN10MB, &f, 6);
    f = eth(ETH_ARP, &ip4);
    expect_not_tcp(DLT_EN10MB, &f);
}

static void test_vlan_and_qinq(void)
{
    bytes seg = tcp(), ip4 = ipv4(IP_TCP, &seg), ip6 = ipv6(IP_TCP, &seg);
    bytes inner = vlan(ETH_IPV4, &ip4), f = eth(ETH_VLAN, &inner);
    expect_tcp(DLT_EN10MB, &f, 4);
    /* 802.1ad outer tag over an 802.1Q tag */
    bytes q = vlan(ETH_IPV6, &ip6), qq = vlan(ETH_VLAN, &q);
    f = eth(ETH_QINQ, &qq);
    expect_tcp(DLT_EN10MB, &f, 6);
    /* the pre-standard 0x9100 outer tag */
    f = eth(ETH_QINQ_OLD, &qq);
    expect_tcp(DLT_EN10MB, &f, 6);
    /* a tag cut short */
    bytes none = {.n = 0}, cut = vlan(ETH_IPV4, &none);
    cut.n = 3;
    f = eth(ETH_VLAN, &cut);
    expect_not_tcp(DLT_EN10MB, &f);
}

static void test_mpls(void)
{
    bytes seg = tcp(), ip4 = ipv4(IP_TCP, &seg), ip6 = ipv6(IP_TCP, &seg);
    /* two labels, IP after the bottom of the stack */
    bytes bottom = mpls(16, true, &ip4), top = mpls(17, false, &bottom);
    bytes f = eth(ETH_MPLS, &top);
    expect_tcp(DLT_EN10MB, &f, 4);
    bytes b6 = mpls(1000, true, &ip6);
    f = eth(ETH_MPLS_MC, &b6);
    expect_tcp(DLT_EN10MB, &f, 6);
    /* the stack never ends within the frame */
    bytes none = {.n = 0}, l1 = mpls(16, false, &none), l2 = mpls(17, false, &l1);
    f = eth(ETH_MPLS, &l2);
    expect_not_tcp(DLT_EN10MB, &f);
}

static void test_pppoe(void)
{
    bytes seg = tcp(), ip4 = ipv4(IP_TCP, &seg), ip6 = ipv6(IP_TCP, &seg);
    bytes s4 = pppoe(0x0021, &ip4), s6 = pppoe(0x0057, &ip6), lcp = pppoe(0xc021, &ip4);
    bytes f = eth(ETH_PPPOE, &s4);
    expect_tcp(DLT_EN10MB, &f, 4);
    f = eth(ETH_PPPOE, &s6);
    expect_tcp(DLT_EN10MB, &f, 6);
    f = eth(ETH_PPPOE, &lcp);
    expect_not_tcp(DLT_EN10MB, &f);
    /* PPPoE over a VLAN */
    bytes tagged = vlan(ETH_PPPOE, &s4);
    f = eth(ETH_VLAN, &tagged);
    expect_tcp(DLT_EN10MB, &f, 4);
    /* header cut before the PPP protocol */
    s4.n = 7;
    f = eth(ETH_PPPOE, &s4);
    expect_not_tcp(DLT_EN10MB, &f);
}

static void test_linux_cooked(void)
{
    bytes seg = tcp(), ip4 = ipv4(IP_TCP, &seg), ip6 = ipv6(IP_TCP, &seg);
    /* SLL: packet type, ARPHRD, address length, 8 address bytes, protocol */
    const uint8_t sll[16] = {0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, HI(ETH_IPV4), LO(ETH_IPV4)};
    bytes f = wrap(sll, sizeof sll, &ip4);
    expect_tcp(DLT_LINUX_SLL, &f, 4);
    f.n = 15;
    expect_not_tcp(DLT_LINUX_SLL, &f);
    /* SLL2: protocol first, then reserved, ifindex, ARPHRD, type, address */
    const uint8_t sll2[20] = {HI(ETH_IPV6), LO(ETH_IPV6), 0, 0, 0, 0, 0, 2, 0, 1, 0, 6,
                              2, 0, 0, 0, 0, 1, 0, 0};
    f = wrap(sll2, sizeof sll2, &ip6);
    expect_tcp(DLT_LINUX_SLL2, &f, 6);
    f.n = 19;
    expect_not_tcp(DLT_LINUX_SLL2, &f);
    /* an SLL2 frame carrying a VLAN tag */
    bytes tagged = vlan(ETH_IPV4, &ip4);
    uint8_t sll2v[20];
    memcpy(sll2v, sll2, sizeof sll2v);
    sll2v[0] = HI(ETH_VLAN), sll2v[1] = LO(ETH_VLAN);
    f = wrap(sll2v, sizeof sll2v, &tagged);
    expect_tcp(DLT_LINUX_SLL2, &f, 4);
}

static void test_raw_ip(void)
{
    bytes seg = tcp(), ip4 = ipv4(IP_TCP, &seg), ip6 = ipv6(IP_TCP, &seg);
    const int raw[] = {DLT_RAW, LINKTYPE_RAW, DLT_RAW_OPENBSD};
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        expect_tcp(raw[i], &ip4, 4);
        expect_tcp(raw[i], &ip6, 6);
        CHECK(linktype_supported(raw[i]));
        CHECK(strcmp(linktype_name(raw[i]), "raw IP") == 0);
    }
    expect_tcp(DLT_IPV4, &ip4, 4);
    expect_tcp(DLT_IPV6, &ip6, 6);
    /* an IP version that is neither */
    ip4.b[0] = 0x55;
    expect_not_tcp(DLT_RAW, &ip4);
    bytes empty = {.n = 0};
    expect_not_tcp(DLT_RAW, &empty);
}

static bytes loopback(const uint8_t af[4], const bytes *in) { return wrap(af, 4, in); }

static void test_null_and_loop(void)
{
    bytes seg = tcp(), ip4 = ipv4(IP_TCP, &seg), ip6 = ipv6(IP_TCP, &seg);
    /* DLT_NULL: the capturing host's byte order, either one */
    const uint8_t le2[4] = {2, 0, 0, 0}, be2[4] = {0, 0, 0, 2};
    bytes f = loopback(le2, &ip4);
    expect_tcp(DLT_NULL, &f, 4);
    f = loopback(be2, &ip4);
    expect_tcp(DLT_NULL, &f, 4);
    /* AF_INET6 as Linux, NetBSD/OpenBSD, FreeBSD and macOS number it */
    const uint8_t inet6[4] = {10, 24, 28, 30};
    for (int i = 0; i < 4; i++) {
        const uint8_t le[4] = {inet6[i], 0, 0, 0}, be[4] = {0, 0, 0, inet6[i]};
        f = loopback(le, &ip6);
        expect_tcp(DLT_NULL, &f, 6);
        f = loopback(be, &ip6);
        expect_tcp(DLT_NULL, &f, 6);
        f = loopback(be, &ip6);
        expect_tcp(DLT_LOOP, &f, 6);
    }
    /* another family (AF_UNIX) */
    const uint8_t unix_af[4] = {1, 0, 0, 0};
    f = loopback(unix_af, &ip4);
    expect_not_tcp(DLT_NULL, &f);
    /* DLT_LOOP is always network byte order */
    f = loopback(le2, &ip4);
    expect_not_tcp(DLT_LOOP, &f);
    f = loopback(be2, &ip4);
    expect_tcp(DLT_LOOP, &f, 4);
    f.n = 3;
    expect_not_tcp(DLT_LOOP, &f);
}

static void test_unsupported_link_type(void)
{
    bytes seg = tcp(), ip4 = ipv4(IP_TCP, &seg);
    cm_packet p;
    CHECK(!linktype_supported(DLT_IEEE802_11));
    CHECK(decode(DLT_IEEE802_11, &ip4, &p) == FRAME_BAD_LINK);
    CHECK(strcmp(linktype_name(DLT_IEEE802_11), "unsupported") == 0);
    const int supported[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL, DLT_LOOP,
                             DLT_IPV4, DLT_IPV6};
    const char *names[] = {"Ethernet", "Linux cooked v1", "Linux cooked v2", "BSD loopback",
                           "OpenBSD loopback", "raw IPv4", "raw IPv6"};
    for (size_t i = 0; i < sizeof supported / sizeof supported[0]; i++) {
        CHECK(linktype_supported(supported[i]));
        CHECK(strcmp(linktype_name(supported[i]), names[i]) == 0);
    }
}

/* ---- IP ---------------------------------------------------------------------------- */

static void test_ipv6_extension_headers(void)
{
    bytes seg = tcp();
    /* hop-by-hop (8 bytes), routing (24), destination options (8), then TCP */
    bytes dst = ext8(IP_TCP, 0, &seg), rt = ext8(IP_DSTOPTS, 2, &dst);
    bytes hop = ext8(IP_ROUTING, 0, &rt), ip = ipv6(IP_HOPOPTS, &hop);
    expect_tcp(DLT_RAW, &ip, 6);

    /* AH: length in 4-byte words minus 2 (here 24 bytes) */
    const uint8_t ah[24] = {IP_TCP, 4};
    bytes a = wrap(ah, sizeof ah, &seg);
    ip = ipv6(IP_AH, &a);
    expect_tcp(DLT_RAW, &ip, 6);

    /* an atomic fragment (offset 0, no more fragments) holds the whole segment */
    const uint8_t atomic[8] = {IP_TCP, 0, 0x00, 0x00, 0, 0, 0, 1};
    bytes fr = wrap(atomic, sizeof atomic, &seg);
    ip = ipv6(IP_FRAGMENT, &fr);
    expect_tcp(DLT_RAW, &ip, 6);
    /* a first fragment (more fragments) and a later one are not analysed */
    const uint8_t first[8] = {IP_TCP, 0, 0x00, 0x01, 0, 0, 0, 1};
    fr = wrap(first, sizeof first, &seg);
    ip = ipv6(IP_FRAGMENT, &fr);
    expect_not_tcp(DLT_RAW, &ip);
    const uint8_t later[8] = {IP_TCP, 0, 0x05, 0x00, 0, 0, 0, 1};
    fr = wrap(later, sizeof later, &seg);
    ip = ipv6(IP_FRAGMENT, &fr);
    expect_not_tcp(DLT_RAW, &ip);

    /* an extension header longer than the packet (8 * 201 bytes) */
    const uint8_t big[8] = {IP_TCP, 200};
    bytes too_long = wrap(big, sizeof big, &seg);
    ip = ipv6(IP_HOPOPTS, &too_long);
    expect_not_tcp(DLT_RAW, &ip);
    /* captured only up to the extension header */
    ip = ipv6(IP_HOPOPTS, &hop);
    cm_packet p;
    memset(&p, 0, sizeof p);
    CHECK(decode_frame(DLT_RAW, ip.b, 41, ip.n, &p) == FRAME_NOT_TCP);
    /* a jumbogram (payload length 0) */
    ip = ipv6(IP_TCP, &seg);
    ip.b[4] = ip.b[5] = 0;
    expect_not_tcp(DLT_RAW, &ip);
}

static void test_ip_in_ip(void)
{
    bytes seg = tcp();
    /* the inner header's addresses are the connection's */
    bytes inner = ipv4(IP_TCP, &seg), outer = ipv4_from(IP_IPIP, &inner, 77, 88);
    expect_tcp(DLT_RAW, &outer, 4);
    /* IPv6 in IPv4 (6in4) and IPv4 in IPv6 */
    bytes in6 = ipv6(IP_TCP, &seg), sit = ipv4_from(IP_IPV6, &in6, 77, 88);
    expect_tcp(DLT_RAW, &sit, 6);
    bytes v4in6 = ipv6(IP_IPIP, &inner);
    expect_tcp(DLT_RAW, &v4in6, 4);
    /* four tunnels deep is decoded, five is not */
    bytes nest = inner;
    for (int i = 0; i < 4; i++)
        nest = ipv4_from(IP_IPIP, &nest, 77, 88);
    expect_tcp(DLT_RAW, &nest, 4);
    nest = ipv4_from(IP_IPIP, &nest, 77, 88);
    expect_not_tcp(DLT_RAW, &nest);
}

static void test_icmp_quoted_tcp_skipped(void)
{
    bytes seg = tcp(), ip4 = ipv4(IP_TCP, &seg), ip6 = ipv6(IP_TCP, &seg);
    /* destination unreachable quoting the IP and TCP headers */
    const uint8_t unreach[8] = {3, 3, 0, 0, 0, 0, 0, 0};
    bytes icmp = wrap(unreach, sizeof unreach, &ip4), f = ipv4(IP_ICMP, &icmp);
    expect_not_tcp(DLT_RAW, &f);
    f = eth(ETH_IPV4, &f);
    expect_not_tcp(DLT_EN10MB, &f);
    const uint8_t unreach6[8] = {1, 4, 0, 0, 0, 0, 0, 0};
    bytes icmp6 = wrap(unreach6, sizeof unreach6, &ip6);
    f = ipv6(IP_ICMPV6, &icmp6);
    expect_not_tcp(DLT_RAW, &f);
}

/* ---- truncated and odd lengths -------------------------------------------------------- */

static void test_truncated_frames(void)
{
    bytes seg = tcp(), ip4 = ipv4(IP_TCP, &seg), f = eth(ETH_IPV4, &ip4);
    cm_packet p;
    /* every cut before the TCP header's first 16 bytes is not TCP */
    for (size_t cut = 0; cut < 14 + 20 + 16; cut++) {
        memset(&p, 0, sizeof p);
        CHECK(decode_frame(DLT_EN10MB, f.b, cut, f.n, &p) == FRAME_NOT_TCP);
    }
    /* cut inside the TCP options (snaplen): decoded, TS absent, payload
     * from the IP header's length */
    memset(&p, 0, sizeof p);
    CHECK(decode_frame(DLT_EN10MB, f.b, 14 + 20 + 24, f.n, &p) == FRAME_TCP);
    CHECK(!p.has_ts);
    CHECK_EQ_I64(p.payload, PAYLOAD);
    CHECK_EQ_I64(p.seq, 0x11223344u);
    /* whole headers captured, payload not */
    memset(&p, 0, sizeof p);
    CHECK(decode_frame(DLT_EN10MB, f.b, 14 + 20 + 32, f.n, &p) == FRAME_TCP);
    check_segment(&p, 4);
    /* IPv4 header length below 20, or beyond what was captured */
    bytes bad = ip4;
    bad.b[0] = 0x44;
    expect_not_tcp(DLT_RAW, &bad);
    bad.b[0] = 0x4f;
    memset(&p, 0, sizeof p);
    CHECK(decode_frame(DLT_RAW, bad.b, 40, bad.n, &p) == FRAME_NOT_TCP);
    /* IPv6 header cut */
    bytes ip6 = ipv6(IP_TCP, &seg);
    memset(&p, 0, sizeof p);
    CHECK(decode_frame(DLT_RAW, ip6.b, 39, ip6.n, &p) == FRAME_NOT_TCP);
}

static void test_ipv4_lengths_and_fragments(void)
{
    bytes seg = tcp(), ip4 = ipv4(IP_TCP, &seg);
    cm_packet p;
    /* Ethernet padding after the IP packet is not payload */
    bytes padded = ip4;
    memset(padded.b + padded.n, 0, 6);
    padded.n += 6;
    expect_tcp(DLT_RAW, &padded, 4);
    /* total length 0 (TSO): the frame's length counts */
    bytes tso = ip4;
    tso.b[2] = tso.b[3] = 0;
    expect_tcp(DLT_RAW, &tso, 4);
    memset(&p, 0, sizeof p);
    CHECK(decode_frame(DLT_RAW, tso.b, 60, tso.n + 50, &p) == FRAME_TCP);
    CHECK_EQ_I64(p.payload, PAYLOAD + 50);
    /* a total length shorter than the IP header, or than the TCP header */
    bytes bogus = ip4;
    bogus.b[2] = 0, bogus.b[3] = 19;
    expect_not_tcp(DLT_RAW, &bogus);
    bogus.b[3] = 20 + 31;
    expect_not_tcp(DLT_RAW, &bogus);
    /* a frame shorter on the wire than the IP length says: the wire wins */
    memset(&p, 0, sizeof p);
    CHECK(decode_frame(DLT_RAW, ip4.b, 52, 20 + 32 + 10, &p) == FRAME_TCP);
    CHECK_EQ_I64(p.payload, 10);
    /* fragments: more fragments, or an offset */
    bytes frag = ip4;
    frag.b[6] = 0x20, frag.b[7] = 0x00;
    expect_not_tcp(DLT_RAW, &frag);
    frag.b[6] = 0x00, frag.b[7] = 0x10;
    expect_not_tcp(DLT_RAW, &frag);
    /* IPv4 options: header length 24 */
    const uint8_t h[24] = {0x46, 0, 0, (uint8_t)(24 + seg.n), 0, 0, 0, 0, 64, IP_TCP, 0, 0,
                           10, 0, 0, 1, 10, 0, 0, 2, 1, 1, 1, 0};
    bytes opts = wrap(h, sizeof h, &seg);
    expect_tcp(DLT_RAW, &opts, 4);
}

int main(void)
{
    RUN(test_ethernet_literal);
    RUN(test_ethernet);
    RUN(test_vlan_and_qinq);
    RUN(test_mpls);
    RUN(test_pppoe);
    RUN(test_linux_cooked);
    RUN(test_raw_ip);
    RUN(test_null_and_loop);
    RUN(test_unsupported_link_type);
    RUN(test_ipv6_extension_headers);
    RUN(test_ip_in_ip);
    RUN(test_icmp_quoted_tcp_skipped);
    RUN(test_truncated_frames);
    RUN(test_ipv4_lengths_and_fragments);
    return check_summary("test_cli_decode");
}
