/* connmon post-dissector: registration, preferences and presentation.
 *
 * Results are computed once per frame, on the first pass and in frame
 * order, by the engine (engine/), from the facts extract.c collected while
 * TCP was dissected.  They are stored per frame and put in the tree from
 * the stored copy on every pass, so one-pass, two-pass and GUI dissection
 * all show the same values.
 *
 * The stored copy is compact (engine/frame_store.h: ~15-25 bytes a frame
 * instead of a ~140-byte struct plus Wireshark's per-frame proto data
 * list): later passes decode it into a packet-scope view.  What flow
 * labels are made of is kept per flow (engine/label_table.h); the text is
 * made only when shown or tapped.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "config.h"

#include <epan/expert.h>
#include <epan/packet.h>
#include <epan/prefs.h>
#include <epan/tap.h>
#include <wsutil/report_message.h>
#include <wsutil/wslog.h>

#include "connmon.h"
#include "fields.h"
#include "frame_store.h"
#include "label_table.h"
#include "extract.h"
#include "packet-connmon.h"
#include "stats.h"

static int proto_connmon = -1;
static int connmon_tap = -1;

/* Field and expert ids, one per row of engine/fields.def. */
static int hf[CM_F_COUNT];

static gint ett_connmon = -1;

static expert_field ei[CM_E_COUNT];

/* Preferences: the text as typed, and the value in force. */
static const char *pref_rtd_max_age_text = "10";
/* A text preference, not an enum: Wireshark silently ignores an unknown
 * enum value given with -o, and a typo here should be reported. */
static const char *pref_ts_pure_acks_text = "clocked";
static gint64 rtd_max_age_ns = CM_DEFAULT_RTD_MAX_AGE_NS;
static cm_ts_pure_acks ts_pure_acks = CM_TS_PURE_ACKS_CLOCKED;

/* Analysis state of the open file: made in init, dropped in cleanup. */
static cm_engine *engine;
/* Every analysed frame's result, and every flow's label. */
static cm_frame_store frames = CM_FRAME_STORE_INIT;
static cm_label_table labels = CM_LABEL_TABLE_INIT;
/* A frame could not be analysed or stored (out of memory): said once per
 * file; frames and labels count how many. */
static gboolean analysis_failed, storage_failed;

/* What a frame shows, for one dissection of it: fr is also the tap data
 * (stats.h).  fr.flow is made in `label` when first needed. */
typedef struct frame_view {
    connmon_frame_result fr;
    char label[CM_FLOW_LABEL_MAX];
} frame_view;

static void connmon_init(void)
{
    cm_config cfg;
    cm_config_default(&cfg);
    cfg.rtd_max_age_ns = rtd_max_age_ns;
    cfg.ts_pure_acks = ts_pure_acks;
    /* cleanup normally ran since the last file: then these free nothing */
    cm_frame_store_free(&frames);
    cm_label_table_free(&labels);
    cm_engine_free(engine);
    engine = cm_engine_new(&cfg);
    if (!engine)
        report_failure("connmon: out of memory: no round-trip analysis for this file");
    analysis_failed = storage_failed = FALSE;
    connmon_extract_reset();
}

/* What the file's storage came to: tshark --log-level info shows it
 * (tools/bench/scale.py reads it). */
static void log_storage(void)
{
    if (!frames.frames && !frames.failures && !labels.failures)
        return;
    ws_log("connmon", LOG_LEVEL_INFO,
           "connmon storage: %" G_GUINT64_FORMAT " frames, %" G_GSIZE_FORMAT
           " bytes (records %" G_GUINT64_FORMAT "); flow labels %" G_GSIZE_FORMAT
           " bytes; not stored: %" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT " labels",
           frames.frames, cm_frame_store_memory(&frames), frames.record_bytes,
           cm_label_table_memory(&labels), frames.failures, labels.failures);
    if (engine) {
        cm_engine_memory m;
        cm_engine_counters c;
        cm_engine_get_memory(engine, &m);
        cm_engine_get_counters(engine, &c);
        ws_log("connmon", LOG_LEVEL_INFO,
               "connmon engine: %" G_GSIZE_FORMAT " connections (%" G_GSIZE_FORMAT
               " not packed), %" G_GSIZE_FORMAT " bytes; packed %" G_GUINT64_FORMAT
               " times, unpacked %" G_GUINT64_FORMAT,
               m.conns, m.conns_hot, m.bytes, c.conns_packed, c.conns_unpacked);
    }
}

static void connmon_cleanup(void)
{
    log_storage();
    /* The store's large blocks first: freed after the engine's many small
     * ones, each would make glibc walk all of those (malloc_consolidate). */
    cm_frame_store_free(&frames);
    cm_label_table_free(&labels);
    cm_engine_free(engine);
    engine = NULL;
    connmon_extract_cleanup();
}

