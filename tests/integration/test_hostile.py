"""Hostile captures: damaged copies of every bundled capture through the
plugin built with AddressSanitizer + UBSan inside tshark, and through the
command line built the same way.  Nothing may crash or draw a sanitizer
report, tshark's one pass must give the same connmon fields as its two
passes (-2), and the command line must give the plugin's values on the
packets it analyses.  That last check leaves out the frames the command
line does not analyse: Wireshark still numbers connections with some of
them (a known difference, pinned by the xfail test at the end).  With
Wireshark 4.4+ it is expected to fail (xfail): its connection numbering
has rules the command line does not follow, pinned by
test_cli_follows_wireshark_44_streams.

The damage is `editcap -E 0.02 --seed N` (each byte changed with
probability 2 %), seeds 1-4, and seed 5 on top of a 60-byte snaplen
(`-s 60`: headers cut inside the TCP options), so the files are the same
from run to run.  Before the damage every copy gets its own TCP ports (both
moved by a multiple of 577), so that the copies are different connections
when concatenated.  A group's variants are concatenated (`mergecap -a`) into
one file for tshark: every real capture is a group, and the crafted ones
are grouped by link type.  The command line also reads every variant on its
own.

The sanitized build: $CONNMON_ASAN_BUILD_DIR (scripts/test.sh sets it to
the ASan build it made with -DCONNMON_SANITIZE=ON -DCONNMON_BUILD_PLUGIN=ON);
every test fails when it is set and does not hold plugins/*/epan/connmon.so
and bin/connmon.  Unset, the session configures and builds <build dir>-asan
itself (<build dir> as in conftest.py).

tshark loads the sanitized plugin only with the ASan runtime first in the
process: LD_PRELOAD of the compiler's runtime, ASAN_OPTIONS=detect_leaks=0
(Wireshark itself leaks at exit).  Its extcap directory is an empty one:
extcap helpers, which `tshark -G plugins` starts, hang with the runtime
preloaded.
"""
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PCAPS, ROOT, build_dir

sys.path.insert(0, str(ROOT / "tools"))
import connmon_tshark  # noqa: E402
from lib import fields  # noqa: E402
from lib import frames  # noqa: E402
from lib import pcap as pcaplib  # noqa: E402

ASAN_ENV = "CONNMON_ASAN_BUILD_DIR"
SEEDS = (1, 2, 3, 4)
CUT_SEED, CUT_SNAPLEN = 5, 60
ERROR_RATE = "0.02"
FIELDS = fields.ALL
SANITIZER = re.compile(r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|"
                       r"runtime error:|ASan runtime does not come first")
LINK_NAMES = {pcaplib.DLT_EN10MB: "ether", pcaplib.DLT_LINUX_SLL: "sll",
              pcaplib.DLT_RAW: "rawip"}


def _groups():
    """{group name: [capture paths]}: each real capture alone, the crafted
    ones by link type."""
    groups = {}
    for p in sorted(PCAPS.rglob("*.pcap")):
        rel = p.relative_to(PCAPS)
        if rel.parts[0] == "crafted":
            lt = pcaplib.read_pcap(p)[1]
            name = "crafted-" + LINK_NAMES.get(lt, f"link{lt}")
        else:
            name = "-".join(rel.with_suffix("").parts)
        groups.setdefault(name, []).append(p)
    return groups


GROUPS = _groups()


# ---- the sanitized build ---------------------------------------------------------

def _has_build(d: Path) -> bool:
    return bool(list(d.glob("plugins/*/epan/connmon.so"))) and (d / "bin" / "connmon").exists()


def _build(d: Path):
    cmds = [["cmake", "-S", str(ROOT), "-B", str(d), "-DCONNMON_SANITIZE=ON",
             "-DCONNMON_BUILD_PLUGIN=ON"],
            ["cmake", "--build", str(d), "-j2"]]
    for cmd in cmds:
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            pytest.fail(f"building the ASan plugin and CLI failed: {' '.join(cmd)}\n"
                        f"{p.stdout[-3000:]}\n{p.stderr[-3000:]}")


