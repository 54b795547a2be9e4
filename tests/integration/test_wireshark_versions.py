"""What differs between Wireshark 4.0, 4.4 and 4.6, and what connmon and the
test harness do about it (plugin/ws_compat.h, tools/connmon_tshark.py).

Every test here runs on every version and asserts something on each: where
a feature does not exist on a version, the test asserts that it does not.
"""
import os
import re
import shutil
import subprocess
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

import connmon_tshark
from conftest import PCAPS
from lib import fields  # tools/ is on sys.path (conftest.py)

CAPTURES = sorted(p.relative_to(PCAPS).as_posix()
                  for p in PCAPS.rglob("*") if p.is_file() and ".pcap" in p.name)
DEINTERLACING_PREF = "protocols.conversation_deinterlacing_key"
# Every value of the preference but the default (none).
DEINTERLACING_KEYS = [".MI", "VMI", "VM."]
# Wireshark 4.4's TCP with a deinterlacing key on a capture that is not
# Ethernet: its dissector bug message (stderr), see docs/semantics.md.
WS44_NULL_CONVERSATION = "Can't get proto from a NULL conversation"


# -- the plugin tshark loads ---------------------------------------------------------

def test_loaded_plugin_is_the_staged_one(tshark):
    """tshark -G plugins: exactly one connmon.so, the staged fresh build,
    listed as a dissector (4.4+ ask plugin_describe(); 4.0 knows it from
    its registration)."""
    rows, stderr = tshark.plugins()
    mine = [r for r in rows if r[0] == "connmon.so"]
    assert [r[3] for r in mine] == [str(tshark.staged_plugin_path())]
    assert mine[0][2] == "dissector"
    assert "connmon.so" not in stderr
    staged = tshark.staged_plugin_path()
    assert staged.parent.parent.name == "%d.%d" % tshark.version()[:2]


def test_only_plugin_entry_points_exported(tshark):
    """connmon.so exports Wireshark's plugin entry points and nothing else
    (the engine's cm_* functions are hidden); plugin_describe() exists from
    4.4, where Wireshark asks for it."""
    nm = shutil.which("nm")
    assert nm, "nm (binutils) is needed"
    out = subprocess.run([nm, "-D", "--defined-only", str(tshark.staged_plugin_path())],
                         capture_output=True, text=True, check=True).stdout
    exported = {line.split()[-1] for line in out.splitlines() if line.strip()}
    expected = {"plugin_version", "plugin_want_major", "plugin_want_minor", "plugin_register"}
    if tshark.at_least(4, 4):
        expected.add("plugin_describe")
    assert exported == expected


def _global_plugin_dir(tshark) -> Path:
    """Wireshark's system plugin dir (for this version), from -G folders run
    without WIRESHARK_PLUGIN_DIR."""
    env = {k: v for k, v in tshark.env.items() if k != "WIRESHARK_PLUGIN_DIR"}
    out = subprocess.run(tshark.command(["-G", "folders"]), env=env, capture_output=True,
                         text=True, check=True).stdout
    m = re.search(r"^Global Plugins:\s*(\S+)\s*$", out, re.M)
    assert m, out
    return Path(m.group(1))


def _plugins_with_system_copy(tshark, fake_epan: Path, sys_epan: Path, env):
    """tshark -G plugins in a private mount namespace where the system
    plugin dir's epan/ is fake_epan.  Returns (connmon.so paths, stderr)."""
    script = ('mount --bind "$1" "$2" && shift 2 && exec "$@"')
    cmd = (["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh",
            str(fake_epan), str(sys_epan)] + tshark.command(["-G", "plugins"]))
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    paths = [line.split("\t")[3].strip() for line in proc.stdout.splitlines()
             if line.startswith("connmon.so")]
    return paths, proc.stderr


