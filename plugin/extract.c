/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <epan/conversation.h>
#include <epan/exceptions.h>
#include <epan/dissectors/packet-tcp.h>

#include "extract.h"
#include "ws_compat.h"

#define IP_PROTO_TCP 6

static int proto_connmon = -1;
static int proto_tcp = -1;
static protocol_t *connmon_protocol;
static dissector_handle_t tcp_handle;

/* Facts of the frame being dissected.  Dissection is single-threaded and
 * the post-dissector runs within the same frame's dissection, so one slot
 * is enough; frame and fd tell whether it belongs to the current frame. */
static struct {
    const frame_data *fd;
    guint32 frame;
    guint layer;   /* pinfo->curr_layer_num of the header: innermost wins */
    cm_packet pkt;
} current;

/* tcp.stream comes from TCP's conversation data.  find_conversation is the
 * costliest step of the extraction, so it is avoided twice over.  A header
 * for which TCP numbered a new stream, as every first packet of a flow
 * without payload does (a SYN flood is nothing else), has that number: see
 * connmon_tcp_numbers_own_stream().  Otherwise a small direct-mapped cache
 * keeps the conversation of recent address/port pairs.  A cached
 * conversation is the one TCP used for this frame when TCP moved its
 * last_frame here (TCP does for every header it analyses, in either
 * direction); pure SYNs, which may start a new conversation on a reused
 * port, always take the full lookup. */
#define CONV_CACHE_SLOTS 4096
typedef struct conv_slot {
    cm_addr src, dst;
    guint16 sport, dport;
    conversation_t *conv;
} conv_slot;
static conv_slot *conv_cache;

static void address_to_cm(const address *a, cm_addr *out)
{
    memset(out, 0, sizeof *out);
    if (a->type == AT_IPv4 && a->len == 4) {
        out->family = 4;
        memcpy(out->bytes, a->data, 4);
    } else if (a->type == AT_IPv6 && a->len == 16) {
        out->family = 6;
        memcpy(out->bytes, a->data, 16);
    }
}

/* Both directions of a connection share a slot: a flow's first packet gets
 * its stream from the stream count and leaves no conversation here, so the
 * reply's lookup has to serve the packets after it in either direction. */
static conv_slot *cache_slot(const cm_packet *p)
{
    return &conv_cache[cm_packet_pair_hash(p) & (CONV_CACHE_SLOTS - 1)];
}

static gboolean same_endpoint(const cm_addr *a, guint16 a_port, const cm_addr *b,
                              guint16 b_port)
{
    return a_port == b_port && memcmp(a, b, sizeof *a) == 0;
}

static gboolean slot_matches(const conv_slot *s, const cm_packet *p)
{
    if (!s->conv)
        return FALSE;
    return (same_endpoint(&s->src, s->sport, &p->src, p->sport) &&
            same_endpoint(&s->dst, s->dport, &p->dst, p->dport)) ||
           (same_endpoint(&s->src, s->sport, &p->dst, p->dport) &&
            same_endpoint(&s->dst, s->dport, &p->src, p->sport));
}

static conversation_t *tcp_conversation(packet_info *pinfo, const cm_packet *p,
                                        const address *src, const address *dst)
{
    conv_slot *slot = conv_cache ? cache_slot(p) : NULL;
    gboolean pure_syn = (p->flags & (CM_TH_SYN | CM_TH_ACK)) == CM_TH_SYN;
    if (slot && !pure_syn && slot_matches(slot, p) && slot->conv->last_frame == pinfo->num)
        return slot->conv;
    conversation_t *conv = connmon_find_tcp_conversation(pinfo, src, dst, p->sport, p->dport);
    if (slot && conv) {
        slot->src = p->src;
        slot->dst = p->dst;
        slot->sport = p->sport;
        slot->dport = p->dport;
        slot->conv = conv;
    }
    return conv;
}

/* TCP's stream count before it dissected a header whose new stream, if
 * TCP numbers one, is its own; counted says whether it was taken. */
typedef struct stream_count {
    gboolean counted;
    guint32 before;
} stream_count;

static stream_count count_streams(const packet_info *pinfo, guint captured,
                                  const cm_tcp_header *h)
{
    stream_count c = { FALSE, 0 };
    /* With no captured payload TCP calls no subdissector that could number
     * streams of its own. */
    if (captured <= h->header_len && connmon_tcp_numbers_own_stream(pinfo)) {
        c.counted = TRUE;
        c.before = get_tcp_stream_count();
    }
    return c;
}

