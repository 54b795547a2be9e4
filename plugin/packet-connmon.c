/* connmon post-dissector: registration, preferences and presentation.
 *
 * Results are computed once per frame, on the first pass and in frame
 * order, by the engine (engine/), from the facts extract.c collected while
 * TCP was dissected.  They are stored per frame and put in the tree from
 * the stored copy on every pass, so one-pass, two-pass and GUI dissection
 * all show the same values.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "config.h"

#include <epan/expert.h>
#include <epan/packet.h>
#include <epan/prefs.h>
#include <epan/proto_data.h>
#include <epan/tap.h>
#include <wsutil/report_message.h>

#include "connmon.h"
#include "extract.h"
#include "packet-connmon.h"
#include "stats.h"

static int proto_connmon = -1;
static int connmon_tap = -1;

static int hf_tsrtd = -1;
static int hf_tsrtd_frame = -1;
static int hf_tsrtd_pureack = -1;
static int hf_seqrtd = -1;
static int hf_seqrtd_frame = -1;
static int hf_minrtd = -1;
static int hf_seqgap = -1;
static int hf_dupack = -1;
static int hf_dupack_num = -1;
static int hf_dupack_frame = -1;
static int hf_payload = -1;
static int hf_flowbytes = -1;
static int hf_flow = -1;

static gint ett_connmon = -1;

static expert_field ei_hole = EI_INIT;
static expert_field ei_behind = EI_INIT;
static expert_field ei_dupack = EI_INIT;

/* Preferences: the text as typed, and the value in force. */
static const char *pref_rtd_max_age_text = "10";
/* A text preference, not an enum: Wireshark silently ignores an unknown
 * enum value given with -o, and a typo here should be reported. */
static const char *pref_ts_pure_acks_text = "clocked";
static gint64 rtd_max_age_ns = CM_DEFAULT_RTD_MAX_AGE_NS;
static cm_ts_pure_acks ts_pure_acks = CM_TS_PURE_ACKS_CLOCKED;

/* Analysis state of the open file: made in init, dropped in cleanup. */
static cm_engine *engine;
/* Flow labels, made once per flow: index stream * 2 + direction. */
static GPtrArray *flow_labels;

/* What a frame shows, stored on the first pass (stats.h: it is also the
 * tap data). */
typedef connmon_frame_result frame_result;

static void connmon_init(void)
{
    cm_config cfg;
    cm_config_default(&cfg);
    cfg.rtd_max_age_ns = rtd_max_age_ns;
    cfg.ts_pure_acks = ts_pure_acks;
    engine = cm_engine_new(&cfg);
    flow_labels = g_ptr_array_new();
    connmon_extract_reset();
}

static void connmon_cleanup(void)
{
    cm_engine_free(engine);
    engine = NULL;
    if (flow_labels)
        g_ptr_array_free(flow_labels, TRUE);
    flow_labels = NULL;
    connmon_extract_cleanup();
}

static const char *flow_label(const cm_packet *pkt, const cm_result *r)
{
    guint idx = pkt->stream * 2u + r->direction;
    if (idx >= flow_labels->len)
        g_ptr_array_set_size(flow_labels, idx + 1);
    char *label = (char *)g_ptr_array_index(flow_labels, idx);
    if (!label) {
        char buf[CM_FLOW_LABEL_MAX];
        cm_format_flow(buf, sizeof buf, pkt);
        label = wmem_strdup(wmem_file_scope(), buf);
        g_ptr_array_index(flow_labels, idx) = label;
    }
    return label;
}

static frame_result *analyse_frame(packet_info *pinfo)
{
    const cm_packet *pkt = connmon_extract_get(pinfo);
    if (!pkt || !engine)
        return NULL;
    frame_result *fr = wmem_new(wmem_file_scope(), frame_result);
    if (!cm_engine_analyse(engine, pkt, &fr->r))
        return NULL;
    fr->flow = flow_label(pkt, &fr->r);
    fr->stream = pkt->stream;
    fr->has_ts = pkt->has_ts;
    p_add_proto_data(wmem_file_scope(), pinfo, proto_connmon, 0, fr);
    return fr;
}

