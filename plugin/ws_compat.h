/* Differences between the Wireshark versions connmon builds against.
 *
 * Every test of the Wireshark version lives in this file and nowhere else;
 * the rest of the plugin calls what it defines.  Supported: 4.0 to 4.6.
 *
 *   plugin type     4.4 added plugin_describe() (wsutil/plugins.h); without
 *                   it tshark -G plugins and About -> Plugins say "unknown".
 *   TCP lookup      4.4 added the preference
 *                   protocols.conversation_deinterlacing_key: set to
 *                   anything but none, TCP keeps its data in conversations
 *                   anchored to an interface/MAC/VLAN conversation, which
 *                   plain find_conversation() does not see.  4.4 looks them
 *                   up with find_conversation_strat(), which takes the
 *                   addresses and ports from pinfo; 4.6 also has
 *                   find_conversation_strat_xtd(), which takes them as
 *                   arguments.
 *   new streams     only 4.0's TCP is known to number a stream solely for
 *                   the header it dissects (connmon_tcp_numbers_own_stream).
 *   struct tcp_analysis   its layout changed between 4.4 and 4.6; it comes
 *                   from <epan/dissectors/packet-tcp.h> of the Wireshark
 *                   built against, which is why a plugin is built per
 *                   minor version anyway (plugin_want_minor).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CONNMON_WS_COMPAT_H
#define CONNMON_WS_COMPAT_H

#include <ws_version.h>
#include <epan/conversation.h>
#include <epan/packet_info.h>

/* True when building against Wireshark major.minor or later. */
#define CONNMON_WS_AT_LEAST(major, minor)                                      \
    (WIRESHARK_VERSION_MAJOR > (major) ||                                      \
     (WIRESHARK_VERSION_MAJOR == (major) && WIRESHARK_VERSION_MINOR >= (minor)))

#if CONNMON_WS_AT_LEAST(4, 4)
#include <wsutil/plugins.h>
#endif

/* Defines the exported plugin_describe() where Wireshark asks for it (4.4+):
 * connmon is a dissector plugin.  Expands to nothing on older versions.
 * Use once, at file scope, in plugin.c, without a semicolon. */
#if CONNMON_WS_AT_LEAST(4, 4)
#define CONNMON_DEFINE_PLUGIN_DESCRIBE()                                       \
    WS_DLL_PUBLIC uint32_t plugin_describe(void);                              \
    uint32_t plugin_describe(void) { return WS_PLUGIN_DESC_DISSECTOR; }
#else
#define CONNMON_DEFINE_PLUGIN_DESCRIBE()
#endif

/* The conversation TCP used for the TCP header with these addresses and
 * ports in the frame being dissected (call it after TCP dissected the
 * header), or NULL.  Follows the deinterlacing strategy in force, so its
 * tcp_analysis data, and tcp.stream, are TCP's own for that header.
 *
 * When the strategy finds nothing, the plain lookup is tried: Wireshark
 * 4.4's TCP, with a deinterlacing key on a capture that is not Ethernet
 * (Linux cooked, raw IP, ...), fails to find its deinterlaced conversation
 * ("Dissector bug ... NULL conversation") and falls back on a plain
 * conversation that it makes anew for every packet, each with a new
 * tcp.stream.  connmon follows that tcp.stream too (docs/semantics.md). */
static inline conversation_t *connmon_find_tcp_conversation(packet_info *pinfo,
                                                            const address *src,
                                                            const address *dst,
                                                            guint16 sport, guint16 dport)
{
    conversation_t *conv = NULL;
#if CONNMON_WS_AT_LEAST(4, 6)
    conv = find_conversation_strat_xtd(pinfo, pinfo->num, src, dst, CONVERSATION_TCP,
                                       sport, dport, 0);
#elif CONNMON_WS_AT_LEAST(4, 4)
    /* find_conversation_strat() reads addresses and ports from pinfo: lend
     * it those of our header (TCP's subdissectors may have changed pinfo's),
     * then put pinfo back as it was. */
    address saved_src, saved_dst;
    guint32 saved_sport = pinfo->srcport, saved_dport = pinfo->destport;
    copy_address_shallow(&saved_src, &pinfo->src);
    copy_address_shallow(&saved_dst, &pinfo->dst);
    copy_address_shallow(&pinfo->src, src);
    copy_address_shallow(&pinfo->dst, dst);
    pinfo->srcport = sport;
    pinfo->destport = dport;
    conv = find_conversation_strat(pinfo, CONVERSATION_TCP, 0);
    copy_address_shallow(&pinfo->src, &saved_src);
    copy_address_shallow(&pinfo->dst, &saved_dst);
    pinfo->srcport = saved_sport;
    pinfo->destport = saved_dport;
#endif
    if (!conv)
        conv = find_conversation(pinfo->num, src, dst, CONVERSATION_TCP, sport, dport, 0);
    return conv;
}

/* Whether a tcp.stream that TCP numbers while it dissects a header is that
 * header's own, so that the header needs no conversation lookup.  Ask
 * before calling TCP, and trust the number only for a header with no
 * captured payload (no subdissector runs, none nests) when TCP numbered
 * exactly one stream meanwhile (get_tcp_stream_count() one up).
 *
 * Wireshark 4.0 (its packet-tcp.c read for this): a stream is numbered only
 * when get_tcp_conversation_data() meets a conversation without TCP data.
 * dissect_tcp() calls it on the conversation it goes on to use: the one it
 * found or created, or the one it creates for a SYN on a reused port (the
 * found one had data then, so one number at most).  Its option dissectors
 * (window scale, SACK, MPTCP, ...) call it without a conversation, which
 * finds one from pinfo: TCP's own, unless a lower layer set pinfo's
 * conversation elements or endpoints, in which case this says no.
 * 4.4 and 4.6 find TCP's conversations through deinterlacing strategies in
 * some places and plainly in others (above); not verified there, so no. */
static inline gboolean connmon_tcp_numbers_own_stream(const packet_info *pinfo)
{
#if CONNMON_WS_AT_LEAST(4, 4)
    (void)pinfo;
    return FALSE;
#else
    return !pinfo->use_conv_addr_port_endpoints && !pinfo->conv_elements;
#endif
}

#endif