/* Stores the header's facts unless an inner header was stored already. */
static void keep_facts(packet_info *pinfo, const cm_tcp_header *h, const address *src,
                       const address *dst, guint layer, stream_count streams)
{
    if (current.fd == pinfo->fd && current.frame == pinfo->num && current.layer > layer)
        return;
    cm_packet p;
    memset(&p, 0, sizeof p);
    address_to_cm(src, &p.src);
    address_to_cm(dst, &p.dst);
    cm_packet_set_tcp(&p, h);

    if (streams.counted && get_tcp_stream_count() == streams.before + 1) {
        p.stream = streams.before;
    } else {
        conversation_t *conv = tcp_conversation(pinfo, &p, src, dst);
        if (!conv)
            return;
        struct tcp_analysis *tcpd =
            (struct tcp_analysis *)conversation_get_proto_data(conv, proto_tcp);
        if (!tcpd)
            return;
        p.stream = tcpd->stream;
    }
    p.frame = pinfo->num;
    p.t_ns = (gint64)pinfo->abs_ts.secs * 1000000000 + pinfo->abs_ts.nsecs;
    current.fd = pinfo->fd;
    current.frame = pinfo->num;
    current.layer = layer;
    current.pkt = p;
}

/* Sits in "ip.proto" 6 in front of the TCP dissector. */
static int tcp_hook(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    /* Results are computed once, on the first pass; a disabled connmon
     * costs this test only. */
    if (pinfo->fd->visited || !proto_is_protocol_enabled(connmon_protocol) ||
        pinfo->fragmented || pinfo->flags.in_error_pkt ||
        (pinfo->src.type != AT_IPv4 && pinfo->src.type != AT_IPv6))
        return call_dissector_only(tcp_handle, tvb, pinfo, tree, data);

    cm_tcp_header h;
    guint captured = tvb_captured_length(tvb);
    const guint8 *bytes = tvb_get_ptr(tvb, 0, captured < 60 ? captured : 60);
    cm_tcp_status st = cm_tcp_decode(bytes, captured, tvb_reported_length(tvb), &h);
    if (st != CM_TCP_OK)
        return call_dissector_only(tcp_handle, tvb, pinfo, tree, data);

    /* TCP's subdissectors may change pinfo's addresses: keep ours. */
    address src, dst;
    copy_address_shallow(&src, &pinfo->src);
    copy_address_shallow(&dst, &pinfo->dst);
    guint layer = pinfo->curr_layer_num;
    int ret = 0;
    const stream_count streams = count_streams(pinfo, captured, &h);

    TRY {
        ret = call_dissector_only(tcp_handle, tvb, pinfo, tree, data);
    }
    CATCH_ALL {
        /* Cut options or a malformed payload: the header was still given. */
        keep_facts(pinfo, &h, &src, &dst, layer, streams);
        RETHROW;
    }
    ENDTRY;
    keep_facts(pinfo, &h, &src, &dst, layer, streams);
    return ret;
}

void connmon_extract_init(int proto)
{
    proto_connmon = proto;
    connmon_protocol = find_protocol_by_id(proto);
    proto_tcp = proto_get_id_by_filter_name("tcp");
    tcp_handle = find_dissector("tcp");
    if (!tcp_handle || proto_tcp < 0)
        return;
    dissector_handle_t hook = create_dissector_handle_with_name_and_description(
        tcp_hook, -1, "connmon_tcp", "TCP (with connmon)");
    dissector_add_uint("ip.proto", IP_PROTO_TCP, hook);
}

const cm_packet *connmon_extract_get(packet_info *pinfo)
{
    if (current.fd != pinfo->fd || current.frame != pinfo->num)
        return NULL;
    current.fd = NULL; /* used once */
    return &current.pkt;
}

void connmon_extract_reset(void)
{
    g_free(conv_cache);
    conv_cache = g_new0(conv_slot, CONV_CACHE_SLOTS);
    memset(&current, 0, sizeof current);
}

void connmon_extract_cleanup(void)
{
    g_free(conv_cache);
    conv_cache = NULL;
    memset(&current, 0, sizeof current);
}
