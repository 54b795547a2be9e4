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
 *       TS RTD (us)           count, average, min, max of connmon.tsrtd
 *       Seq RTD (us)          same for connmon.seqrtd
 *       Half RTD (us)         its halves: tsrtd, else seqrtd (SPEC)
 *         p50, p90, p99       percentiles of the halves (see below)
 *       Path RTD (us)         connmon.pathrtd
 *         p50, p90, p99
 *       Holes                 connmon.expert.hole
 *       Behind                connmon.expert.behind
 *       Duplicate ACKs        connmon.expert.dupack
 *   Payload bytes             payload bytes of all flows
 *     <connmon.flow label>    of that flow: Percent is its share, Rate its
 *                             bytes per millisecond
 *   Half RTD histogram (us)   every flow's halves in log-spaced buckets,
 *     0-99, 100-199, ...      100 us .. 10 s in steps 1-2-5 (sketch.h)
 *   Path RTD histogram (us)   the same for connmon.pathrtd
 *
 * Every column means something on every line: counts of packets, of
 * samples or of bytes, never bytes where packets are counted.
 *
 * Round-trip delays are whole microseconds in integer average nodes:
 * stats_tree 4.0 prints float nodes' min/max from a single-precision float
 * with "%f" and every average with "%.2f", so milliseconds in a float node
 * would show 10 us steps in the average and float noise in min/max.
 *
 * Percentiles (SPEC "Distributions"): each flow keeps a bounded sketch per
 * distribution (engine/sketch.h) and a pX line shows the nearest-rank
 * value within the SPEC's tolerance as its Min Val, Max Val and Average,
 * and the rank (the number of samples at or below it) as its Count, so
 * its Percent reads about X %.  stats_tree has no call that replaces an
 * average line's values, and a percentile moves with every sample: the
 * line's counter, total, min and max are written directly
 * (stats_tree_priv.h, the implementors' API; the same on 4.0 to 4.6).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "config.h"

#include <string.h>

#include <epan/stats_tree.h>
#include <epan/stats_tree_priv.h>

#include "flowtally.h"
#include "sketch.h"
#include "stats.h"

#define N_FLOWS "Flows"
#define N_ONE_WAY "One-directional"
#define N_PACKETS "Packets"
#define N_NO_TS "Without TS option"
#define N_PAYLOAD "Payload bytes"
#define N_TSRTD "TS RTD (us)"
#define N_SEQRTD "Seq RTD (us)"
#define N_HALF "Half RTD (us)"
#define N_PATH "Path RTD (us)"
#define N_HIST_HALF "Half RTD histogram (us)"
#define N_HIST_PATH "Path RTD histogram (us)"
#define N_HOLES "Holes"
#define N_BEHIND "Behind"
#define N_DUPACKS "Duplicate ACKs"

static const unsigned percentiles[] = {50, 90, 99};
static const char *const percentile_names[] = {"p50", "p90", "p99"};
#define N_PERCENTILES 3

/* A distribution line (Half RTD, Path RTD) and its percentile lines. */
typedef struct dist_lines {
    cm_sketch sketch;
    int id;                           /* the line, a parent node */
    stat_node *pct[N_PERCENTILES];    /* its p50, p90, p99 lines */
} dist_lines;

/* One flow line (a connmon.flow label). */
typedef struct flow_lines {
    guint64 payload; /* bytes so far (a node stops at G_MAXINT) */
    dist_lines half, path;
} flow_lines;

/* What one tree needs besides its nodes.  stats_tree gives callbacks no
 * user pointer, so these are found by tree. */
typedef struct tree_state {
    int flows_id, packets_id, payload_id;
    cm_flow_tally tally;
    guint64 payload;    /* bytes of all flows */
    GArray *seen;       /* guint8 per tcp.stream: bit 0/1 = direction seen */
    GHashTable *labels; /* own copy of a flow label -> flow_lines */
} tree_state;

static GHashTable *trees; /* stats_tree * -> tree_state * */

static void free_flow_lines(gpointer p)
{
    flow_lines *fl = (flow_lines *)p;
    cm_sketch_free(&fl->half.sketch);
    cm_sketch_free(&fl->path.sketch);
    g_free(fl);
}

static void free_state(gpointer p)
{
    tree_state *state = (tree_state *)p;
    g_array_free(state->seen, TRUE);
    g_hash_table_destroy(state->labels);
    g_free(state);
}

/* The histogram's buckets as stats_tree ranges in microseconds ("0-99",
 * "100-199", ..., "10000000-"), from the engine's bucket bounds. */
static void create_histogram(stats_tree *st, const char *name)
{
    static char ranges[CM_HIST_BUCKETS][32];
    for (unsigned i = 0; i < CM_HIST_BUCKETS; i++) {
        gint64 lo = cm_hist_lower(i) / 1000;
        if (i + 1 < CM_HIST_BUCKETS)
            g_snprintf(ranges[i], sizeof ranges[i], "%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT, lo,
                       cm_hist_lower(i + 1) / 1000 - 1);
        else
            g_snprintf(ranges[i], sizeof ranges[i], "%" G_GINT64_FORMAT "-", lo);
    }
    G_STATIC_ASSERT(CM_HIST_BUCKETS == 17);
    stats_tree_create_range_node(st, name, 0, ranges[0], ranges[1], ranges[2], ranges[3],
                                 ranges[4], ranges[5], ranges[6], ranges[7], ranges[8],
                                 ranges[9], ranges[10], ranges[11], ranges[12], ranges[13],
                                 ranges[14], ranges[15], ranges[16], NULL);
}

static void stats_init(stats_tree *st)
{
    tree_state *state = g_new0(tree_state, 1);
    state->seen = g_array_new(FALSE, TRUE, sizeof(guint8));
    state->labels = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, free_flow_lines);

    /* Every node that has children needs its own name table: stats_tree
     * looks a child up there, or else in the tree-wide table of parents. */
    state->flows_id = stats_tree_create_node(st, N_FLOWS, 0, STAT_DT_INT, TRUE);
    stat_node_set_flags(st, N_FLOWS, 0, TRUE, ST_FLG_SORT_TOP);
    stats_tree_create_node(st, N_ONE_WAY, state->flows_id, STAT_DT_INT, FALSE);
    state->packets_id = stats_tree_create_node(st, N_PACKETS, 0, STAT_DT_INT, TRUE);
    stats_tree_create_node(st, N_NO_TS, state->packets_id, STAT_DT_INT, FALSE);
    stat_node_set_flags(st, N_NO_TS, state->packets_id, FALSE, ST_FLG_SORT_TOP);
    state->payload_id = stats_tree_create_node(st, N_PAYLOAD, 0, STAT_DT_INT, TRUE);
    create_histogram(st, N_HIST_HALF);
    create_histogram(st, N_HIST_PATH);

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

/* A line counting bytes, kept at G_MAXINT once it gets there (a node's
 * counter is a gint). */
static void add_bytes(stats_tree *st, const char *name, int parent_id, gboolean with_children,
                      guint64 *total, guint32 bytes)
{
    if (*total + bytes <= (guint64)G_MAXINT)
        increase_stat_node(st, name, parent_id, with_children, (gint)bytes);
    else
        set_stat_node(st, name, parent_id, with_children, G_MAXINT);
    *total += bytes;
}

/* Creates a distribution line with its percentile lines, empty. */
static void create_dist_lines(stats_tree *st, dist_lines *d, const char *name, int flow_id)
{
    d->id = stat_node_set_flags(st, name, flow_id, TRUE, ST_FLG_AVERAGE);
    stat_node *line = (stat_node *)g_ptr_array_index(st->parents, d->id);
    for (int i = 0; i < N_PERCENTILES; i++) {
        stat_node_set_flags(st, percentile_names[i], d->id, FALSE, ST_FLG_AVERAGE);
        d->pct[i] = NULL;
        for (stat_node *c = line->children; c; c = c->next)
            if (strcmp(c->name, percentile_names[i]) == 0)
                d->pct[i] = c;
    }
}

/* A percentile line: the value (us) as its min, max and average, its rank
 * as its count. */
static void set_percentile_line(stat_node *node, guint64 rank, gint us)
{
    if (!node)
        return;
    node->counter = (gint)MIN(rank, (guint64)G_MAXINT);
    node->total.int_total = (gint64)us * node->counter;
    node->minvalue.int_min = us;
    node->maxvalue.int_max = us;
}

/* One more sample of a distribution: its line, its percentile lines and
 * the histogram. */
static void add_sample(stats_tree *st, dist_lines *d, const char *name, int flow_id,
                       const char *hist, gint64 ns)
{
    gint us = ns_to_us(ns);
    avg_stat_node_add_value_int(st, name, flow_id, TRUE, us);
    tick_stat_node(st, hist, 0, FALSE);
    stats_tree_tick_range(st, hist, 0, us);
    if (!cm_sketch_add(&d->sketch, ns))
        return; /* out of memory: the percentiles stay as they were */
    cm_delay_summary sum;
    cm_sketch_summarise(&d->sketch, &sum);
    const gint64 value[N_PERCENTILES] = {sum.p50, sum.p90, sum.p99};
    for (int i = 0; i < N_PERCENTILES; i++)
        set_percentile_line(d->pct[i], cm_rank(sum.count, percentiles[i]), ns_to_us(value[i]));
}

/* The lines of a flow seen for the first time: every flow gets every line,
 * in this order, zero or not. */
static flow_lines *create_flow_lines(stats_tree *st, tree_state *state, const char *label,
                                     int flow_id)
{
    flow_lines *fl = g_new0(flow_lines, 1);
    g_hash_table_insert(state->labels, g_strdup(label), fl);
    stat_node_set_flags(st, N_TSRTD, flow_id, FALSE, ST_FLG_AVERAGE);
    stat_node_set_flags(st, N_SEQRTD, flow_id, FALSE, ST_FLG_AVERAGE);
    create_dist_lines(st, &fl->half, N_HALF, flow_id);
    create_dist_lines(st, &fl->path, N_PATH, flow_id);
    set_stat_node(st, N_HOLES, flow_id, FALSE, 0);
    set_stat_node(st, N_BEHIND, flow_id, FALSE, 0);
    set_stat_node(st, N_DUPACKS, flow_id, FALSE, 0);
    set_stat_node(st, label, state->payload_id, FALSE, 0);
    return fl;
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
    flow_lines *fl = (flow_lines *)g_hash_table_lookup(state->labels, fr->flow);
    int flow_id = tick_stat_node(st, fr->flow, state->packets_id, TRUE);
    if (!fl)
        fl = create_flow_lines(st, state, fr->flow, flow_id);
    if (r->payload) {
        add_bytes(st, N_PAYLOAD, 0, TRUE, &state->payload, r->payload);
        add_bytes(st, fr->flow, state->payload_id, FALSE, &fl->payload, r->payload);
    }
    if (r->present & CM_HAS_TSRTD)
        avg_stat_node_add_value_int(st, N_TSRTD, flow_id, FALSE, ns_to_us(r->tsrtd_ns));
    if (r->present & CM_HAS_SEQRTD)
        avg_stat_node_add_value_int(st, N_SEQRTD, flow_id, FALSE, ns_to_us(r->seqrtd_ns));
    if (r->present & (CM_HAS_TSRTD | CM_HAS_SEQRTD))
        add_sample(st, &fl->half, N_HALF, flow_id, N_HIST_HALF,
                   (r->present & CM_HAS_TSRTD) ? r->tsrtd_ns : r->seqrtd_ns);
    if (r->present & CM_HAS_PATHRTD)
        add_sample(st, &fl->path, N_PATH, flow_id, N_HIST_PATH, r->pathrtd_ns);
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
