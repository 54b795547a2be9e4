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
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
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


def fmt_cmd(argv, pcap_path):
    return " ".join("big.pcap" if a == pcap_path else a for a in argv)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--packets", type=int, default=150_000,
                    help="packets in the generated capture (default 150000)")
    ap.add_argument("--flows", type=int, default=24,
                    help="concurrent flows (default 24; every 4th is IPv6)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reps", type=int, default=5, help="repetitions (default 5)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the generated capture in --work for later runs")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "connmon-bench"),
                    help="where the capture is cached (default $TMPDIR/connmon-bench)")
    ap.add_argument("--plugin-dir", default=None,
                    help="plugin root holding 4.0/epan/connmon.so, or a build dir "
                         "(default $CONNMON_BUILD_DIR or build/)")
    ap.add_argument("--instructions", type=int, nargs="?", const=20000, default=0,
                    metavar="N",
                    help="also count instructions with valgrind (runs of 1 and N packets, "
                         "default N 20000; deterministic, unlike CPU time on a busy machine)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="also print every run's CPU seconds")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 when a workload misses its target (median of the "
                         "per-repetition CPU ratios)")
    args = ap.parse_args()

    src, generated = capture(args)
    failed = False
    try:
        with connmon_tshark.staged(args.plugin_dir, prefix="connmon-bench-") as ts:
            ts.require_plugin()
            pcap = ts.stage_file(src)
            version = ts.run(["--version"]).stdout.splitlines()[0]
            npk = count_packets(ts, pcap)
            sanity(ts, pcap)
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
                failed |= not ok
                print(f"   {'ratio':<10} {r_med:>10.3f} {r_min:>9.3f} {r_wall:>11.3f}")
                print(f"   CPU ratio, median of the {args.reps} back-to-back pairs: "
                      f"{paired:.3f}; target <= {target:.2f}: {'PASS' if ok else 'FAIL'} "
                      f"(ratio of minima: {'PASS' if r_min <= target else 'FAIL'})")
                print()
            if args.instructions:
                if not shutil.which("valgrind"):
                    print("--instructions: valgrind not found", file=sys.stderr)
                else:
                    instructions(ts, pcap, npk, min(args.instructions, npk))
    finally:
        if generated and not args.keep:
            src.unlink(missing_ok=True)
            try:
                Path(args.work).rmdir()
            except OSError:
                pass
    return 1 if (failed and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