static void storage_failure(packet_info *pinfo)
{
    if (!storage_failed)
        report_failure("connmon: out of memory from frame %u on: some frames show no or "
                       "incomplete connmon fields when dissected again", pinfo->num);
    storage_failed = TRUE;
}

/* First pass: analyses the frame, stores what it shows. */
static gboolean analyse_frame(packet_info *pinfo, frame_view *v)
{
    const cm_packet *pkt = connmon_extract_get(pinfo);
    if (!pkt || !engine)
        return FALSE;
    cm_frame_entry e;
    if (!cm_engine_analyse(engine, pkt, &e.r)) {
        if (!analysis_failed)
            report_failure("connmon: out of memory from frame %u on: some frames carry no "
                           "connmon fields", pinfo->num);
        analysis_failed = TRUE;
        return FALSE;
    }
    e.stream = pkt->stream;
    e.has_ts = pkt->has_ts;
    gboolean labelled = cm_label_table_note(&labels, pkt->stream, e.r.direction, pkt);
    if (!cm_frame_store_put(&frames, pinfo->num, &e) || !labelled)
        storage_failure(pinfo);
    v->fr.r = e.r;
    v->fr.stream = e.stream;
    v->fr.has_ts = e.has_ts;
    v->fr.flow = NULL;
    return TRUE;
}

/* Later passes: what the first pass stored. */
static gboolean recall_frame(packet_info *pinfo, frame_view *v)
{
    cm_frame_entry e;
    if (!cm_frame_store_get(&frames, pinfo->num, &e))
        return FALSE;
    v->fr.r = e.r;
    v->fr.stream = e.stream;
    v->fr.has_ts = e.has_ts;
    v->fr.flow = NULL;
    return TRUE;
}

/* connmon.flow of the frame ("" when its label could not be stored). */
static const char *view_flow(frame_view *v)
{
    if (!v->fr.flow) {
        v->fr.flow = cm_label_table_get(&labels, v->fr.stream, v->fr.r.direction, v->label);
        if (!v->fr.flow)
            v->fr.flow = "";
    }
    return v->fr.flow;
}

/* Expert infos count even without a tree (tshark -z expert, taps).  Fixed
 * messages, so Expert Information groups them; the numbers are in the
 * fields next to them (seqgap for hole/behind, dupack for dupack). */
static void add_experts(packet_info *pinfo, proto_item *gap_item, proto_item *dup_item,
                        const cm_result *r)
{
    for (int e = 0; e < CM_E_COUNT; e++) {
        if (r->expert & cm_expert_table[e].bit)
            expert_add_info(pinfo, e == CM_E_DUPACK ? dup_item : gap_item, &ei[e]);
    }
}

static proto_item *add_field(proto_tree *st, tvbuff_t *tvb, cm_field_id id, gint64 v,
                             const char *flow)
{
    proto_item *it;
    switch (cm_field_table[id].kind) {
    case CM_KIND_TIME: {
        nstime_t t;
        t.secs = (time_t)(v / 1000000000);
        t.nsecs = (int)(v % 1000000000);
        it = proto_tree_add_time(st, hf[id], tvb, 0, 0, &t);
        break;
    }
    case CM_KIND_BOOL:
        it = proto_tree_add_boolean(st, hf[id], tvb, 0, 0, (guint32)v);
        break;
    case CM_KIND_INT32:
        it = proto_tree_add_int(st, hf[id], tvb, 0, 0, (gint32)v);
        break;
    case CM_KIND_UINT64:
        it = proto_tree_add_uint64(st, hf[id], tvb, 0, 0, (guint64)v);
        break;
    case CM_KIND_STRING:
        it = proto_tree_add_string(st, hf[id], tvb, 0, 0, flow);
        break;
    default: /* frame numbers, UINT32 */
        it = proto_tree_add_uint(st, hf[id], tvb, 0, 0, (guint32)v);
        break;
    }
    proto_item_set_generated(it);
    return it;
}

/* tshark builds a "fake" tree when it only needs some fields (filters,
 * statistics, and -T fields since Wireshark 4.4): items nobody asked for
 * are then skipped before any work.  Wireshark 4.0 builds a visible tree
 * for -T fields, where every item counts. */
static void present(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, frame_view *v)
{
    const cm_result *r = &v->fr.r;
    if (!tree) {
        if (r->expert)
            add_experts(pinfo, NULL, NULL, r);
        return;
    }
    const gboolean visible = PTREE_DATA(tree)->visible;
    /* Expert fields hang under the protocol item, so it is made whenever
     * there is an expert info, whatever was asked for. */
    if (!r->expert && !visible && !proto_field_is_referenced(tree, proto_connmon))
        return;

    proto_item *ti = proto_tree_add_item(tree, proto_connmon, tvb, 0, 0, ENC_NA);
    proto_item_set_generated(ti);
    proto_tree *st = proto_item_add_subtree(ti, ett_connmon);
    proto_item *gap_item = ti, *dup_item = ti;

    for (int id = 0; id < CM_F_COUNT; id++) {
        gint64 val = 0;
        if (id != CM_F_FLOW && !cm_field_value(r, (cm_field_id)id, &val))
            continue;
        if (!visible && !proto_field_is_referenced(tree, hf[id]))
            continue;
        proto_item *it = add_field(st, tvb, (cm_field_id)id, val,
                                   id == CM_F_FLOW ? view_flow(v) : NULL);
        if (id == CM_F_SEQGAP)
            gap_item = it;
        else if (id == CM_F_DUPACK)
            dup_item = it;
    }
    if (r->expert)
        add_experts(pinfo, gap_item, dup_item, r);
}