@pytest.fixture(scope="session")
def asan_build():
    given = os.environ.get(ASAN_ENV)
    if given:
        d = Path(given).resolve()
        if not _has_build(d):
            pytest.fail(f"${ASAN_ENV}={given} holds no ASan build (plugins/*/epan/connmon.so "
                        "and bin/connmon): build it with -DCONNMON_SANITIZE=ON "
                        "-DCONNMON_BUILD_PLUGIN=ON (scripts/test.sh does), or unset it")
        return d
    d = Path(f"{build_dir()}-asan")
    _build(d)
    if not _has_build(d):
        pytest.fail(f"{d}: the ASan build has no plugin or no bin/connmon")
    return d


def _asan_runtime(build: Path) -> str:
    """The ASan runtime of the compiler the build used."""
    cache = (build / "CMakeCache.txt").read_text()
    m = re.search(r"^CMAKE_C_COMPILER:\w+=(.+)$", cache, re.M)
    cc = m.group(1).strip() if m else "cc"
    name = (f"libclang_rt.asan-{platform.machine()}.so" if "clang" in Path(cc).name
            else "libasan.so")
    path = subprocess.run([cc, f"-print-file-name={name}"], capture_output=True,
                          text=True).stdout.strip()
    if not os.path.isabs(path) or not os.path.exists(path):
        pytest.fail(f"{cc} does not know where its {name} is (got {path!r})")
    return os.path.realpath(path)


# ---- hostile captures --------------------------------------------------------------

PORT_STEP = 577

def _tcp_offset(linktype, frame):
    """Where the TCP header of a frame is (through VLAN tags and IP-in-IP),
    or None: enough for the bundled captures."""
    if linktype == pcaplib.DLT_EN10MB:
        off = 12
        while frame[off:off + 2] in (b"\x81\x00", b"\x88\xa8", b"\x91\x00"):
            off += 4
        off += 2
    else:
        off = {pcaplib.DLT_LINUX_SLL: 16, pcaplib.DLT_LINUX_SLL2: 20, pcaplib.DLT_RAW: 0,
               12: 0}.get(linktype)
        if off is None:
            return None
    for _ in range(4):
        if len(frame) < off + 40:
            return None
        version = frame[off] >> 4
        if version == 4:
            proto, nxt = frame[off + 9], off + (frame[off] & 15) * 4
        elif version == 6:
            proto, nxt = frame[off + 6], off + 40
        else:
            return None
        if proto == 6:
            return nxt if len(frame) >= nxt + 4 else None
        if proto not in (4, 41):
            return None
        off = nxt
    return None


def _shift_ports(src, dst, shift):
    """src with both TCP ports of every packet moved by shift, so that the
    copies of a capture concatenated below are different connections
    (Wireshark 4.4+ starts a new tcp.stream at a SYN after a closed
    connection even with the same ISN, 4.0 and the command line do not;
    here that is not what is tested).  Checksums are left as they are."""
    recs, linktype, _ = pcaplib.read_pcap(src)
    out = []
    for t_ns, frame, orig in recs:
        off = _tcp_offset(linktype, frame)
        if off is not None:
            frame = bytearray(frame)
            for p in (off, off + 2):
                port = (int.from_bytes(frame[p:p + 2], "big") + shift) % 65536
                frame[p:p + 2] = port.to_bytes(2, "big")
            frame = bytes(frame)
        out.append((t_ns, frame, orig))
    pcaplib.write_records(dst, linktype, out)

def _run_tool(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} failed:\n{p.stderr}")


