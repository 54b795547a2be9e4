/* Wireshark plugin entry points.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "config.h"

#include <epan/packet.h>
#include <epan/proto.h>
#include <ws_version.h>

#include "packet-connmon.h"
#include "ws_compat.h"

WS_DLL_PUBLIC_DEF const gchar plugin_version[] = CONNMON_VERSION;
WS_DLL_PUBLIC_DEF const int plugin_want_major = WIRESHARK_VERSION_MAJOR;
WS_DLL_PUBLIC_DEF const int plugin_want_minor = WIRESHARK_VERSION_MINOR;

WS_DLL_PUBLIC void plugin_register(void);

/* plugin_describe() on Wireshark 4.4 and later: a dissector plugin. */
CONNMON_DEFINE_PLUGIN_DESCRIBE()

void plugin_register(void)
{
    static proto_plugin plug;
    plug.register_protoinfo = proto_register_connmon;
    plug.register_handoff = proto_reg_handoff_connmon;
    proto_register_plugin(&plug);
}
