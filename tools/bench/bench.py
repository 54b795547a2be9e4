#!/usr/bin/env python3
"""CPU cost of the connmon plugin in tshark (python3 stdlib only).

Generates (deterministically; see gencap.py) a large capture of parallel
bulk TCP transfers, then times tshark on it with connmon enabled and with
`--disable-protocol connmon`, interleaved, for two workloads:

  (a) conv   tshark -r big.pcap -q -z conv,tcp          (one pass, no tree)
  (b) fields tshark -r big.pcap -T fields -e frame.number -e frame.time_epoch
                 -e tcp.stream -e tcp.len -e connmon.tsrtd -e connmon.seqrtd

CPU time is user+sys of the tshark process (wait4 rusage); wall time is
reported too.  The plugin dir is staged as for the tests (see
tools/connmon_tshark.py): as root, tshark runs as nobody.

    tools/bench/bench.py [--packets N] [--reps N] [--keep] [--plugin-dir DIR]
    tools/bench/bench.py --versions host trixie sid [--instructions] ...

--versions runs the same benchmark, on the same capture, with each
Wireshark: "host" is this system's tshark with --plugin-dir, any other name
a Debian chroot made by scripts/versions.sh (its tshark, the plugin built
in it from this checkout), and prints the results side by side.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import connmon_tshark  # noqa: E402
import gencap  # noqa: E402

GEN_VERSION = 1     # bump when gencap.py changes what it writes

FIELDS = ["frame.number", "frame.time_epoch", "tcp.stream", "tcp.len",
          "connmon.tsrtd", "connmon.seqrtd"]
WORKLOADS = [
    # name, args after -r FILE, target ratio
    ("(a) conv", ["-q", "-z", "conv,tcp"], 1.10),
    ("(b) fields", ["-T", "fields"] + [x for f in FIELDS for x in ("-e", f)], 1.05),
]
VARIANTS = [("connmon", []), ("disabled", ["--disable-protocol", "connmon"])]


def capture(args):
    """(path, generated): the cached capture, generated when missing."""
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"bulk-{args.packets}p-{args.flows}f-s{args.seed}-g{GEN_VERSION}.pcap"
    if path.exists():
        print(f"reusing {path}", flush=True)
        return path, False
    print(f"generating {path} ...", end=" ", flush=True)
    tmp = path.with_suffix(".tmp")
    n = gencap.generate(tmp, args.packets, args.flows, args.seed)
    tmp.rename(path)
    print(f"{n} packets", flush=True)
    return path, True


def count_packets(ts, pcap) -> int:
    out = ts.run(["-r", pcap, "-q", "-z", "io,stat,0"]).stdout
    # the io,stat table's only row: "|  0.0 <> Dur |  FRAMES | BYTES |"
    for line in out.splitlines():
        if "<>" in line:
            return int(line.split("|")[2].split()[0])
    raise RuntimeError("cannot count packets:\n" + out)


def sanity(ts, pcap):
    """connmon must produce samples when enabled and none when disabled."""
    for name, extra in VARIANTS:
        out = ts.run(extra + ["-r", pcap, "-T", "fields", "-e", "connmon.tsrtd",
                              "-Y", "connmon.tsrtd"]).stdout
        n = sum(1 for line in out.splitlines() if line.strip())
        if (n > 0) != (name == "connmon"):
            raise SystemExit(f"sanity check failed: {n} connmon.tsrtd samples "
                             f"with variant {name}")


def callgrind_ir(ts, args) -> int:
    """Instructions executed by one tshark run under valgrind's callgrind."""
    cmd = ts.prefix + ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                       "tshark"] + [str(a) for a in args]
    proc = subprocess.run(cmd, env=ts.env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    for line in proc.stderr.splitlines():
        if "Collected :" in line:
            return int(line.split(":")[-1].strip())
    raise RuntimeError("no instruction count from callgrind:\n" + proc.stderr[-2000:])


def instructions(ts, pcap, npk, n):
    """Deterministic cost estimate: per workload and variant, instructions of
    a run stopped after 1 packet (start-up and shut-down) and after n packets;
    the full run is extrapolated linearly from the per-packet part."""
    print(f"\ninstruction counts (valgrind --tool=callgrind; tshark -c 1 and -c {n}, "
          f"extrapolated to {npk} packets):")
    result = {}
    for wname, wargs, target in WORKLOADS:
        est = {}
        for vname, vargs in VARIANTS:
            base = vargs + ["-r", pcap] + wargs
            ir1 = callgrind_ir(ts, base + ["-c", "1"])
            irn = callgrind_ir(ts, base + ["-c", str(n)])
            per_pkt = (irn - ir1) / (n - 1)
            est[vname] = (ir1, per_pkt, ir1 + per_pkt * (npk - 1))
        on, off = est["connmon"], est["disabled"]
        ratio = on[2] / off[2]
        print(f"   {wname}: per packet {on[1]:,.0f} vs {off[1]:,.0f} instructions "
              f"(x{on[1] / off[1]:.3f}); start-up {on[0] / 1e6:,.0f}M vs {off[0] / 1e6:,.0f}M; "
              f"whole run x{ratio:.3f}, target <= {target:.2f}: "
              f"{'PASS' if ratio <= target else 'FAIL'}")
        result[wname] = {"per_packet_on": on[1], "per_packet_off": off[1],
                         "startup_on": on[0], "startup_off": off[0], "ratio": ratio,
                         "packets_counted": n}
    return result


def fmt_cmd(argv, pcap_path):
    return " ".join("big.pcap" if a == pcap_path else a for a in argv)


def add_common_args(ap):
    ap.add_argument("--packets", type=int, default=150_000,
                    help="packets in the generated capture (default 150000)")
    ap.add_argument("--flows", type=int, default=24,
                    help="concurrent flows (default 24; every 4th is IPv6)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reps", type=int, default=5, help="repetitions (default 5)")
    ap.add_argument("--instructions", type=int, nargs="?", const=20000, default=0,
                    metavar="N",
                    help="also count instructions with valgrind (runs of 1 and N packets, "
                         "default N 20000; deterministic, unlike CPU time on a busy machine)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="also print every run's CPU seconds")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(ap)
    ap.add_argument("--keep", action="store_true",
                    help="keep the generated capture in --work for later runs")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "connmon-bench"),
                    help="where the capture is cached (default $TMPDIR/connmon-bench)")
    ap.add_argument("--plugin-dir", default=None,
                    help="plugin root holding 4.0/epan/connmon.so, or a build dir "
                         "(default $CONNMON_BUILD_DIR or build/)")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 when a workload misses its target (median of the "
                         "per-repetition CPU ratios)")
    ap.add_argument("--json", metavar="FILE",
                    help="also write the results as JSON")
    ap.add_argument("--versions", nargs="+", metavar="NAME",
                    help="run on several Wireshark versions and compare: 'host' and/or "
                         "chroots of scripts/versions.sh (e.g. trixie sid)")
    ap.add_argument("--chroots", default=os.environ.get("CONNMON_CHROOTS",
                                                        "/var/tmp/connmon-chroots"),
                    help="where --versions finds the chroots (default $CONNMON_CHROOTS "
                         "or /var/tmp/connmon-chroots)")
    ap.add_argument("--show", metavar="JSON",
                    help="only print the table of an earlier --json file")
    args = ap.parse_args()
    if args.show:
        show(args.show)
        return 0

    src, generated = capture(args)
    try:
        if args.versions:
            reports = [run_elsewhere(args, name, src) for name in args.versions]
            print_side_by_side(args, reports)
            if args.json:
                Path(args.json).write_text(json.dumps(reports, indent=1) + "\n")
            failed = any(not w["pass"] for r in reports for w in r["workloads"].values())
        else:
            report = run_here(args, src)
            if args.json:
                Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
            failed = any(not w["pass"] for w in report["workloads"].values())
    finally:
        if generated and not args.keep:
            src.unlink(missing_ok=True)
            try:
                Path(args.work).rmdir()
            except OSError:
                pass
    return 1 if (failed and args.check) else 0