static nstime_t ns_to_nstime(gint64 ns)
{
    nstime_t t;
    t.secs = (time_t)(ns / 1000000000);
    t.nsecs = (int)(ns % 1000000000);
    return t;
}

static proto_item *add_time(proto_tree *tree, int hf, tvbuff_t *tvb, gint64 ns)
{
    nstime_t t = ns_to_nstime(ns);
    proto_item *it = proto_tree_add_time(tree, hf, tvb, 0, 0, &t);
    proto_item_set_generated(it);
    return it;
}

static proto_item *add_uint(proto_tree *tree, int hf, tvbuff_t *tvb, guint32 v)
{
    proto_item *it = proto_tree_add_uint(tree, hf, tvb, 0, 0, v);
    proto_item_set_generated(it);
    return it;
}

/* Expert infos count even without a tree (tshark -z expert, taps). */
static void add_experts(packet_info *pinfo, proto_item *gap_item, proto_item *dup_item,
                        const cm_result *r)
{
    /* Fixed messages, so Expert Information groups them; the numbers are
     * in the fields next to them. */
    if (r->expert & CM_EXPERT_HOLE)
        expert_add_info(pinfo, gap_item, &ei_hole);
    if (r->expert & CM_EXPERT_BEHIND)
        expert_add_info(pinfo, gap_item, &ei_behind);
    if (r->expert & CM_EXPERT_DUPACK)
        expert_add_info(pinfo, dup_item, &ei_dupack);
}

/* tshark builds a "fake" tree when it only needs some fields (filters,
 * statistics): items nobody asked for are then skipped before any work.
 * (-T fields builds a visible tree: there every item counts, which is why
 * the protocol line carries no summary text.) */
#define WANTED(hf) (visible || proto_field_is_referenced(tree, (hf)))

static void present(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, const frame_result *fr)
{
    const cm_result *r = &fr->r;
    if (!tree) {
        if (r->expert)
            add_experts(pinfo, NULL, NULL, r);
        return;
    }
    const gboolean visible = PTREE_DATA(tree)->visible;
    /* Expert fields hang under the protocol item, so it is made whenever
     * there is an expert info, whatever was asked for. */
    if (!r->expert && !WANTED(proto_connmon))
        return;

    proto_item *ti = proto_tree_add_item(tree, proto_connmon, tvb, 0, 0, ENC_NA);
    proto_item_set_generated(ti);
    proto_tree *st = proto_item_add_subtree(ti, ett_connmon);
    proto_item *it, *gap_item = ti, *dup_item = ti;

    if (r->present & CM_HAS_TSRTD) {
        if (WANTED(hf_tsrtd))
            add_time(st, hf_tsrtd, tvb, r->tsrtd_ns);
        if (WANTED(hf_tsrtd_frame))
            add_uint(st, hf_tsrtd_frame, tvb, r->tsrtd_frame);
        if (WANTED(hf_tsrtd_pureack)) {
            it = proto_tree_add_boolean(st, hf_tsrtd_pureack, tvb, 0, 0, r->tsrtd_pureack);
            proto_item_set_generated(it);
        }
    }
    if (r->present & CM_HAS_SEQRTD) {
        if (WANTED(hf_seqrtd))
            add_time(st, hf_seqrtd, tvb, r->seqrtd_ns);
        if (WANTED(hf_seqrtd_frame))
            add_uint(st, hf_seqrtd_frame, tvb, r->seqrtd_frame);
    }
    if ((r->present & CM_HAS_MINRTD) && WANTED(hf_minrtd))
        add_time(st, hf_minrtd, tvb, r->minrtd_ns);
    if ((r->present & CM_HAS_SEQGAP) && WANTED(hf_seqgap)) {
        gap_item = proto_tree_add_int(st, hf_seqgap, tvb, 0, 0, r->seqgap);
        proto_item_set_generated(gap_item);
    }
    if (r->present & CM_HAS_DUPACK) {
        if (WANTED(hf_dupack))
            dup_item = add_time(st, hf_dupack, tvb, r->dupack_ns);
        if (WANTED(hf_dupack_num))
            add_uint(st, hf_dupack_num, tvb, r->dupack_num);
        if (WANTED(hf_dupack_frame))
            add_uint(st, hf_dupack_frame, tvb, r->dupack_frame);
    }
    if (WANTED(hf_payload))
        add_uint(st, hf_payload, tvb, r->payload);
    if (WANTED(hf_flowbytes)) {
        it = proto_tree_add_uint64(st, hf_flowbytes, tvb, 0, 0, r->flowbytes);
        proto_item_set_generated(it);
    }
    if (WANTED(hf_flow)) {
        it = proto_tree_add_string(st, hf_flow, tvb, 0, 0, fr->flow);
        proto_item_set_generated(it);
    }
    if (r->expert)
        add_experts(pinfo, gap_item, dup_item, r);
}