@pytest.fixture(scope="session")
def hostile(tmp_path_factory):
    """{group: (concatenated file, [(description, variant file)])}."""
    out = tmp_path_factory.mktemp("hostile")
    result = {}
    for group, captures in GROUPS.items():
        variants = []
        for cap in captures:
            stem = "-".join(cap.relative_to(PCAPS).with_suffix("").parts)
            for seed in SEEDS + (CUT_SEED,):
                shift = (len(variants) + 1) * PORT_STEP % 65536
                shifted = out / f"{stem}-p{shift}.pcap"
                _shift_ports(cap, shifted, shift)
                dst = out / f"{stem}-s{seed}.pcap"
                cmd = ["editcap", "-E", ERROR_RATE, "--seed", str(seed)]
                if seed == CUT_SEED:
                    cmd += ["-s", str(CUT_SNAPLEN)]
                _run_tool(cmd + [str(shifted), str(dst)])
                variants.append((f"{cap.relative_to(ROOT)} with TCP ports + {shift}, then "
                                 + " ".join(cmd[1:]), dst))
        joined = out / f"hostile-{group}.pcap"
        _run_tool(["mergecap", "-a", "-F", "pcap", "-w", str(joined)] + [str(v) for _, v in variants])
        result[group] = (joined, variants)
    return result


# ---- tshark with the sanitized plugin ---------------------------------------------------

@pytest.fixture(scope="session")
def asan_tshark(asan_build, hostile):
    """A Tshark (tools/connmon_tshark.py) on a stage holding the ASan plugin
    and the hostile files, its environment preloading the ASan runtime."""
    so = next(asan_build.glob("plugins/*/epan/connmon.so"))
    if b"__asan_" not in so.read_bytes():
        pytest.fail(f"{so} is not built with AddressSanitizer")
    ts = connmon_tshark.make_stage(asan_build / "plugins", prefix="connmon-hostile-")
    try:
        noextcap = ts.stage / "noextcap"
        noextcap.mkdir()
        os.chmod(noextcap, 0o755)
        ts.env.update({
            "LD_PRELOAD": _asan_runtime(asan_build),
            "ASAN_OPTIONS": "detect_leaks=0",
            "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
            "WIRESHARK_EXTCAP_DIR": str(noextcap),
        })
        ts.hostile = {g: ts.stage_file(joined) for g, (joined, _) in hostile.items()}
        problem = ts.plugin_problem()
        if problem:
            pytest.fail(problem)
        yield ts
    finally:
        shutil.rmtree(ts.stage, ignore_errors=True)


def _clean(proc, what, ok_codes=(0,)):
    """proc exited with an accepted code and no sanitizer said anything."""
    report = SANITIZER.search(proc.stderr or "")
    assert not report and proc.returncode in ok_codes, (
        f"{what}: exit {proc.returncode}\n{(proc.stderr or '')[-6000:]}")


def _field_args(path):
    args = ["-r", path, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,",
            "-e", "frame.number"]
    for f in FIELDS:
        args += ["-e", f]
    return args


_one_pass = {}


def plugin_rows(ts, staged_path):
    """The one-pass -T fields rows of a staged file (run once per file)."""
    if staged_path not in _one_pass:
        proc = ts.run(_field_args(staged_path), check=False, timeout=600)
        _clean(proc, f"tshark (ASan plugin), one pass, {Path(staged_path).name}")
        rows = ts.normalise_rows(["frame.number"] + FIELDS,
                                 [line.split("\t") for line in proc.stdout.splitlines()])
        _one_pass[staged_path] = rows
    return _one_pass[staged_path]


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_tshark_one_pass_equals_two_pass(asan_tshark, group):
    one = plugin_rows(asan_tshark, asan_tshark.hostile[group])
    proc = asan_tshark.run(["-2"] + _field_args(asan_tshark.hostile[group]), check=False,
                           timeout=600)
    _clean(proc, f"tshark (ASan plugin), two passes, {group}")
    two = asan_tshark.normalise_rows(["frame.number"] + FIELDS,
                                     [line.split("\t") for line in proc.stdout.splitlines()])
    assert any(r[1 + FIELDS.index("connmon.flow")] for r in one), "no connmon values at all"
    assert len(one) == len(two)
    diff = [(a, b) for a, b in zip(one, two) if a != b]
    assert not diff, (f"{len(diff)} frames differ, first: one pass "
                      f"{dict(zip(['frame'] + FIELDS, diff[0][0]))}\n"
                      f"two passes {dict(zip(['frame'] + FIELDS, diff[0][1]))}")


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_tshark_tree_and_stats(asan_tshark, group):
    """-V (every item's label) and the stats tree, output thrown away."""
    cmd = asan_tshark.command(["-r", asan_tshark.hostile[group], "-V", "-z", "connmon,tree"])
    proc = subprocess.run(cmd, env=asan_tshark.env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, timeout=600)
    _clean(proc, f"tshark -V -z connmon,tree (ASan plugin), {group}")