def run_here(args, src):
    """The benchmark with this system's tshark; returns the report dict."""
    report = {"workloads": {}}
    with connmon_tshark.staged(args.plugin_dir, prefix="connmon-bench-") as ts:
        ts.require_plugin()
        pcap = ts.stage_file(src)
        version = ts.run(["--version"]).stdout.splitlines()[0]
        npk = count_packets(ts, pcap)
        sanity(ts, pcap)
        m = re.search(r"\d+\.\d+\.\d+", version)
        report.update(wireshark=m.group(0) if m else version, tshark=version.rstrip("."),
                      packets=npk, reps=args.reps, cpus=os.cpu_count())
        print(f"{version.rstrip('.')}, plugin "
              f"{connmon_tshark.find_plugin_root(args.plugin_dir)}/*/epan/connmon.so")
        print(f"capture: {npk} packets, {args.flows} flows, "
              f"{src.stat().st_size / 1e6:.1f} MB; {args.reps} repetitions; "
              f"tshark runs as {'nobody (setpriv)' if ts.prefix else 'this user'} "
              f"with WIRESHARK_PLUGIN_DIR={ts.env['WIRESHARK_PLUGIN_DIR']}")
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        results = {}
        for _wname, wargs, _target in WORKLOADS:
            for _vname, vargs in VARIANTS:      # warm-up, not counted
                ts.run_measured(vargs + ["-r", pcap] + wargs)
        for rep in range(args.reps):
            for wname, wargs, _t in WORKLOADS:
                order = VARIANTS if rep % 2 == 0 else VARIANTS[::-1]
                for vname, vargs in order:
                    u, s, w, _rc = ts.run_measured(vargs + ["-r", pcap] + wargs)
                    results.setdefault((wname, vname), []).append((u + s, w))
            print(f"  repetition {rep + 1}/{args.reps} done", file=sys.stderr, flush=True)

        print(f"load average after: {os.getloadavg()[0]:.2f} "
              f"(this machine has {os.cpu_count()} CPUs; other load adds noise)")
        print()
        for wname, wargs, target in WORKLOADS:
            print(f"{wname}:")
            for vname, vargs in VARIANTS:
                print("   $ " + fmt_cmd(ts.command(vargs + ["-r", pcap] + wargs), pcap)
                      + (" > /dev/null" if "fields" in wargs else ""))
            print(f"   {'variant':<10} {'CPU median':>10} {'CPU min':>9} "
                  f"{'wall median':>11} {'kpkt/s CPU':>10}")
            stats = {}
            for vname, _ in VARIANTS:
                cpu = [c for c, _w in results[(wname, vname)]]
                wall = [w for _c, w in results[(wname, vname)]]
                stats[vname] = (statistics.median(cpu), min(cpu), statistics.median(wall))
                med, mn, wmed = stats[vname]
                print(f"   {vname:<10} {med:>9.3f}s {mn:>8.3f}s {wmed:>10.3f}s "
                      f"{npk / med / 1000:>10.1f}")
                if args.verbose:
                    print("              runs: " + " ".join(f"{c:.3f}" for c in cpu))
            on, off = stats["connmon"], stats["disabled"]
            r_med, r_min, r_wall = on[0] / off[0], on[1] / off[1], on[2] / off[2]
            # each repetition runs both variants back to back: the median
            # of the per-repetition ratios cancels slow drifts in load
            paired = statistics.median(
                a[0] / b[0] for a, b in zip(results[(wname, "connmon")],
                                            results[(wname, "disabled")]))
            ok = paired <= target
            print(f"   {'ratio':<10} {r_med:>10.3f} {r_min:>9.3f} {r_wall:>11.3f}")
            print(f"   CPU ratio, median of the {args.reps} back-to-back pairs: "
                  f"{paired:.3f}; target <= {target:.2f}: {'PASS' if ok else 'FAIL'} "
                  f"(ratio of minima: {'PASS' if r_min <= target else 'FAIL'})")
            print()
            report["workloads"][wname] = {
                "target": target, "cpu_median_on": on[0], "cpu_median_off": off[0],
                "cpu_min_on": on[1], "cpu_min_off": off[1], "ratio_medians": r_med,
                "ratio_minima": r_min, "ratio_pairs": paired, "pass": ok,
                "commands": [fmt_cmd(ts.command(vargs + ["-r", pcap] + wargs), pcap)
                             for _v, vargs in VARIANTS]}
        if args.instructions:
            if not shutil.which("valgrind"):
                print("--instructions: valgrind not found", file=sys.stderr)
            else:
                instr = instructions(ts, pcap, npk, min(args.instructions, npk))
                for wname, data in instr.items():
                    w = report["workloads"][wname]
                    w["instructions"] = data
                    # instructions are the verdict when counted: CPU time is noisy
                    w["pass"] = data["ratio"] <= w["target"]
    return report


