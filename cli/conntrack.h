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
#include "flowtally.h"

typedef struct conntrack conntrack;
typedef struct conn conn;

typedef struct conn_stats {
    cm_flow_tally tally;   /* flows and one-way connections, over every
                              connection seen so far (expired ones included) */
    uint64_t expired_idle; /* connections dropped after max_idle_ns without
                              a packet */
    uint64_t evicted;      /* least recently seen connections forgotten to
                              stay within max_flows */
} conn_stats;

/* max_idle_ns <= 0: never expire.  max_flows > 0: at most that many
 * connections are held; beyond it the least recently seen is forgotten
 * (evicted).  The engine loses a connection's state with it.  Returns NULL
 * when out of memory. */
conntrack *conntrack_new(cm_engine *eng, int64_t max_idle_ns, size_t max_flows);
void conntrack_free(conntrack *ct);

/* Sets pkt->stream and *conn_out (the connection, for conntrack_label).
 * Returns false when out of memory. */
bool conntrack_assign(conntrack *ct, cm_packet *pkt, conn **conn_out);

/* The "src:sport+dst:dport" label of pkt's direction, valid until the next
 * call. */
const char *conntrack_label(conntrack *ct, const cm_packet *pkt);

/* Calls fn(stream, arg) whenever a connection is forgotten (idle, or its
 * port pair reused by a new connection), after the engine forgot it
 * (--flows writes its record then).  Not called by conntrack_free. */
void conntrack_on_forget(conntrack *ct, void (*fn)(uint32_t stream, void *arg), void *arg);

/* Drops connections idle at time now. */
void conntrack_expire(conntrack *ct, int64_t now_ns);

/* Connections currently held. */
size_t conntrack_count(const conntrack *ct);

conn_stats conntrack_stats(const conntrack *ct);

#endif