# ---- the sanitized command line -----------------------------------------------------------

def _cli(build, *args):
    env = {"PATH": "/usr/bin:/bin", "TZ": "UTC", "LC_ALL": "C.UTF-8",
           "ASAN_OPTIONS": "detect_leaks=1",
           "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"}
    return subprocess.run([str(build / "bin" / "connmon")] + [str(a) for a in args],
                          capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_cli(asan_build, hostile, group):
    """Every variant alone (JSON), the concatenation in every format."""
    joined, variants = hostile[group]
    for desc, path in variants:
        _clean(_cli(asan_build, "--json", "-q", "-r", path), f"ASan connmon --json on {desc}")
    for fmt in (["--json"], ["-m"], []):
        _clean(_cli(asan_build, *fmt, "-r", joined), f"ASan connmon {fmt} on {joined.name}")


def _cli_values(proc):
    """{frame: {field: value as -T fields prints it}} from --json lines."""
    out = {}
    for line in proc.stdout.splitlines():
        obj = json.loads(line, parse_float=str)
        frame = obj.pop("frame")
        obj.pop("time")
        out[frame] = {k: ("1" if v is True else "0" if v is False else str(v))
                      for k, v in obj.items()}
    return out


def _plugin_values(rows):
    """The same from -T fields rows (frames without connmon values left out)."""
    out = {}
    for row in rows:
        vals = {f: v for f, v in zip(FIELDS, row[1:]) if v != ""}
        if vals:
            out[int(row[0])] = vals
    return out


def _agreement(got, want):
    frames = sorted(set(got) | set(want))
    diff = [f for f in frames if got.get(f) != want.get(f)]
    assert not diff, (f"{len(diff)} of {len(frames)} frames differ, first {diff[0]}:\n"
                      f"  CLI    {got.get(diff[0])}\n  plugin {want.get(diff[0])}")


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_cli_agrees_with_plugin(asan_build, asan_tshark, hostile, tmp_path, group):
    """The command line's JSON = the plugin's fields, frame by frame, on the
    damaged packets both analyse: the frames the command line analysed are
    kept (the plugin must analyse exactly those), the others left out (see
    the next test for why)."""
    joined = hostile[group][0]
    proc = _cli(asan_build, "--json", "-q", "-r", joined)
    _clean(proc, f"ASan connmon --json on {joined.name}")
    keep = set(_cli_values(proc))
    recs, linktype, _ = pcaplib.read_pcap(joined)
    kept = tmp_path / f"analysed-{group}.pcap"
    pcaplib.write_records(kept, linktype, [r for n, r in enumerate(recs, 1) if n in keep])
    proc = _cli(asan_build, "--json", "-q", "-r", kept)
    _clean(proc, f"ASan connmon --json on {kept.name}")
    rows = plugin_rows(asan_tshark, asan_tshark.stage_file(kept))
    try:
        _agreement(_cli_values(proc), _plugin_values(rows))
    except AssertionError as e:
        if asan_tshark.at_least(4, 4):
            pytest.xfail(f"{WS44_STREAMS} ({str(e).splitlines()[0]})")
        raise


WS44_STREAMS = (
    "Wireshark 4.4+ starts a new tcp.stream at a SYN after a closed connection "
    "with the same ISN and at a SYN-ACK with a new ISN; Wireshark 4.0 and the "
    "command line do not (test_cli_follows_wireshark_44_streams)")


def _write_segments(path, segs):
    pcaplib.write_records(path, pcaplib.DLT_EN10MB,
                          [(i * 10_000_000, f, len(f)) for i, f in enumerate(segs, 1)])


def _seg(src, dst, sport, dport, seq, ack, flags, payload=b"", doff=None):
    tcp = frames.tcp(src, dst, sport, dport, seq, ack, flags, 65535, payload=payload, doff=doff)
    return frames.ether(frames.ipv4(src, dst, 6, tcp), frames.ETH_IPV4)


A, B = "10.0.0.1", "10.0.0.2"
HANDSHAKE_AND_DATA = [
    _seg(A, B, 40000, 80, 1000, 0, "S"), _seg(B, A, 80, 40000, 5000, 1001, "SA"),
    _seg(A, B, 40000, 80, 1001, 5001, "A"), _seg(A, B, 40000, 80, 1001, 5001, "PA", b"x" * 100),
    _seg(B, A, 80, 40000, 5001, 1101, "A")]
STREAM_CASES = {
    # closed both ways, then the same connection again, same ISNs
    "same-isn-after-close": HANDSHAKE_AND_DATA + [
        _seg(A, B, 40000, 80, 1101, 5001, "FA"), _seg(B, A, 80, 40000, 5001, 1102, "FA"),
        _seg(A, B, 40000, 80, 1102, 5002, "A")] + HANDSHAKE_AND_DATA,
    # a SYN-ACK with another ISN in the middle of the connection
    "syn-ack-new-isn": HANDSHAKE_AND_DATA + [
        _seg(B, A, 80, 40000, 777777, 1101, "SA"),
        _seg(A, B, 40000, 80, 1101, 5001, "PA", b"y" * 100),
        _seg(B, A, 80, 40000, 5001, 1201, "A")],
}


@pytest.mark.parametrize("case", sorted(STREAM_CASES))
def test_cli_follows_wireshark_44_streams(asan_build, asan_tshark, tmp_path, case):
    """Connection numbering where Wireshark 4.4 changed it: the command line
    agrees with 4.0's plugin, and is known not to follow 4.4+'s."""
    path = tmp_path / f"{case}.pcap"
    _write_segments(path, STREAM_CASES[case])
    proc = _cli(asan_build, "--json", "-q", "-r", path)
    _clean(proc, f"ASan connmon --json on {case}")
    rows = plugin_rows(asan_tshark, asan_tshark.stage_file(path))
    if not asan_tshark.at_least(4, 4):
        _agreement(_cli_values(proc), _plugin_values(rows))
        return
    with pytest.raises(AssertionError):
        _agreement(_cli_values(proc), _plugin_values(rows))
    pytest.xfail(WS44_STREAMS)


def _port_reuse_by_bad_syn(path):
    """A connection, then a SYN with a new ISN whose data offset is 4 words
    (a header neither front end analyses), then more of the connection."""
    _write_segments(path, HANDSHAKE_AND_DATA + [
        _seg(A, B, 40000, 80, 90000, 0, "S", doff=4),
        _seg(A, B, 40000, 80, 1101, 5001, "PA", b"y" * 100),
        _seg(B, A, 80, 40000, 5001, 1201, "A")])


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "Wireshark's TCP dissector numbers connections (tcp.stream: new stream on "
    "a SYN with a new ISN, base sequence numbers) before it rejects a header "
    "with a data offset below 5 words or longer than the segment; the command "
    "line drops such frames before its connection tracking, so the "
    "connection's later packets get other values.  On damaged captures this "
    "is a difference between the front ends on every Wireshark version."))
def test_cli_follows_streams_started_by_unanalysable_syn(asan_build, asan_tshark, tmp_path):
    path = tmp_path / "bad_syn_port_reuse.pcap"
    _port_reuse_by_bad_syn(path)
    proc = _cli(asan_build, "--json", "-q", "-r", path)
    _clean(proc, "ASan connmon --json on a bad SYN")
    rows = plugin_rows(asan_tshark, asan_tshark.stage_file(path))
    _agreement(_cli_values(proc), _plugin_values(rows))