def test_system_installed_copy_does_not_shadow(tshark, tmp_path):
    """A connmon.so in Wireshark's system plugin dir (as quickstart.sh
    installs it as root) must not be loaded instead of the fresh build.

    Installing into the real system dir would disturb everything else on
    the machine, so the copy is put there in a private mount namespace
    (root only).  The control run, without WIRESHARK_PLUGIN_DIR, proves the
    fake installation is seen; the harness's run must load the staged copy
    alone, without a "found in multiple directories" warning."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare(1) for a private mount namespace "
                    "(CI runs the suite as root)")
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        # e.g. in a chroot whose root is not a mount point: a bind mount
        # would then propagate to the real system.
        pytest.skip("no private mount namespace here: " + probe.stderr.strip())
    sys_epan = _global_plugin_dir(tshark) / "epan"
    assert sys_epan.is_dir(), f"no system plugin dir {sys_epan}"
    fake = tmp_path / "epan"
    shutil.copytree(sys_epan, fake)
    shutil.copy(tshark.staged_plugin_path(), fake / "connmon.so")
    os.chmod(tmp_path, 0o755)
    connmon_tshark._make_readable(fake)

    control_env = {k: v for k, v in tshark.env.items() if k != "WIRESHARK_PLUGIN_DIR"}
    paths, _ = _plugins_with_system_copy(tshark, fake, sys_epan, control_env)
    assert paths == [str(sys_epan / "connmon.so")], "fake system installation not seen"

    paths, stderr = _plugins_with_system_copy(tshark, fake, sys_epan, tshark.env)
    assert paths == [str(tshark.staged_plugin_path())]
    assert "connmon.so" not in stderr


# -- printing ------------------------------------------------------------------------

def test_booleans_read_the_same_on_every_version(tshark):
    """-T fields prints FT_BOOLEAN as 1/0 on 4.0, True/False on 4.4+; the
    harness reads both as 1/0."""
    pcap = tshark.pcap("crafted/handshake_basic.pcap")
    raw = tshark.run(["-r", pcap, "-T", "fields", "-e", "tcp.flags.syn",
                      "-e", "connmon.tsrtd.pureack", "-Y", "connmon.tsrtd"]).stdout
    raw_values = {v for line in raw.splitlines() for v in line.split("\t")}
    expected_raw = {"True", "False"} if tshark.at_least(4, 4) else {"1", "0"}
    assert raw_values == expected_raw
    rows = tshark.fields(pcap, ["tcp.flags.syn", "connmon.tsrtd.pureack"],
                         ["-Y", "connmon.tsrtd"])
    assert {v for r in rows for v in r} == {"1", "0"}
    assert tshark.field_types()["connmon.tsrtd.pureack"] == "FT_BOOLEAN"


def verbose_connmon(tshark, pcap):
    """{frame: {label: text}} of the connmon subtree in -V output."""
    out = tshark.run(["-r", tshark.pcap(pcap), "-V", "-O", "connmon"]).stdout
    result, frame, inside = {}, None, False
    for line in out.splitlines():
        m = re.match(r"^Frame (\d+):", line)
        if m:
            frame, inside = int(m.group(1)), False
            continue
        if not line.startswith(" "):
            inside = line.startswith("[connmon:")
            continue
        m = re.match(r"^    \[([^:\]]+): (.*)\]$", line)
        if inside and m:
            result.setdefault(frame, {})[m.group(1)] = m.group(2)
    return result


@pytest.mark.parametrize("pcap", ["real/ipv4_delay_loss.pcap", "crafted/time_backwards.pcap",
                                  "crafted/dupacks.pcap"])
def test_verbose_tree_reads_like_fields(tshark, pcap):
    """The details tree (-V, what the GUI shows) holds the -T fields values.
    4.6 prints relative times auto-scaled ("10.047093 milliseconds"), 4.0
    and 4.4 in seconds; relative_time_seconds() reads both."""
    by_label = {f.name: f for f in fields.FIELD_ROWS}
    table = tshark.table(pcap, fields.FIELDS)
    tree = verbose_connmon(tshark, pcap)
    units = set()
    assert tree, "no connmon subtree in -V output"
    assert set(tree) == {n for n, f in table.items() if f}
    for num, items in tree.items():
        got = {}
        for label, text in items.items():
            if label.startswith("Expert Info"):
                continue
            assert label in by_label, f"frame {num}: unknown item {label!r}"
            row = by_label[label]
            if row.kind == "TIME":
                units.add(text.split()[-1])
                text = connmon_tshark.seconds_text(connmon_tshark.relative_time_seconds(text))
            elif row.kind == "BOOL":
                text = connmon_tshark.normalise_bool(text)
            got[row.abbrev] = text
        assert got == table[num], f"frame {num}"
    if tshark.at_least(4, 6):
        assert units - {"seconds"}, "4.6 scales relative times: expected other units"
    else:
        assert units == {"seconds"}


def test_relative_time_seconds():
    rts = connmon_tshark.relative_time_seconds
    assert rts("0.010047093 seconds") == Decimal("0.010047093")
    assert rts("10.047093 milliseconds") == Decimal("0.010047093")
    assert rts("31.535 microseconds") == Decimal("0.000031535")
    assert rts("842 nanoseconds") == Decimal("0.000000842")
    assert rts("-5.000000 milliseconds") == Decimal("-0.005")
    assert connmon_tshark.seconds_text(rts("-5.000000 milliseconds")) == "-0.005000000"
    with pytest.raises(ValueError):
        rts("10 parsecs")


# -- conversation deinterlacing ------------------------------------------------------

def test_deinterlacing_preference_exists_from_4_4(tshark):
    """4.4 added protocols.conversation_deinterlacing_key; before it, tshark
    rejects the preference."""
    prefs = tshark.run(["-G", "defaultprefs"]).stdout
    pcap = tshark.pcap("crafted/handshake_basic.pcap")
    if tshark.at_least(4, 4):
        assert "#" + DEINTERLACING_PREF + ":" in prefs
        for key in DEINTERLACING_KEYS:
            proc = tshark.run(["-o", f"{DEINTERLACING_PREF}:{key}", "-r", pcap])
            assert "preference" not in proc.stderr, proc.stderr
    else:
        assert DEINTERLACING_PREF not in prefs
        proc = tshark.run(["-o", f"{DEINTERLACING_PREF}:VMI", "-r", pcap], check=False)
        assert proc.returncode != 0
        assert "unknown preference" in proc.stderr


def deinterlaced_run(tshark, pcap, key):
    """(rows {frame: {field: value}}, stderr) of every connmon field plus
    tcp.stream and frame.protocols, with the deinterlacing key (None:
    tshark's default)."""
    cols = ["frame.number", "frame.protocols", "tcp.stream"] + fields.ALL
    extra = [] if key is None else ["-o", f"{DEINTERLACING_PREF}:{key}"]
    args = ["-r", tshark.pcap(pcap), "-T", "fields", "-E", "occurrence=a",
            "-E", "aggregator=,"] + extra
    for c in cols:
        args += ["-e", c]
    proc = tshark.run(args, check=False)
    assert proc.returncode in (0, 2), proc.stderr  # 2: a capture cut short on purpose
    rows = {}
    for raw in tshark.normalise_rows(cols, [l.split("\t") for l in proc.stdout.splitlines()]):
        rows[int(raw[0])] = dict(zip(cols[1:], raw[1:]))
    return rows, proc.stderr


def connmon_values(rows):
    return {n: {k: v for k, v in r.items() if k.startswith("connmon.") and v}
            for n, r in rows.items()}


def assert_follows_tcp_stream(rows):
    """connmon's flow is Wireshark's tcp.stream (of the innermost TCP header)
    plus direction: flowbytes is the running sum of payload over the frames
    with the same tcp.stream and flow label."""
    total = defaultdict(int)
    analysed = 0
    for num in sorted(rows):
        r = rows[num]
        if not r["connmon.flow"]:
            continue
        analysed += 1
        stream = r["tcp.stream"].split(",")[-1]
        key = (stream, r["connmon.flow"])
        total[key] += int(r["connmon.payload"])
        assert int(r["connmon.flowbytes"]) == total[key], f"frame {num}"
    return analysed


def test_deinterlacing_changes_tcp_stream_numbers(tshark):
    """The preference is in force: on 4.4+, with any key, Wireshark's own TCP
    numbers its streams differently on a capture with ICMP errors quoting
    TCP (each quoted header gets a stream of its own).  On 4.0 there is no
    such preference."""
    if not tshark.at_least(4, 4):
        assert DEINTERLACING_PREF not in tshark.run(["-G", "defaultprefs"]).stdout
        return
    base, _ = deinterlaced_run(tshark, "crafted/icmp_error.pcap", None)
    for key in DEINTERLACING_KEYS:
        rows, _ = deinterlaced_run(tshark, "crafted/icmp_error.pcap", key)
        assert [r["tcp.stream"] for r in rows.values()] != \
            [r["tcp.stream"] for r in base.values()], key
        assert connmon_values(rows) == connmon_values(base), key


@pytest.mark.parametrize("pcap", CAPTURES)
def test_deinterlacing_keys_give_identical_values(tshark, pcap):
    """Every connmon field (experts included) of every frame is the same
    for every protocols.conversation_deinterlacing_key as with the default
    (none), and follows tcp.stream.

    Exception, Wireshark 4.4 only: with a key, on a capture that is not
    Ethernet, Wireshark's own TCP fails ("Dissector bug ... NULL
    conversation"), gives every packet a new tcp.stream and analyses
    nothing; connmon follows those tcp.stream numbers, so each packet is a
    flow of its own (docs/semantics.md, "Conversation deinterlacing").
    4.0 has no such preference and must reject it."""
    if not tshark.at_least(4, 4):
        proc = tshark.run(["-o", f"{DEINTERLACING_PREF}:VMI", "-r", tshark.pcap(pcap)],
                          check=False)
        assert proc.returncode != 0 and "unknown preference" in proc.stderr
        return
    base, base_err = deinterlaced_run(tshark, pcap, None)
    assert WS44_NULL_CONVERSATION not in base_err
    assert assert_follows_tcp_stream(base) > 0 or not any(
        "tcp" in r["frame.protocols"].split(":") for r in base.values())
    for key in DEINTERLACING_KEYS:
        rows, err = deinterlaced_run(tshark, pcap, key)
        assert set(rows) == set(base)
        analysed = assert_follows_tcp_stream(rows)
        if WS44_NULL_CONVERSATION in err:
            assert tshark.version()[:2] == (4, 4), \
                f"{key}: Wireshark's TCP failed on {pcap}:\n{err}"
            assert not any(r["frame.protocols"].startswith("eth:") for r in rows.values())
            streams = [r["tcp.stream"] for r in rows.values() if r["tcp.stream"]]
            assert len(streams) == len(set(streams)), "4.4's bug: one stream per packet"
            assert analysed == sum(1 for r in base.values() if r["connmon.flow"])
            continue
        assert connmon_values(rows) == connmon_values(base), f"key {key}"


def _routed_twice_capture(path):
    """One TCP connection (handshake, two data segments with their ACKs, TS
    on every packet) captured on a trunk where a router forwards it from
    VLAN 10 to VLAN 20: every packet appears twice, 50 us apart, same MACs.
    Frame 2k-1 is the VLAN 10 copy, frame 2k the VLAN 20 copy."""
    from lib import frames as F, pcap as P
    c, s = "10.0.0.1", "10.0.0.2"

    def seg(src, dst, sp, dp, seq, ack, fl, ts, payload=b""):
        opts = F.syn_opts(*ts) if "S" in fl else F.ts_opts(*ts)
        return F.ipv4(src, dst, 6, F.tcp(src, dst, sp, dp, seq, ack, fl, 65535, opts, payload))

    packets = [
        (0, seg(c, s, 40000, 80, 1000, 0, "S", (100, 0))),
        (10, seg(s, c, 80, 40000, 5000, 1001, "SA", (500, 100))),
        (20, seg(c, s, 40000, 80, 1001, 5001, "A", (110, 500))),
        (21, seg(c, s, 40000, 80, 1001, 5001, "PA", (111, 500), b"x" * 100)),
        (31, seg(s, c, 80, 40000, 5001, 1101, "A", (510, 111))),
        (32, seg(c, s, 40000, 80, 1101, 5001, "PA", (120, 510), b"y" * 100)),
        (42, seg(s, c, 80, 40000, 5001, 1201, "A", (520, 120))),
    ]
    records = []
    for t_ms, ip in packets:
        records.append((t_ms * 1_000_000, F.ether(ip, F.ETH_IPV4, vlan=10), 0))
        records.append((t_ms * 1_000_000 + 50_000, F.ether(ip, F.ETH_IPV4, vlan=20), 0))
    P.write_records(path, P.DLT_EN10MB, records)


def test_deinterlacing_split_connection_follows_tcp_stream(tshark, tmp_path):
    """A key with V (VLAN) makes Wireshark's TCP treat the two copies of a
    routed connection as two streams; connmon follows: each copy is
    analysed on its own and gives the same values (frame references one
    apart).  Without V (none, .MI) the copies are one stream and every
    second copy of a segment is behind.  4.0 has no such preference."""
    _routed_twice_capture(tmp_path / "routed_twice.pcap")
    pcap = tshark.stage_file(tmp_path / "routed_twice.pcap")
    one_stream, _ = deinterlaced_run(tshark, pcap, None)
    assert {r["tcp.stream"] for r in one_stream.values()} == {"0"}
    assert assert_follows_tcp_stream(one_stream) == 14
    behind = [n for n, r in one_stream.items() if r["connmon.expert.behind"]]
    assert behind and all(n % 2 == 0 for n in behind)
    if not tshark.at_least(4, 4):
        proc = tshark.run(["-o", f"{DEINTERLACING_PREF}:VM.", "-r", pcap], check=False)
        assert proc.returncode != 0 and "unknown preference" in proc.stderr
        return
    frame_refs = [f for f, kind in fields.KINDS.items() if kind.startswith("FRAME")]
    for key in DEINTERLACING_KEYS:
        rows, err = deinterlaced_run(tshark, pcap, key)
        assert WS44_NULL_CONVERSATION not in err
        assert assert_follows_tcp_stream(rows) == 14
        if "V" not in key:
            assert connmon_values(rows) == connmon_values(one_stream), key
            continue
        assert {n: r["tcp.stream"] for n, r in rows.items()} == \
            {n: "0" if n % 2 else "1" for n in rows}, key
        values = connmon_values(rows)
        assert not any(r["connmon.expert.behind"] for r in rows.values())
        assert any("connmon.tsrtd" in v for v in values.values())
        for n in range(1, 15, 2):
            first, second = dict(values[n]), dict(values[n + 1])
            for f in frame_refs:
                if f in first:
                    first[f] = str(int(first[f]) + 1)
            assert second == first, f"{key}: frames {n} and {n + 1}"
