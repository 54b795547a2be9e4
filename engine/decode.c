/* TCP header decoding and small text helpers shared by the front ends.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "connmon.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static inline uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Minimum captured bytes for Wireshark to give ports, seq, ack, flags and
 * window (it reads the header up to the window field before anything). */
#define CM_TCP_FIXED_NEEDED 16
#define CM_TCPOPT_EOL 0
#define CM_TCPOPT_NOP 1
#define CM_TCPOPT_SACK 5
#define CM_TCPOPT_TS 8

cm_tcp_status cm_tcp_decode(const uint8_t *p, size_t captured, size_t reported,
                            cm_tcp_header *h)
{
    memset(h, 0, sizeof *h);
    if (captured < CM_TCP_FIXED_NEEDED)
        return CM_TCP_TRUNCATED;
    h->sport = be16(p);
    h->dport = be16(p + 2);
    h->seq = be32(p + 4);
    h->ack = be32(p + 8);
    h->flags = be16(p + 12) & 0x0fff;
    h->window = be16(p + 14);
    h->header_len = (uint16_t)((p[12] >> 4) * 4);
    if (h->header_len < 20)
        return CM_TCP_BAD_OFFSET;
    if (reported < h->header_len)
        return CM_TCP_SHORT_SEGMENT;
    h->payload = (uint32_t)(reported - h->header_len);

    /* Options, walked the way Wireshark does: stop at the first malformed
     * length or non-zero padding after EOL; what is not captured is not
     * there. */
    size_t end = h->header_len < captured ? h->header_len : captured;
    size_t off = 20;
    bool eol_seen = false;
    while (off < end) {
        uint8_t kind = p[off];
        if (eol_seen && kind != CM_TCPOPT_EOL)
            break;
        if (kind == CM_TCPOPT_EOL || kind == CM_TCPOPT_NOP) {
            eol_seen = eol_seen || kind == CM_TCPOPT_EOL;
            off++;
            continue;
        }
        if (off + 1 >= h->header_len || off + 1 >= captured)
            break; /* length byte past the header, or not captured */
        uint8_t olen = p[off + 1];
        if (olen < 2 || off + olen > h->header_len)
            break;
        if (kind == CM_TCPOPT_TS && olen == 10) {
            if (off + 10 > captured)
                break; /* cut by the snaplen: absent */
            h->has_ts = true;
            h->tsval = be32(p + off + 2);
            h->tsecr = be32(p + off + 6);
        }
        /* Wireshark counts a SACK block once its left edge is read. */
        if (kind == CM_TCPOPT_SACK && olen >= 6 && off + 6 <= captured)
            h->has_sack = true;
        off += olen;
    }
    return CM_TCP_OK;
}

void cm_packet_set_tcp(cm_packet *pkt, const cm_tcp_header *h)
{
    pkt->sport = h->sport;
    pkt->dport = h->dport;
    pkt->seq = h->seq;
    pkt->ack = h->ack;
    pkt->flags = h->flags;
    pkt->window = h->window;
    pkt->payload = h->payload;
    pkt->has_ts = h->has_ts;
    pkt->has_sack = h->has_sack;
    pkt->tsval = h->tsval;
    pkt->tsecr = h->tsecr;
}

size_t cm_format_flow(char *buf, size_t size, const cm_packet *pkt)
{
    char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
    int n;
    if (pkt->src.family == 6) {
        inet_ntop(AF_INET6, pkt->src.bytes, s, sizeof s);
        inet_ntop(AF_INET6, pkt->dst.bytes, d, sizeof d);
        n = snprintf(buf, size, "[%s]:%u+[%s]:%u", s, pkt->sport, d, pkt->dport);
    } else {
        inet_ntop(AF_INET, pkt->src.bytes, s, sizeof s);
        inet_ntop(AF_INET, pkt->dst.bytes, d, sizeof d);
        n = snprintf(buf, size, "%s:%u+%s:%u", s, pkt->sport, d, pkt->dport);
    }
    if (n < 0)
        n = 0;
    return (size_t)n < size ? (size_t)n : (size ? size - 1 : 0);
}