def passthrough(args):
    out = ["--packets", str(args.packets), "--flows", str(args.flows), "--seed", str(args.seed),
           "--reps", str(args.reps)]
    if args.instructions:
        out += ["--instructions", str(args.instructions)]
    if args.verbose:
        out.append("-v")
    return out


def run_elsewhere(args, name, src):
    """One version of --versions: the host (a subprocess of this script) or
    a chroot of scripts/versions.sh (copy this checkout in, build, run)."""
    print(f"\n======== {name} ========", flush=True)
    versions_sh = REPO / "scripts" / "versions.sh"
    if name == "host":
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "bench.json"
            cmd = [sys.executable, str(HERE / "bench.py"), "--json", str(out), "--keep",
                   "--work", str(src.parent)] + passthrough(args)
            if args.plugin_dir:
                cmd += ["--plugin-dir", args.plugin_dir]
            subprocess.run(cmd, check=True)
            report = json.loads(out.read_text())
    else:
        root = Path(args.chroots) / name if "/" not in name else Path(name)
        env = dict(os.environ, CONNMON_CHROOTS=str(root.parent))
        run = [str(versions_sh), "run", root.name]
        subprocess.run([str(versions_sh), "sync", root.name], env=env, check=True)
        subprocess.run(run + ["env", "CONNMON_BUILD_DIR=build-ci", "scripts/build.sh"],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        if args.instructions:
            subprocess.run(run + ["sh", "-c", "command -v valgrind >/dev/null || "
                                  "apt-get install -y -qq valgrind >/dev/null"],
                           env=env, check=True)
        work = root / "build" / "bench"
        work.mkdir(parents=True, exist_ok=True)
        if not (work / src.name).exists():
            shutil.copy(src, work / src.name)
        try:
            subprocess.run(run + ["python3", "tools/bench/bench.py", "--json",
                                  "/build/bench/bench.json", "--keep", "--work", "/build/bench",
                                  "--plugin-dir", "build-ci"] + passthrough(args),
                           env=env, check=True)
            report = json.loads((work / "bench.json").read_text())
        finally:
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
    report["where"] = name
    return report


def print_side_by_side(args, reports):
    """One table, a row per version and workload (markdown)."""
    instr = any("instructions" in w for r in reports for w in r["workloads"].values())
    print(f"\n{reports[0]['packets']:,} packets, {reports[0]['reps']} repetitions; "
          "ratios are connmon on / off. CPU ratio: median of the back-to-back pairs"
          + ("; instruction ratio: whole run, extrapolated from tshark -c 1 and -c "
             f"{next(w['instructions']['packets_counted'] for r in reports for w in r['workloads'].values() if 'instructions' in w):,}"
             " under callgrind (the verdict when counted)" if instr else "") + "\n")
    print("| Wireshark | workload | instructions per packet, on / off | instruction ratio "
          "| CPU median, on / off | CPU ratio | target | |")
    print("|---|---|---|---|---|---|---|---|")
    for r in reports:
        for wname, _wargs, target in WORKLOADS:
            w = r["workloads"][wname]
            i = w.get("instructions")
            print(f"| {r['wireshark']} ({r['where']}) | {wname} | "
                  + (f"{i['per_packet_on']:,.0f} / {i['per_packet_off']:,.0f} | **{i['ratio']:.3f}** | "
                     if i else "| | ")
                  + f"{w['cpu_median_on']:.3f} / {w['cpu_median_off']:.3f} s | "
                  f"{w['ratio_pairs']:.3f} | <= {target:.2f} | {'PASS' if w['pass'] else 'FAIL'} |")


def show(path):
    """Prints the table of a --versions --json file again."""
    reports = json.loads(Path(path).read_text())
    print_side_by_side(None, reports if isinstance(reports, list) else [reports])


if __name__ == "__main__":
    sys.exit(main())