static int dissect_connmon(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data _U_)
{
    frame_result *fr;
    if (!pinfo->fd->visited)
        fr = analyse_frame(pinfo);
    else
        fr = (frame_result *)p_get_proto_data(wmem_file_scope(), pinfo, proto_connmon, 0);
    if (!fr)
        return 0;
    present(tvb, pinfo, tree, fr);
    /* On every pass: the GUI re-taps frames dissected long ago. */
    if (have_tap_listener(connmon_tap))
        tap_queue_packet(connmon_tap, pinfo, fr);
    return tvb_captured_length(tvb);
}

/* A bad value is reported and the value in force stays. */
static void apply_prefs(void)
{
    gint64 ns;
    const char *err = cm_parse_seconds(pref_rtd_max_age_text, &ns);
    if (err)
        report_failure("connmon.rtd_max_age: \"%s\" %s (a number of seconds >= 0 is "
                       "expected, e.g. 10 or 0.5); keeping %.9g s",
                       pref_rtd_max_age_text ? pref_rtd_max_age_text : "", err,
                       rtd_max_age_ns / 1e9);
    else
        rtd_max_age_ns = ns;

    cm_ts_pure_acks mode;
    if (cm_parse_ts_pure_acks(pref_ts_pure_acks_text, &mode))
        ts_pure_acks = mode;
    else
        report_failure("connmon.ts_pure_acks: \"%s\" is not one of clocked, all, none; "
                       "keeping %s",
                       pref_ts_pure_acks_text ? pref_ts_pure_acks_text : "",
                       cm_ts_pure_acks_name(ts_pure_acks));
}

