#!/usr/bin/env python3
"""What connmon costs at scale: memory per packet and per connection, CPU
on many flows, for the plugin (in tshark) and the command line, side by
side in one run (python3 stdlib only).

    tools/bench/scale.py [--keep] [--work DIR] [--reps N] [--cases ...]
                         [--plugin-dir DIR] [--cli PATH] [--instructions N]
                         [--json FILE] [--compare OLD.json]

Captures (scalecap.py, deterministic, cached in --work):

  handshakes  1M connections, SYN / SYN-ACK / ACK with TS (3M packets)
  syns        1M SYN-only flows (a SYN flood)
  bulk        one connection of ~2.4M packets with TS

For each capture, tshark runs with connmon enabled and with
`--disable-protocol connmon` (plugin loaded, protocol off), back to back,
for two workloads:

  -q -Y tcp       one pass, a filter (a fake tree)
  -T fields       frame.number frame.time_epoch tcp.stream tcp.len
                  connmon.tsrtd connmon.seqrtd > /dev/null

and the command line runs `connmon -r FILE -m -q > /dev/null`.  Measured:
max RSS of the child (wait4's ru_maxrss; setpriv exec()s tshark, so it is
tshark's own) and CPU time (user + sys).  What connmon holds is the RSS
with connmon enabled minus disabled, divided by the connections (handshakes,
syns) or by the packets (bulk); the command line's is its RSS minus that of
a run stopped after one packet.  tshark runs with --log-level info, so
that the plugin says at the end how much its own storage (frame records,
flow labels) came to: that part of connmon's share is shown on its own, the
rest is the engine's.  CPU ratios are enabled / disabled, the
median of the back-to-back pairs.  --instructions N also counts
instructions (valgrind callgrind) on the first N packets of the SYN flood:
per packet, runs of 1 and N packets subtracted, deterministic where CPU time
on a shared machine is not.

tshark runs as for the tests (tools/connmon_tshark.py): a staged copy of
the plugin, and as root as nobody.  The runs need memory: tshark holds
~2-5 GB on the 1M-connection captures.
"""
import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import connmon_tshark  # noqa: E402
import scalecap  # noqa: E402
from bench import FIELDS  # noqa: E402  (-T fields: the same fields as bench.py's (b))

GEN_VERSION = 1     # bump when scalecap.py changes what it writes

WORKLOADS = [
    # key, label, args after -r FILE, stdout to /dev/null
    ("q", "-q -Y tcp", ["-q", "-Y", "tcp"]),
    ("fields", "-T fields", ["-T", "fields"] + [x for f in FIELDS for x in ("-e", f)]),
]
VARIANTS = [("on", []), ("off", ["--disable-protocol", "connmon"])]
# case: (scalecap kind, default size, unit of the per-unit figures)
CASES = {
    "handshakes": ("handshakes", 1_000_000, "connection"),
    "syns": ("syns", 1_000_000, "flow"),
    "bulk": ("bulk", 2_400_000, "packet"),
}


# ----------------------------------------------------------------------------
# captures

def capture(args, case):
    """(path, meta, generated): the cached capture of a case."""
    kind, default, _unit = CASES[case]
    n = {"handshakes": args.connections, "syns": args.connections,
         "bulk": args.bulk_packets}[case] or default
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"scale-{kind}-{n}-g{GEN_VERSION}.pcap"
    meta_path = path.with_suffix(".json")
    if path.exists() and meta_path.exists():
        return path, json.loads(meta_path.read_text()), False
    print(f"generating {path} ...", end=" ", flush=True)
    t0 = time.perf_counter()
    tmp = path.with_suffix(".tmp")
    packets = scalecap.generate(kind, tmp, n)
    tmp.rename(path)
    conns = 1 if kind == "bulk" else n
    meta = {"packets": packets, "connections": conns}
    meta_path.write_text(json.dumps(meta) + "\n")
    print(f"{packets} packets in {time.perf_counter() - t0:.0f} s", flush=True)
    return path, meta, True


def readable_by_all(path: Path) -> bool:
    """Whether nobody can read path (o+x on every directory above, o+r)."""
    path = path.resolve()
    if not os.stat(path).st_mode & 0o004:
        return False
    return all(os.stat(p).st_mode & 0o001 for p in path.parents)


# ----------------------------------------------------------------------------
# running

