"""The Python tools' and tests' one library (standard library only).

    lib.pcap    reading and writing capture files, re-framing captures
    lib.frames  building frames: link headers, IPv4/IPv6, TCP with options,
                ICMP errors, checksums
    lib.fields  connmon's field names, read from engine/fields.def

Import it with the tools/ directory on sys.path: `from lib import pcap`.
tools/connmon_tshark.py (running tshark with the plugin) stays beside it.
"""
