/* From a captured frame to the engine's packet facts: link layer, IP
 * (with IPv6 extension headers and IP-in-IP), TCP.  Mirrors what
 * Wireshark's dissectors give the plugin, so both front ends analyse the
 * same headers.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_DECODE_FRAME_H
#define CONNMON_DECODE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "connmon.h"

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