STORAGE = re.compile(r"connmon storage: (\d+) frames, (\d+) bytes \(records (\d+)\); "
                     r"flow labels (\d+) bytes")
# the engine's own account (plugin log line, CLI -v summary), where it has one
ENGINE = re.compile(r"engine: (\d+) connections \((\d+) not packed\), (\d+) bytes")
# what the CLI holds at most by default (connmon -h: --maxFlows)
CLI_DEFAULT_MAX_FLOWS = 100000


def run(cmd, env=None, stdout=subprocess.DEVNULL, storage=None):
    """(cpu_s, wall_s, maxrss_bytes) of one run of cmd.  With a dict as
    storage, the plugin's storage log line (--log-level info) is read into
    it: frames, store bytes, record bytes, label bytes."""
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=stdout, stderr=err,
                                stdin=subprocess.DEVNULL)
        _pid, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        rc = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode(errors="replace")
        if rc != 0:
            raise SystemExit(f"failed ({rc}): {shlex.join(cmd)}\n" + text[-3000:])
        m = STORAGE.search(text)
        if storage is not None and m:
            storage.update(zip(("frames", "store", "records", "labels"),
                               (int(g) for g in m.groups())))
        m = ENGINE.search(text)
        if storage is not None and m:
            storage.update(zip(("engine_conns", "engine_hot", "engine_bytes"),
                               (int(g) for g in m.groups())))
    return ru.ru_utime + ru.ru_stime, wall, ru.ru_maxrss * 1024


def tshark_cmd(ts, variant, pcap, wargs):
    # --log-level info: the plugin says what its storage came to at the end
    return ts.command(dict(VARIANTS)[variant] + ["--log-level", "info", "-r", pcap] + wargs)


def cli_cmd(cli, pcap, extra=()):
    return [str(cli), "-r", str(pcap), "-m", "-q"] + list(extra)


GNU_TIME = "/usr/bin/time"


def run_small(cmd, storage=None):
    """run() for a process much smaller than this one.  A child of Python
    starts as a copy of it (vfork/exec), and Linux keeps that copy's RSS as
    the child's max RSS across exec: tens of MB that are Python's, not the
    command's.  GNU time forks the command from a small process and reports
    the command's own peak."""
    if not os.path.exists(GNU_TIME):
        return run(cmd, storage=storage)
    with tempfile.NamedTemporaryFile("r") as out:
        cpu, wall, _rss = run([GNU_TIME, "-f", "%M", "-o", out.name] + cmd, storage=storage)
        rss_kb = int(out.read().split()[-1])
    return cpu, wall, rss_kb * 1024


