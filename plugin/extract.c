/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <epan/conversation.h>
#include <epan/exceptions.h>
#include <epan/proto_data.h>
#include <epan/dissectors/packet-tcp.h>

#include "extract.h"

#define IP_PROTO_TCP 6

static int proto_connmon = -1;
static int proto_tcp = -1;
static protocol_t *connmon_protocol;
static dissector_handle_t tcp_handle;

/* Facts of one TCP header, kept in packet scope until the post-dissector. */
typedef struct frame_facts {
    cm_packet pkt;
    guint layer; /* pinfo->curr_layer_num of the header: innermost wins */
} frame_facts;

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

/* Stores the header's facts unless an inner header was stored already. */
static void keep_facts(packet_info *pinfo, const cm_tcp_header *h, const address *src,
                       const address *dst, guint layer)
{
    /* tcp.stream lives in TCP's conversation data; the conversation TCP
     * used for this frame is the latest one set up at or before it. */
    conversation_t *conv = find_conversation(pinfo->num, src, dst, CONVERSATION_TCP,
                                             h->sport, h->dport, 0);
    if (!conv)
        return;
    struct tcp_analysis *tcpd = (struct tcp_analysis *)conversation_get_proto_data(conv, proto_tcp);
    if (!tcpd)
        return;

    frame_facts *ff = (frame_facts *)p_get_proto_data(pinfo->pool, pinfo, proto_connmon, 0);
    if (ff && ff->layer > layer)
        return;
    if (!ff) {
        ff = wmem_new(pinfo->pool, frame_facts);
        p_add_proto_data(pinfo->pool, pinfo, proto_connmon, 0, ff);
    }
    ff->layer = layer;
    cm_packet *p = &ff->pkt;
    memset(p, 0, sizeof *p);
    p->stream = tcpd->stream;
    address_to_cm(src, &p->src);
    address_to_cm(dst, &p->dst);
    p->sport = h->sport;
    p->dport = h->dport;
    p->seq = h->seq;
    p->ack = h->ack;
    p->flags = h->flags;
    p->window = h->window;
    p->payload = h->payload;
    p->has_ts = h->has_ts;
    p->tsval = h->tsval;
    p->tsecr = h->tsecr;
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

    TRY {
        ret = call_dissector_only(tcp_handle, tvb, pinfo, tree, data);
    }
    CATCH_ALL {
        /* Cut options or a malformed payload: the header was still given. */
        keep_facts(pinfo, &h, &src, &dst, layer);
        RETHROW;
    }
    ENDTRY;
    keep_facts(pinfo, &h, &src, &dst, layer);
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
    frame_facts *ff = (frame_facts *)p_get_proto_data(pinfo->pool, pinfo, proto_connmon, 0);
    if (!ff)
        return NULL;
    ff->pkt.frame = pinfo->num;
    ff->pkt.t_ns = (gint64)pinfo->abs_ts.secs * 1000000000 + pinfo->abs_ts.nsecs;
    return &ff->pkt;
}