static int dissect_connmon(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data _U_)
{
    /* The tap reads its data after the whole frame is dissected: then the
     * view lives in packet scope; otherwise on the stack. */
    const gboolean tapped = have_tap_listener(connmon_tap);
    frame_view local, *v = tapped ? wmem_new(pinfo->pool, frame_view) : &local;
    if (!(pinfo->fd->visited ? recall_frame(pinfo, v) : analyse_frame(pinfo, v)))
        return 0;
    present(tvb, pinfo, tree, v);
    /* On every pass: the GUI re-taps frames dissected long ago. */
    if (tapped) {
        view_flow(v);
        tap_queue_packet(connmon_tap, pinfo, &v->fr);
    }
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

/* hf[] registration from engine/fields.def (Wireshark keeps the pointer). */
static hf_register_info *field_registrations(void)
{
    static hf_register_info hf_info[CM_F_COUNT];
    /* HFILL fills what registration sets, on every version. */
    static const header_field_info hf_blank = {NULL, NULL, FT_NONE, BASE_NONE, NULL, 0, NULL,
                                               HFILL};
    for (int id = 0; id < CM_F_COUNT; id++) {
        const cm_field_info *f = &cm_field_table[id];
        header_field_info *h = &hf_info[id].hfinfo;
        *h = hf_blank;
        hf[id] = -1;
        hf_info[id].p_id = &hf[id];
        h->name = f->name;
        h->abbrev = f->abbrev;
        h->blurb = f->blurb;
        h->display = BASE_NONE;
        switch (f->kind) {
        case CM_KIND_TIME: h->type = FT_RELATIVE_TIME; break;
        case CM_KIND_FRAME: h->type = FT_FRAMENUM; break;
        case CM_KIND_FRAME_ACK:
            h->type = FT_FRAMENUM;
            h->strings = FRAMENUM_TYPE(FT_FRAMENUM_ACK);
            break;
        case CM_KIND_FRAME_DUP_ACK:
            h->type = FT_FRAMENUM;
            h->strings = FRAMENUM_TYPE(FT_FRAMENUM_DUP_ACK);
            break;
        case CM_KIND_BOOL: h->type = FT_BOOLEAN; break;
        case CM_KIND_INT32: h->type = FT_INT32; h->display = BASE_DEC; break;
        case CM_KIND_UINT32: h->type = FT_UINT32; h->display = BASE_DEC; break;
        case CM_KIND_UINT64: h->type = FT_UINT64; h->display = BASE_DEC; break;
        case CM_KIND_STRING: h->type = FT_STRING; break;
        }
    }
    return hf_info;
}

/* ei[] registration from engine/fields.def. */
static ei_register_info *expert_registrations(void)
{
    static ei_register_info ei_info[CM_E_COUNT];
    static const expert_field_info ei_blank = {NULL, 0, 0, NULL, EXPFILL};
    static const int severity[CM_E_COUNT] = {
#define CM_EXPERT(id, abbrev, group, sev, summary) [CM_E_##id] = PI_##sev,
#include "fields.def"
    };
    static const int group[CM_E_COUNT] = {
#define CM_EXPERT(id, abbrev, grp, sev, summary) [CM_E_##id] = PI_##grp,
#include "fields.def"
    };
    for (int e = 0; e < CM_E_COUNT; e++) {
        ei[e] = (expert_field)EI_INIT;
        ei_info[e].ids = &ei[e];
        ei_info[e].eiinfo = ei_blank;
        ei_info[e].eiinfo.name = cm_expert_table[e].abbrev;
        ei_info[e].eiinfo.group = group[e];
        ei_info[e].eiinfo.severity = severity[e];
        ei_info[e].eiinfo.summary = cm_expert_table[e].summary;
    }
    return ei_info;
}

void proto_register_connmon(void)
{
    static gint *ett[] = {&ett_connmon};
    proto_connmon = proto_register_protocol("connmon: passive TCP round-trip delays", "connmon",
                                            "connmon");
    proto_register_field_array(proto_connmon, field_registrations(), CM_F_COUNT);
    proto_register_subtree_array(ett, array_length(ett));
    expert_module_t *em = expert_register_protocol(proto_connmon);
    expert_register_field_array(em, expert_registrations(), CM_E_COUNT);

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
