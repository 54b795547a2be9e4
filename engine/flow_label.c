/* Flow labels: "src:sport+dst:dport" for connmon.flow and the CLI.
 *
 * Made once per flow, which on a SYN flood is once per packet: IPv4
 * addresses and ports are written digit by digit here, as snprintf and
 * glibc's inet_ntop (itself an sprintf per byte) cost ~5,000 instructions
 * a label.  IPv6 addresses keep inet_ntop (RFC 5952 text is not worth
 * redoing).  tests/unit/test_tcp_decode.c checks the output against
 * inet_ntop + snprintf on random addresses.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "connmon.h"
#include "digits.h"

#include <arpa/inet.h>
#include <string.h>



/* Decimal digits of v (< 100000: a port or an address byte) at p;
 * returns the end. */
static char *put_uint(char *p, unsigned v)
{
    char tmp[6];
    char *t = tmp + sizeof tmp;
    while (v >= 100) {
        unsigned q = v / 100;
        t -= 2;
        memcpy(t, cm_digit_pairs + 2 * (v - q * 100), 2);
        v = q;
    }
    if (v >= 10) {
        t -= 2;
        memcpy(t, cm_digit_pairs + 2 * v, 2);
    } else {
        *--t = (char)('0' + v);
    }
    size_t n = (size_t)(tmp + sizeof tmp - t);
    memcpy(p, t, n);
    return p + n;
}

/* One end, "a.b.c.d:port" or "[v6]:port", at p; returns the end. */
static char *put_end(char *p, const cm_addr *a, uint16_t port)
{
    if (a->family == 6) {
        char s[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, a->bytes, s, sizeof s);
        size_t n = strlen(s);
        *p++ = '[';
        memcpy(p, s, n);
        p += n;
        *p++ = ']';
    } else {
        for (int i = 0; i < 4; i++) {
            if (i)
                *p++ = '.';
            p = put_uint(p, a->bytes[i]);
        }
    }
    *p++ = ':';
    return put_uint(p, port);
}

size_t cm_format_flow(char *buf, size_t size, const cm_packet *pkt)
{
    /* 2 x ("[" 45 "]:" 5) + "+" fits CM_FLOW_LABEL_MAX with its NUL */
    char tmp[CM_FLOW_LABEL_MAX];
    char *p = put_end(tmp, &pkt->src, pkt->sport);
    *p++ = '+';
    p = put_end(p, &pkt->dst, pkt->dport);
    size_t n = (size_t)(p - tmp);
    if (!size)
        return 0;
    if (n >= size)
        n = size - 1;
    memcpy(buf, tmp, n);
    buf[n] = '\0';
    return n;
}
