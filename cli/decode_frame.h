/* From a captured frame to the engine's packet facts: link layer, IP
 * (with IPv6 extension headers and IP-in-IP), TCP.  Mirrors what
 * Wireshark's dissectors give the plugin, so both front ends analyse the
 * same headers.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_DECODE_FRAME_H
#define CONNMON_DECODE_FRAME_H

#include <pcap/dlt.h>
#include <stddef.h>
#include <stdint.h>

#include "connmon.h"

/* Link types libpcap's headers may lack or number differently. */
#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif
/* Raw IP has three numbers: DLT_RAW is 12 in most libpcaps, LINKTYPE_RAW
 * (101) is what capture files carry, and 14 is DLT_RAW as OpenBSD numbers
 * it, still found in captures made there (Wireshark reads it as raw IP). */
#define LINKTYPE_RAW 101
#define DLT_RAW_OPENBSD 14

typedef enum frame_kind {
    FRAME_TCP,        /* *pkt filled in (all but t_ns, frame, stream) */
    FRAME_NOT_TCP,    /* no analysable TCP header */
    FRAME_BAD_LINK,   /* link type not supported */
} frame_kind;

/* True when the pcap link type (DLT_*) is one we decode. */
int linktype_supported(int dlt);
const char *linktype_name(int dlt);

/* data/caplen: captured bytes; wirelen: the frame's length on the wire. */
frame_kind decode_frame(int dlt, const uint8_t *data, size_t caplen, size_t wirelen,
                        cm_packet *pkt);

#endif
