/* --fanout GROUP: several connmon processes share one interface, each
 * seeing whole connections.
 *
 * Linux's PACKET_FANOUT spreads the packets of one interface over the
 * packet sockets that join the same group, here by flow hash.  The
 * kernel's hash for it is symmetric (__skb_get_hash_symmetric: addresses
 * and ports sorted before hashing), so both directions of a connection go
 * to the same socket, which is what round trips need.  IP fragments are
 * reassembled for the hash (PACKET_FANOUT_FLAG_DEFRAG) so a fragmented
 * segment does not go to another process than its connection.
 *
 * libpcap has no fanout call, but on Linux its live handle is one
 * PF_PACKET socket bound to the interface (pcap_fileno), and a bound
 * packet socket may join a group at any time: so connmon joins right
 * after pcap_activate.  Packets that arrived between activation and the
 * join went to this process only and may belong to connections another
 * member then sees: a few at start-up, as with any restart.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_FANOUT_H
#define CONNMON_FANOUT_H

#include <pcap/pcap.h>
#include <stddef.h>

/* Parses a group id 0..65535.  Returns NULL or a static message. */
const char *fanout_parse_group(const char *text, unsigned *group);

/* Joins the live handle p (activated) to fanout group `group`, by flow
 * hash.  Returns NULL on success, else a message in err (not Linux, not a
 * packet socket, or the kernel refused: e.g. another member of the group
 * uses another mode or interface). */
const char *fanout_join(pcap_t *p, unsigned group, char *err, size_t err_size);

#endif
