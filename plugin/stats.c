/* connmon statistics tree: Statistics -> connmon, tshark -z connmon,tree.
 *
 * Fed by the "connmon" tap (packet-connmon.c queues every analysed frame's
 * stored result on every pass).  Layout:
 *
 *   Flows                     directions of TCP connections (tcp.stream)
 *     One-directional         ... whose other direction was never seen
 *   Packets                   analysed TCP packets
 *     Without TS option
 *     <connmon.flow label>    packets of that flow (one direction)
 *       Payload bytes
 *       TS RTD (us)           count, average, min, max of connmon.tsrtd
 *       Seq RTD (us)          same for connmon.seqrtd
 *       Holes                 connmon.expert.hole
 *       Behind                connmon.expert.behind
 *       Duplicate ACKs        connmon.expert.dupack
 *
 * Round-trip delays are whole microseconds in integer average nodes:
 * stats_tree 4.0 prints float nodes' min/max from a single-precision float
 * with "%f" and every average with "%.2f", so milliseconds in a float node
 * would show 10 us steps in the average and float noise in min/max.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "config.h"

#include <epan/stats_tree.h>

#include "flowtally.h"
#include "stats.h"

#define N_FLOWS "Flows"
#define N_ONE_WAY "One-directional"
#define N_PACKETS "Packets"
#define N_NO_TS "Without TS option"
#define N_PAYLOAD "Payload bytes"
#define N_TSRTD "TS RTD (us)"
#define N_SEQRTD "Seq RTD (us)"
#define N_HOLES "Holes"
#define N_BEHIND "Behind"
#define N_DUPACKS "Duplicate ACKs"

/* What one tree needs besides its nodes.  stats_tree gives callbacks no
 * user pointer, so these are found by tree. */
typedef struct tree_state {
    int flows_id, packets_id;
    cm_flow_tally tally;
    GArray *seen;       /* guint8 per tcp.stream: bit 0/1 = direction seen */
    GHashTable *labels; /* own copy of a flow label -> guint64 payload bytes */
} tree_state;

static GHashTable *trees; /* stats_tree * -> tree_state * */

static void free_state(gpointer p)
{
    tree_state *state = (tree_state *)p;
    g_array_free(state->seen, TRUE);
    g_hash_table_destroy(state->labels);
    g_free(state);
}

static void stats_init(stats_tree *st)
{
    tree_state *state = g_new0(tree_state, 1);
    state->seen = g_array_new(FALSE, TRUE, sizeof(guint8));
    state->labels = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

    /* Every node that has children needs its own name table: stats_tree
     * looks a child up there, or else in the tree-wide table of parents. */
    state->flows_id = stats_tree_create_node(st, N_FLOWS, 0, STAT_DT_INT, TRUE);
    stat_node_set_flags(st, N_FLOWS, 0, TRUE, ST_FLG_SORT_TOP);
    stats_tree_create_node(st, N_ONE_WAY, state->flows_id, STAT_DT_INT, FALSE);
    state->packets_id = stats_tree_create_node(st, N_PACKETS, 0, STAT_DT_INT, TRUE);
    stats_tree_create_node(st, N_NO_TS, state->packets_id, STAT_DT_INT, FALSE);
    stat_node_set_flags(st, N_NO_TS, state->packets_id, FALSE, ST_FLG_SORT_TOP);

    g_hash_table_replace(trees, st, state);
}

static void stats_cleanup(stats_tree *st)
{
    g_hash_table_remove(trees, st);
}

/* Nearest whole microsecond, within what a node holds. */
static gint ns_to_us(gint64 ns)
{
    gint64 us = ns >= 0 ? (ns + 500) / 1000 : -((-ns + 500) / 1000);
    return (gint)CLAMP(us, (gint64)G_MININT, (gint64)G_MAXINT);
}

