/* Build settings for the plugin sources (Wireshark's own plugins get theirs
 * from Wireshark's build tree; this one is built standalone). */
#ifndef CONNMON_PLUGIN_CONFIG_H
#define CONNMON_PLUGIN_CONFIG_H

#define WS_BUILD_DLL
#ifndef CONNMON_VERSION
#define CONNMON_VERSION "0.1.0"
#endif

#endif
