/* Connection numbering for the command line: what Wireshark's tcp.stream
 * is for the plugin.  A connection is a 4-tuple; a SYN (without ACK) with
 * an initial sequence number other than the one its direction started with
 * starts a new connection (port reuse), as Wireshark does.  Connections
 * idle for longer than a limit are dropped, with their engine state, so a
 * live capture's memory stays bounded.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_CONNTRACK_H
#define CONNMON_CONNTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "connmon.h"

typedef struct conntrack conntrack;

typedef struct conn_stats {
    uint64_t flows;             /* directions seen */
    uint64_t one_way_flows;     /* connections whose other direction was never seen */
} conn_stats;

/* max_idle_ns <= 0: never expire.  The engine loses a connection's state
 * when it expires. */
conntrack *conntrack_new(cm_engine *eng, int64_t max_idle_ns);
void conntrack_free(conntrack *ct);

/* Sets pkt->stream and *conn_out (the connection, for conntrack_label).
 * Returns false when out of memory. */
typedef struct conn conn;
bool conntrack_assign(conntrack *ct, cm_packet *pkt, conn **conn_out);

/* The "src:sport+dst:dport" label of pkt's direction, formatted once per
 * direction.  pkt must be the packet just assigned to c. */
const char *conntrack_label(conn *c, const cm_packet *pkt);

/* Drops connections idle at time now. */
void conntrack_expire(conntrack *ct, int64_t now_ns);

size_t conntrack_count(const conntrack *ct);

/* Flow counts, over every connection seen so far (expired ones included). */
conn_stats conntrack_stats(const conntrack *ct);

#endif
