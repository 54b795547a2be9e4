/* Getting TCP facts to the engine without forcing a protocol tree.
 *
 * Asking Wireshark for TCP fields (set_postdissector_wanted_hfids) makes
 * tshark build a tree for every packet, which costs far more than the
 * analysis.  Instead connmon sits in front of the TCP dissector in the
 * "ip.proto" table: it decodes the header bytes itself, lets TCP dissect
 * as usual, then reads tcp.stream from TCP's conversation data.  The facts
 * of the innermost TCP header of the frame wait for the post-dissector.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_EXTRACT_H
#define CONNMON_EXTRACT_H

#include <epan/packet.h>

#include "connmon.h"

/* Installs the hook in front of TCP; call from the handoff routine. */
void connmon_extract_init(int proto_connmon);

/* The facts of this frame's analysed TCP header, or NULL (no TCP, only TCP
 * quoted in ICMP errors, or a header Wireshark cannot decode).  Valid only
 * during the first pass over the frame, and given out once. */
const cm_packet *connmon_extract_get(packet_info *pinfo);

/* File open (init) and close (cleanup): drop cached conversations. */
void connmon_extract_reset(void);
void connmon_extract_cleanup(void);

#endif