/* Decimal seconds to nanoseconds, exactly: the digits are shifted by the
 * exponent and rounded at the ninth fractional digit, ties to even. */
const char *cm_parse_seconds(const char *text, int64_t *ns_out)
{
    if (!text)
        return "no value given";
    const char *s = text;
    while (isspace((unsigned char)*s))
        s++;
    if (*s == '-')
        return "must not be negative";
    if (*s == '+')
        s++;
    char digits[64];
    int ndig = 0, point = -1; /* point: digits before the decimal point */
    bool any = false, overflow = false;
    for (; *s; s++) {
        if (isdigit((unsigned char)*s)) {
            any = true;
            if (ndig == 0 && *s == '0' && point < 0)
                continue; /* leading zeros of the integer part */
            if (ndig < (int)sizeof digits)
                digits[ndig++] = *s;
            else if (point < 0)
                overflow = true;
        } else if (*s == '.' && point < 0) {
            point = ndig;
        } else {
            break;
        }
    }
    if (!any)
        return "is not a number of seconds";
    if (point < 0)
        point = ndig;
    long exp10 = 0;
    if (*s == 'e' || *s == 'E') {
        s++;
        int sign = 1;
        if (*s == '+' || *s == '-') {
            if (*s == '-')
                sign = -1;
            s++;
        }
        if (!isdigit((unsigned char)*s))
            return "is not a number of seconds";
        for (; isdigit((unsigned char)*s); s++) {
            if (exp10 < 1000)
                exp10 = exp10 * 10 + (*s - '0');
        }
        exp10 *= sign;
    }
    while (isspace((unsigned char)*s))
        s++;
    if (*s)
        return "is not a number of seconds";
    if (overflow)
        return "is too large";
    /* value = 0.digits * 10^(point + exp10); ns = value * 1e9 */
    long int_digits = point + exp10 + 9; /* digits that form whole ns */
    if (int_digits > 19)
        goto too_large_check;
    {
        uint64_t ns = 0;
        for (long i = 0; i < int_digits; i++) {
            int dgt = (i < ndig && i >= 0) ? digits[i] - '0' : 0;
            if (ns > (UINT64_MAX - 9) / 10)
                return "is too large";
            ns = ns * 10 + (uint64_t)dgt;
        }
        /* rounding: look at the digits after the whole ns */
        long first = int_digits < 0 ? 0 : int_digits;
        int round_digit = 0;
        bool rest_nonzero = false;
        if (int_digits >= 0) {
            if (first < ndig)
                round_digit = digits[first] - '0';
            for (long i = first + 1; i < ndig; i++)
                if (digits[i] != '0')
                    rest_nonzero = true;
        } else {
            /* value is below 1e-10 ns scale: round digit is zero */
            for (long i = 0; i < ndig; i++)
                if (digits[i] != '0')
                    rest_nonzero = true;
        }
        if (round_digit > 5 || (round_digit == 5 && (rest_nonzero || (ns & 1))))
            ns++;
        if (ns > (uint64_t)INT64_MAX)
            return "is too large";
        *ns_out = (int64_t)ns;
        return NULL;
    }
too_large_check:
    for (int i = 0; i < ndig; i++)
        if (digits[i] != '0')
            return "is too large";
    *ns_out = 0;
    return NULL;
}

static const char *const mode_names[] = {"clocked", "all", "none"};

bool cm_parse_ts_pure_acks(const char *text, cm_ts_pure_acks *out)
{
    for (int i = 0; i < 3; i++) {
        if (text && strcasecmp(text, mode_names[i]) == 0) {
            *out = (cm_ts_pure_acks)i;
            return true;
        }
    }
    return false;
}

const char *cm_ts_pure_acks_name(cm_ts_pure_acks mode)
{
    return (unsigned)mode < 3 ? mode_names[mode] : "?";
}