void proto_register_connmon(void)
{
    static hf_register_info hf[] = {
        {&hf_tsrtd, {"TS round-trip delay", "connmon.tsrtd", FT_RELATIVE_TIME, BASE_NONE, NULL, 0x0,
                     "Delay capture point -> this packet's sender -> capture point, from the "
                     "first sighting of the TSval this packet echoes", HFILL}},
        {&hf_tsrtd_frame, {"TSval seen in frame", "connmon.tsrtd.frame", FT_FRAMENUM, BASE_NONE,
                           FRAMENUM_TYPE(FT_FRAMENUM_ACK), 0x0,
                           "Frame whose TSval this packet echoes", HFILL}},
        {&hf_tsrtd_pureack, {"TSval from a pure ACK", "connmon.tsrtd.pureack", FT_BOOLEAN, BASE_NONE,
                             NULL, 0x0, "The echoed TSval was first seen on a pure ACK", HFILL}},
        {&hf_seqrtd, {"Seq round-trip delay", "connmon.seqrtd", FT_RELATIVE_TIME, BASE_NONE, NULL, 0x0,
                      "Delay capture point -> this packet's sender -> capture point, from the data "
                      "segment this ACK covers", HFILL}},
        {&hf_seqrtd_frame, {"Data segment in frame", "connmon.seqrtd.frame", FT_FRAMENUM, BASE_NONE,
                            FRAMENUM_TYPE(FT_FRAMENUM_ACK), 0x0,
                            "The data segment this ACK acknowledges", HFILL}},
        {&hf_minrtd, {"Minimum round-trip delay", "connmon.minrtd", FT_RELATIVE_TIME, BASE_NONE, NULL,
                      0x0, "Smallest TS or seq round-trip delay of this flow so far", HFILL}},
        {&hf_seqgap, {"Sequence gap", "connmon.seqgap", FT_INT32, BASE_DEC, NULL, 0x0,
                      "seq - highest sequence end seen: 0 in order, > 0 bytes never seen (lost "
                      "upstream), < 0 behind (retransmission or reordering)", HFILL}},
        {&hf_dupack, {"Duplicate ACK age", "connmon.dupack", FT_RELATIVE_TIME, BASE_NONE, NULL, 0x0,
                      "Time since the original ACK", HFILL}},
        {&hf_dupack_num, {"Duplicate ACK number", "connmon.dupack.num", FT_UINT32, BASE_DEC, NULL, 0x0,
                          "1 for the first duplicate of the original ACK, 2 for the second, ...",
                          HFILL}},
        {&hf_dupack_frame, {"Original ACK in frame", "connmon.dupack.frame", FT_FRAMENUM, BASE_NONE,
                            FRAMENUM_TYPE(FT_FRAMENUM_DUP_ACK), 0x0, NULL, HFILL}},
        {&hf_payload, {"Payload bytes", "connmon.payload", FT_UINT32, BASE_DEC, NULL, 0x0,
                       "TCP payload bytes of this packet", HFILL}},
        {&hf_flowbytes, {"Flow bytes", "connmon.flowbytes", FT_UINT64, BASE_DEC, NULL, 0x0,
                         "Payload bytes of this flow so far, this packet included", HFILL}},
        {&hf_flow, {"Flow", "connmon.flow", FT_STRING, BASE_NONE, NULL, 0x0,
                    "src:sport+dst:dport of this direction", HFILL}},
    };
    static gint *ett[] = {&ett_connmon};
    static ei_register_info ei[] = {
        {&ei_hole, {"connmon.expert.hole", PI_SEQUENCE, PI_WARN,
                    "Bytes missing before this segment (lost upstream of the capture point)",
                    EXPFILL}},
        {&ei_behind, {"connmon.expert.behind", PI_SEQUENCE, PI_NOTE,
                      "Segment behind the highest sequence seen (retransmission or reordering)",
                      EXPFILL}},
        {&ei_dupack, {"connmon.expert.dupack", PI_SEQUENCE, PI_NOTE, "Duplicate ACK", EXPFILL}},
    };

    proto_connmon = proto_register_protocol("connmon: passive TCP round-trip delays", "connmon",
                                            "connmon");
    proto_register_field_array(proto_connmon, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
    expert_module_t *em = expert_register_protocol(proto_connmon);
    expert_register_field_array(em, ei, array_length(ei));

    module_t *mod = prefs_register_protocol(proto_connmon, apply_prefs);
    prefs_register_string_preference(
        mod, "rtd_max_age", "Round-trip start max age (seconds)",
        "A pending round-trip start (TSval or data segment) is forgotten once the stream's "
        "latest capture time is more than this many seconds after it. Decimal, e.g. 10 or 0.5.",
        &pref_rtd_max_age_text);
    prefs_register_string_preference(
        mod, "ts_pure_acks", "TS round trips started by pure ACKs (clocked, all, none)",
        "clocked: count them only when the echoing side had data in flight (default); "
        "all: always (the original connmon); none: never (as ePPing)",
        &pref_ts_pure_acks_text);

    connmon_tap = register_tap("connmon");
    connmon_stats_register();

    register_init_routine(connmon_init);
    register_cleanup_routine(connmon_cleanup);
}

void proto_reg_handoff_connmon(void)
{
    dissector_handle_t h = create_dissector_handle(dissect_connmon, proto_connmon);
    register_postdissector(h);
    connmon_extract_init(proto_connmon);
}