def callgrind_ir(ts, args) -> int:
    cmd = ts.prefix + ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                       "tshark"] + [str(a) for a in args]
    proc = subprocess.run(cmd, env=ts.env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    for line in proc.stderr.splitlines():
        if "Collected :" in line:
            return int(line.split(":")[-1].strip())
    raise RuntimeError("no instruction count from callgrind:\n" + proc.stderr[-2000:])


def measure_case(args, ts, cli, case, pcap, meta):
    """Every run of one case; returns the case's result dict."""
    res = {"packets": meta["packets"], "connections": meta["connections"],
           "unit": CASES[case][2], "runs": {}}
    runs = res["runs"]
    for rep in range(args.reps):
        for key, _label, wargs in WORKLOADS:
            order = VARIANTS if rep % 2 == 0 else VARIANTS[::-1]
            for variant, _vargs in order:
                storage = res.setdefault("storage", {}) if variant == "on" else None
                cpu, wall, rss = run(tshark_cmd(ts, variant, pcap, wargs), env=ts.env,
                                     storage=storage)
                runs.setdefault(f"{key}/{variant}", []).append([cpu, wall, rss])
                if args.verbose:
                    print(f"    {case} {key}/{variant}: {cpu:.2f} s CPU, {wall:.2f} s wall, "
                          f"{rss / 1e6:.0f} MB", flush=True)
        if cli:
            cpu, wall, rss = run_small(cli_cmd(cli, pcap))
            runs.setdefault("cli", []).append([cpu, wall, rss])
            if args.verbose:
                print(f"    {case} cli: {cpu:.2f} s CPU, {rss / 1e6:.0f} MB", flush=True)
        print(f"  {case}: repetition {rep + 1}/{args.reps} done", file=sys.stderr, flush=True)
    if cli:
        _cpu, _wall, rss = run_small(cli_cmd(cli, pcap, ["-c", "1"]))
        res["cli_base_rss"] = rss
        # how many connections it held at the end (the peak, at its bound),
        # from its -v summary; older builds say nothing: the default bound
        held = {}
        run([str(cli), "-r", str(pcap), "-m", "-v"], storage=held)
        res["cli_held"] = held.get("engine_conns") or min(meta["connections"],
                                                          CLI_DEFAULT_MAX_FLOWS)
        if "engine_bytes" in held:
            res["cli_engine_bytes"] = held["engine_bytes"]
    if args.instructions and case == "syns":
        n = min(args.instructions, meta["packets"])
        instr = {}
        for key, _label, wargs in WORKLOADS:
            for variant, vargs in VARIANTS:
                base = vargs + ["-r", pcap] + wargs
                ir1 = callgrind_ir(ts, base + ["-c", "1"])
                irn = callgrind_ir(ts, base + ["-c", str(n)])
                instr[f"{key}/{variant}"] = (irn - ir1) / (n - 1)
                print(f"  {case} {key}/{variant}: {instr[f'{key}/{variant}']:,.0f} "
                      f"instructions per packet", file=sys.stderr, flush=True)
        res["instructions"] = {"packets": n, "per_packet": instr}
    return res


# ----------------------------------------------------------------------------
# figures

def med(values):
    return statistics.median(values)


def summary(res):
    """The figures of one case from its runs."""
    r = res["runs"]
    per = res["connections"] if res["unit"] != "packet" else res["packets"]
    out = {"unit": res["unit"], "per": per, "packets": res["packets"]}
    for key, _label, _w in WORKLOADS:
        on, off = r[f"{key}/on"], r[f"{key}/off"]
        rss_on, rss_off = med(x[2] for x in on), med(x[2] for x in off)
        out[key] = {
            "rss_on": rss_on, "rss_off": rss_off,
            "bytes_per_unit": (rss_on - rss_off) / per,
            "cpu_on": med(x[0] for x in on), "cpu_off": med(x[0] for x in off),
            "cpu_ratio": med(a[0] / b[0] for a, b in zip(on, off)),
        }
    if res.get("storage"):
        st = res["storage"]
        out["storage"] = {"store_per_unit": st["store"] / per,
                          "records_per_frame": st["records"] / max(st["frames"], 1),
                          "labels_per_unit": st["labels"] / per}
        if "engine_bytes" in st:
            out["storage"]["engine_per_unit"] = st["engine_bytes"] / per
    if "cli" in r:
        rss = med(x[2] for x in r["cli"])
        cpu = min(x[0] for x in r["cli"])
        held = res.get("cli_held") or min(res["connections"], CLI_DEFAULT_MAX_FLOWS)
        out["cli"] = {"rss": rss, "bytes_per_unit": (rss - res["cli_base_rss"]) / per,
                      "held": held, "bytes_per_held": (rss - res["cli_base_rss"]) / held,
                      "cpu": cpu, "ns_per_packet": cpu / res["packets"] * 1e9}
        if "cli_engine_bytes" in res:
            out["cli"]["engine_per_held"] = res["cli_engine_bytes"] / held
    if "instructions" in res:
        ip = res["instructions"]["per_packet"]
        out["instructions"] = {
            "packets": res["instructions"]["packets"],
            **{key: {"on": ip[f"{key}/on"], "off": ip[f"{key}/off"],
                     "ratio": ip[f"{key}/on"] / ip[f"{key}/off"]} for key, _l, _w in WORKLOADS}}
    return out


def mb(b):
    return f"{b / 1e6:,.0f} MB"


def print_tables(report):
    s = report["summary"]
    cases = [c for c in CASES if c in s]
    print("\nMemory (max RSS; connmon's share = enabled - disabled, per unit):\n")
    print("| case | packets | tshark -q -Y tcp: off / on | connmon per unit "
          "| tshark -T fields: off / on | connmon per unit | CLI RSS "
          "| CLI per connection held (bulk: per packet) |")
    print("|---|---|---|---|---|---|---|---|")
    for c in cases:
        x = s[c]
        cli = x.get("cli")
        print(f"| {c} | {x['packets']:,} "
              f"| {mb(x['q']['rss_off'])} / {mb(x['q']['rss_on'])} "
              f"| **{x['q']['bytes_per_unit']:,.0f} B** per {x['unit']} "
              f"| {mb(x['fields']['rss_off'])} / {mb(x['fields']['rss_on'])} "
              f"| **{x['fields']['bytes_per_unit']:,.0f} B** per {x['unit']} "
              + ("| - | - |" if not cli else
                 f"| {mb(cli['rss'])} | **{cli['bytes_per_unit']:,.0f} B** per packet |"
                 if x["unit"] == "packet" else
                 f"| {mb(cli['rss'])} | **{cli['bytes_per_held']:,.0f} B** "
                 f"({cli['held']:,} held) |"))
    if any("storage" in s[c] for c in cases):
        print("\nOf connmon's share, the plugin's own storage (its log line at the end of "
              "the -q run):\n")
        print("| case | frame store per unit | bytes per record | flow labels per unit "
              "| engine per unit (at the end) |")
        print("|---|---|---|---|---|")
        for c in cases:
            st = s[c].get("storage")
            if st:
                eng = st.get("engine_per_unit")
                print(f"| {c} | {st['store_per_unit']:,.1f} B per {s[c]['unit']} "
                      f"| {st['records_per_frame']:.1f} "
                      f"| {st['labels_per_unit']:,.1f} B per {s[c]['unit']} "
                      + (f"| {eng:,.1f} B per {s[c]['unit']} |" if eng is not None else "| - |"))
    print("\nCPU (user + sys; ratio = median of the back-to-back on/off pairs):\n")
    print("| case | -q -Y tcp: off / on | ratio | -T fields: off / on | ratio "
          "| CLI CPU | CLI ns per packet |")
    print("|---|---|---|---|---|---|---|")
    for c in cases:
        x = s[c]
        cli = x.get("cli")
        print(f"| {c} | {x['q']['cpu_off']:.2f} / {x['q']['cpu_on']:.2f} s "
              f"| **{x['q']['cpu_ratio']:.3f}** "
              f"| {x['fields']['cpu_off']:.2f} / {x['fields']['cpu_on']:.2f} s "
              f"| **{x['fields']['cpu_ratio']:.3f}** "
              + (f"| {cli['cpu']:.2f} s | {cli['ns_per_packet']:.0f} |" if cli else "| - | - |"))
    if "handshakes" in s and "bulk" in s and "cli" in s["bulk"]:
        a, b = s["handshakes"]["cli"]["ns_per_packet"], s["bulk"]["cli"]["ns_per_packet"]
        print(f"\nCLI per-packet CPU, 1M connections / one bulk connection: "
              f"{a:.0f} / {b:.0f} ns = **x{a / b:.2f}** (target <= 2)")
    if "syns" in s and "instructions" in s["syns"]:
        i = s["syns"]["instructions"]
        print(f"\nInstructions per packet on the first {i['packets']:,} packets of the SYN "
              f"flood (callgrind, start-up subtracted):")
        for key, label, _w in WORKLOADS:
            print(f"  {label}: {i[key]['on']:,.0f} on / {i[key]['off']:,.0f} off "
                  f"= **x{i[key]['ratio']:.3f}** (target <= 1.15)")


def held_bytes(summ, case):
    """CLI bytes per connection held (older reports: at the default bound)."""
    cli = summ["cli"]
    if "bytes_per_held" in cli:
        return cli["bytes_per_held"]
    held = min(summ["per"], CLI_DEFAULT_MAX_FLOWS)
    return cli["bytes_per_unit"] * summ["per"] / held


def print_compare(old, new):
    """Before / after of the headline figures."""
    rows = []
    for c in CASES:
        if c not in old["summary"] or c not in new["summary"]:
            continue
        o, n = old["summary"][c], new["summary"][c]
        unit = n["unit"]
        for key, label, _w in WORKLOADS:
            rows.append((f"{c}: plugin B per {unit}, {label}",
                         f"{o[key]['bytes_per_unit']:,.0f}", f"{n[key]['bytes_per_unit']:,.0f}"))
            rows.append((f"{c}: plugin CPU ratio, {label}",
                         f"{o[key]['cpu_ratio']:.3f}", f"{n[key]['cpu_ratio']:.3f}"))
        if "cli" in o and "cli" in n:
            if unit == "packet":
                rows.append((f"{c}: CLI B per packet", f"{o['cli']['bytes_per_unit']:,.0f}",
                             f"{n['cli']['bytes_per_unit']:,.0f}"))
            else:
                rows.append((f"{c}: CLI B per connection held",
                             f"{held_bytes(o, c):,.0f}", f"{held_bytes(n, c):,.0f}"))
            rows.append((f"{c}: CLI ns per packet", f"{o['cli']['ns_per_packet']:.0f}",
                         f"{n['cli']['ns_per_packet']:.0f}"))
        if "instructions" in o and "instructions" in n:
            for key, label, _w in WORKLOADS:
                rows.append((f"{c}: instruction ratio, {label}",
                             f"{o['instructions'][key]['ratio']:.3f}",
                             f"{n['instructions'][key]['ratio']:.3f}"))
    print(f"\nBefore ({old.get('label', 'old')}) / after ({new.get('label', 'new')}):\n")
    print("| figure | before | after |")
    print("|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} |")


# ----------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    ap.add_argument("--connections", type=int, default=0,
                    help="connections of the handshakes and syns captures (default 1000000)")
    ap.add_argument("--bulk-packets", type=int, default=0,
                    help="packets of the bulk capture (default 2400000)")
    ap.add_argument("--reps", type=int, default=1,
                    help="repetitions (default 1; CPU ratios are noisy, use 3+)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the generated captures in --work for later runs")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "connmon-scale"),
                    help="where the captures are cached (default $TMPDIR/connmon-scale)")
    ap.add_argument("--plugin-dir", default=None,
                    help="plugin root or build dir (default $CONNMON_BUILD_DIR or build/)")
    ap.add_argument("--cli", default=None,
                    help="the connmon binary (default <build dir>/bin/connmon); 'none' to skip")
    ap.add_argument("--instructions", type=int, nargs="?", const=100_000, default=0,
                    metavar="N", help="also count instructions per packet (valgrind) on the "
                    "first N packets of the SYN flood (default N 100000, ~15 min)")
    ap.add_argument("--label", default=None, help="a name for this run in --json / --compare")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    ap.add_argument("--compare", metavar="OLD.json",
                    help="print a before/after table against an earlier --json")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every run")
    args = ap.parse_args()

    print("$ " + shlex.join([sys.executable] + sys.argv), flush=True)
    plugin_root = connmon_tshark.find_plugin_root(args.plugin_dir)
    if args.cli == "none":
        cli = None
    else:
        cli = Path(args.cli) if args.cli else plugin_root.parent / "bin" / "connmon"
        if not cli.exists():
            raise SystemExit(f"{cli} not found (--cli PATH, or --cli none)")

    generated = []
    caps = {}
    for case in args.cases:
        path, meta, gen = capture(args, case)
        caps[case] = (path, meta)
        if gen:
            generated.append(path)
    report = {"label": args.label or str(plugin_root), "summary": {}, "raw": {}}
    try:
        with connmon_tshark.staged(plugin_root, prefix="connmon-scale-") as ts:
            ts.require_plugin()
            version = ts.run(["--version"]).stdout.splitlines()[0].rstrip(".")
            print(f"{version}; plugin {plugin_root}/*/epan/connmon.so; CLI {cli}; "
                  f"{args.reps} repetition(s); tshark runs as "
                  f"{'nobody (setpriv)' if ts.prefix else 'this user'}")
            print(f"load average before: {os.getloadavg()[0]:.2f} "
                  f"({os.cpu_count()} CPUs)", flush=True)
            staged_paths = {}
            for case, (path, meta) in caps.items():
                staged_paths[case] = (str(path) if readable_by_all(path)
                                      else ts.stage_file(path))
            print("\nCommands (FILE = the case's capture):")
            for key, _label, wargs in WORKLOADS:
                for variant, _v in VARIANTS:
                    print("  $ " + shlex.join(tshark_cmd(ts, variant, "FILE", wargs))
                          + " > /dev/null")
            if cli:
                print("  $ " + shlex.join(cli_cmd(cli, "FILE")) + " > /dev/null")
            print(flush=True)
            for case in args.cases:
                res = measure_case(args, ts, cli, case, staged_paths[case], caps[case][1])
                report["raw"][case] = res
                report["summary"][case] = summary(res)
            print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        if not args.keep:
            for p in generated:
                p.unlink(missing_ok=True)
                p.with_suffix(".json").unlink(missing_ok=True)
    print_tables(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
    if args.compare:
        print_compare(json.loads(Path(args.compare).read_text()), report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
