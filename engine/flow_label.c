/* Flow labels: "src:sport+dst:dport" for connmon.flow and the CLI.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "connmon.h"

#include <arpa/inet.h>
#include <stdio.h>

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