/* A flow is one direction of one tcp.stream, as in the engine. */
static void count_flow(stats_tree *st, tree_state *state, guint32 stream, guint8 direction)
{
    if (stream >= state->seen->len)
        g_array_set_size(state->seen, stream + 1);
    guint8 *dirs = &g_array_index(state->seen, guint8, stream);
    if (!cm_flow_tally_see(&state->tally, dirs, direction))
        return;
    set_stat_node(st, N_FLOWS, 0, TRUE, (gint)MIN(state->tally.flows, (guint64)G_MAXINT));
    set_stat_node(st, N_ONE_WAY, state->flows_id, FALSE,
                  (gint)MIN(state->tally.one_way, (guint64)G_MAXINT));
}

static tap_packet_status stats_packet(stats_tree *st, packet_info *pinfo _U_,
                                      epan_dissect_t *edt _U_, const void *data,
                                      tap_flags_t flags _U_)
{
    const connmon_frame_result *fr = (const connmon_frame_result *)data;
    tree_state *state = (tree_state *)g_hash_table_lookup(trees, st);
    if (!fr || !state)
        return TAP_PACKET_DONT_REDRAW;
    const cm_result *r = &fr->r;

    count_flow(st, state, fr->stream, r->direction);
    tick_stat_node(st, N_PACKETS, 0, TRUE);
    if (!fr->has_ts)
        tick_stat_node(st, N_NO_TS, state->packets_id, FALSE);

    /* Per label: a reused port pair (a new tcp.stream) adds to its line. */
    guint64 *payload = (guint64 *)g_hash_table_lookup(state->labels, fr->flow);
    int flow_id = tick_stat_node(st, fr->flow, state->packets_id, TRUE);
    if (!payload) {
        /* Every flow gets every line, in this order, zero or not. */
        payload = g_new0(guint64, 1);
        g_hash_table_insert(state->labels, g_strdup(fr->flow), payload);
        set_stat_node(st, N_PAYLOAD, flow_id, FALSE, 0);
        stat_node_set_flags(st, N_TSRTD, flow_id, FALSE, ST_FLG_AVERAGE);
        stat_node_set_flags(st, N_SEQRTD, flow_id, FALSE, ST_FLG_AVERAGE);
        set_stat_node(st, N_HOLES, flow_id, FALSE, 0);
        set_stat_node(st, N_BEHIND, flow_id, FALSE, 0);
        set_stat_node(st, N_DUPACKS, flow_id, FALSE, 0);
    }
    if (r->payload) {
        /* A node counts in a gint: beyond 2^31 - 1 bytes it stays there. */
        *payload += r->payload;
        set_stat_node(st, N_PAYLOAD, flow_id, FALSE, (gint)MIN(*payload, (guint64)G_MAXINT));
    }
    if (r->present & CM_HAS_TSRTD)
        avg_stat_node_add_value_int(st, N_TSRTD, flow_id, FALSE, ns_to_us(r->tsrtd_ns));
    if (r->present & CM_HAS_SEQRTD)
        avg_stat_node_add_value_int(st, N_SEQRTD, flow_id, FALSE, ns_to_us(r->seqrtd_ns));
    if (r->expert & CM_EXPERT_HOLE)
        tick_stat_node(st, N_HOLES, flow_id, FALSE);
    if (r->expert & CM_EXPERT_BEHIND)
        tick_stat_node(st, N_BEHIND, flow_id, FALSE);
    if (r->expert & CM_EXPERT_DUPACK)
        tick_stat_node(st, N_DUPACKS, flow_id, FALSE);
    return TAP_PACKET_REDRAW;
}

void connmon_stats_register(void)
{
    trees = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, free_state);
    /* The _plugin variant: Wireshark's Statistics menu lists only the
     * trees registered as plugins (built-in ones are wired by hand).
     * No tap flags: the tree needs no protocol tree, only the tap data.
     * Sorted by name by default (the user's default, count, would order
     * every flow's lines differently). */
    stats_tree_register_plugin("connmon", "connmon", "connmon",
                               ST_SORT_COL_NAME << ST_FLG_SRTCOL_SHIFT, stats_packet, stats_init,
                               stats_cleanup);
}
