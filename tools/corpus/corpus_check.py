#!/usr/bin/env python3
"""Compare connmon's expert infos with Wireshark's TCP analysis on a corpus.

    tools/corpus/corpus_check.py DIR [DIR|FILE ...] [--plugin-dir build/plugins]
                                 [-v] [--examples N] [--context K] [--json]
                                 [--cross-check]

For every capture found under the arguments (recursively; anything tshark
reads; MANIFEST/README/text files and files tshark does not recognise are
skipped), one `tshark -T fields` pass gives, per frame, connmon's fields and
Wireshark's tcp.analysis flags.  Three frame sets are compared:

  hole    connmon.expert.hole    vs tcp.analysis.lost_segment
  behind  connmon.expert.behind  vs tcp.analysis.retransmission ||
                                    tcp.analysis.fast_retransmission ||
                                    tcp.analysis.spurious_retransmission ||
                                    tcp.analysis.out_of_order
  dupack  connmon.dupack         vs tcp.analysis.duplicate_ack

and, as a consistency check of the plugin itself, connmon.expert.dupack vs
connmon.dupack.  Also counted: samples per field, TCP frames, analysed
frames (those with connmon.payload) and flows (tcp.stream + connmon.flow).

Expert-info fields are FT_NONE; tshark 4.0 prints them with -e as "1" when
present (once per occurrence).  --cross-check verifies that on every file
with extra `-Y FIELD` passes.

Exit status: 0 when every comparison agrees on every capture, 1 otherwise
(2 on usage or tshark errors).
"""
import argparse
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import connmon_tshark  # noqa: E402
from lib import fields  # noqa: E402

# Fields of the single pass.  Details are kept for the example printout.
DETAIL = ["tcp.stream", "tcp.srcport", "tcp.dstport", "tcp.seq", "tcp.nxtseq", "tcp.ack",
          "tcp.len", "tcp.window_size_value", "tcp.flags.str", "tcp.options.mptcp.subtype"]
TCP_FLAGS = ["tcp.analysis.lost_segment", "tcp.analysis.retransmission",
             "tcp.analysis.fast_retransmission", "tcp.analysis.spurious_retransmission",
             "tcp.analysis.out_of_order", "tcp.analysis.duplicate_ack",
             "tcp.analysis.duplicate_ack_num", "tcp.analysis.duplicate_ack_frame",
             "tcp.analysis.keep_alive", "tcp.analysis.zero_window_probe",
             "tcp.analysis.zero_window", "tcp.analysis.window_update"]
CONNMON = fields.pick("flow", "payload", "seqgap", "tsrtd", "seqrtd", "dupack", "dupack.num",
                      "dupack.frame", "expert.hole", "expert.behind", "expert.dupack")
FIELDS = ["frame.number"] + DETAIL + TCP_FLAGS + CONNMON

BEHIND_TCP = ["tcp.analysis.retransmission", "tcp.analysis.fast_retransmission",
              "tcp.analysis.spurious_retransmission", "tcp.analysis.out_of_order"]

# name, connmon side (fields, any present), Wireshark side
COMPARISONS = [
    ("hole", ["connmon.expert.hole"], ["tcp.analysis.lost_segment"]),
    ("behind", ["connmon.expert.behind"], BEHIND_TCP),
    ("dupack", ["connmon.dupack"], ["tcp.analysis.duplicate_ack"]),
    # the plugin against itself: the expert info must sit on the dupack frames
    ("dupack-self", ["connmon.expert.dupack"], ["connmon.dupack"]),
]
# display filters for --cross-check (FT_NONE presence by -Y)
CROSS = ["connmon.expert.hole", "connmon.expert.behind", "connmon.expert.dupack",
         "tcp.analysis.lost_segment", "tcp.analysis.duplicate_ack"]

SKIP_NAMES = {"manifest", "readme", "license", "copying", ".keep"}
SKIP_EXT = {".tsv", ".csv", ".txt", ".md", ".json", ".py", ".sh", ".c", ".h",
            ".sha256", ".md5", ".html", ".yaml", ".yml"}


def candidate_files(args):
    for a in args:
        p = Path(a)
        files = [p] if p.is_file() else sorted(x for x in p.rglob("*") if x.is_file())
        for f in files:
            stem = f.name.lower().split(".")[0]
            if (f.name.startswith(".") or stem in SKIP_NAMES
                    or f.suffix.lower() in SKIP_EXT):
                continue
            yield f


# captype's names of file types that Wireshark opens but that hold no packets
# worth checking (media files: ELF/JPEG/PNG..., MP4, MPEG) or that it cannot read
NOT_CAPTURES = {"unknown", "mime", "mp4", "mpeg"}


def file_type(path):
    """captype's short name for the file type, or None without captype."""
    try:
        out = subprocess.run(["captype", str(path)], capture_output=True, text=True,
                             timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.rsplit(":", 1)[-1].strip() if ":" in out else None


def parse_rows(out):
    rows = []
    for line in out.splitlines():
        vals = line.split("\t")
        vals += [""] * (len(FIELDS) - len(vals))
        rows.append(dict(zip(FIELDS, vals)))
    return rows


def first_int(v):
    return int(v.split(",")[0]) if v else None


def analyse(ts, path, cross_check=False):
    ftype = file_type(path)
    if ftype in NOT_CAPTURES:
        return {"file": str(path), "status": "skipped", "reason": f"not a capture ({ftype})"}
    staged = ts.stage_file(path)
    try:
        args = ["-r", staged, "-n", "-T", "fields", "-E", "occurrence=a",
                "-E", "aggregator=,"]
        for f in FIELDS:
            args += ["-e", f]
        proc = ts.run(args, check=False)
        if proc.returncode != 0:
            err = proc.stderr.strip()
            if ("isn't a capture file" in err or "unknown" in err.lower()
                    or "doesn't appear" in err or "not a capture file" in err):
                return {"file": str(path), "status": "skipped", "reason": err.splitlines()[-1]}
            if not proc.stdout:
                return {"file": str(path), "status": "error", "reason": err}
            # truncated/corrupt tail: tshark prints what it read, then fails
        rows = parse_rows(proc.stdout)
        cross = None
        if cross_check:
            cross = {}
            for flt in CROSS:
                out = ts.run(["-r", staged, "-n", "-Y", flt, "-T", "fields",
                              "-e", "frame.number"], check=False).stdout
                cross[flt] = sorted(int(x) for x in out.split())
        res = summarise(path, rows, proc, cross)
        classify(res, ts, staged)
        return res
    finally:
        os.unlink(staged)


def summarise(path, rows, proc, cross):
    res = {"file": str(path), "status": "ok", "frames": len(rows)}
    res["format"] = file_type(path)
    if proc.returncode != 0:
        res["warning"] = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else \
            f"tshark exit {proc.returncode}"
    tcp = [r for r in rows if r["tcp.stream"]]
    analysed = [r for r in rows if r["connmon.payload"]]
    flows = {(r["tcp.stream"].split(",")[-1], r["connmon.flow"]) for r in analysed}
    gaps = [first_int(r["connmon.seqgap"]) for r in rows if r["connmon.seqgap"]]
    res.update({
        "tcp_frames": len(tcp),
        "analysed": len(analysed),
        "flows": len(flows),
        "samples": {
            "tsrtd": sum(1 for r in rows if r["connmon.tsrtd"]),
            "seqrtd": sum(1 for r in rows if r["connmon.seqrtd"]),
            "dupack": sum(1 for r in rows if r["connmon.dupack"]),
            "seqgap>0": sum(1 for g in gaps if g > 0),
            "seqgap<0": sum(1 for g in gaps if g < 0),
        },
    })
    comp = {}
    for name, cm_side, ws_side in COMPARISONS:
        a = {int(r["frame.number"]) for r in rows if any(r[f] for f in cm_side)}
        b = {int(r["frame.number"]) for r in rows if any(r[f] for f in ws_side)}
        comp[name] = {"connmon": len(a), "wireshark": len(b),
                      "only_connmon": sorted(a - b), "only_wireshark": sorted(b - a)}
    res["compare"] = comp
    res["agree"] = all(not c["only_connmon"] and not c["only_wireshark"]
                       for c in comp.values())
    if cross is not None:
        bad = []
        for flt, frames in cross.items():
            one_pass = sorted(int(r["frame.number"]) for r in rows if r[flt])
            if one_pass != frames:
                bad.append(flt)
        res["cross_check"] = "ok" if not bad else "MISMATCH: " + ", ".join(bad)
    res["_rows"] = rows
    return res


def cut_headers(ts, staged, frames):
    """Subset of frames whose (last) TCP header is cut by the snaplen: the
    captured part of the TCP header is shorter than its data offset says.
    One PDML pass restricted to those frames."""
    cut = set()
    frames = sorted(frames)
    for i in range(0, len(frames), 1000):
        chunk = frames[i:i + 1000]
        flt = "frame.number in {" + ", ".join(map(str, chunk)) + "}"
        out = ts.run(["-r", staged, "-n", "-Y", flt, "-T", "pdml"], check=False).stdout
        try:
            root = ET.fromstring(out)
        except ET.ParseError:
            continue
        for pkt in root.iter("packet"):
            num, last = None, None
            for proto in pkt.iter("proto"):
                if proto.get("name") == "frame":
                    for f in proto.iter("field"):
                        if f.get("name") == "frame.number":
                            num = int(f.get("show"))
                            break
                elif proto.get("name") == "tcp":
                    hdr = next((f for f in proto.iter("field")
                                if f.get("name") == "tcp.hdr_len"), None)
                    if hdr is not None:
                        last = (int(proto.get("size")), int(hdr.get("show")))
            if num is not None and last is not None and last[0] < last[1]:
                cut.add(num)
    return cut


EXPLANATIONS = {
    "cut": "TCP header cut by the snaplen inside its options: Wireshark 4.0 runs its "
           "analysis on such a frame (its counters move) but shows no tcp.analysis "
           "item on it",
    "mptcp": "frame carries an MPTCP option: Wireshark ignores a duplicate ACK when "
             "the MPTCP operation count changed (ADD_ADDR, DATA_FIN, ...; RFC 8684 4)",
}


def classify(res, ts, staged):
    """Adds per comparison {"explained": {reason: n}, "unexplained": [...]}."""
    rows = {int(r["frame.number"]): r for r in res["_rows"]}
    differing = set()
    for c in res["compare"].values():
        differing |= set(c["only_connmon"]) | set(c["only_wireshark"])
    cut = cut_headers(ts, staged, differing) if differing else set()
    for name, c in res["compare"].items():
        explained, unexplained = {}, list(c["only_wireshark"])
        for fr in c["only_connmon"]:
            if name == "dupack-self":
                reason = None
            elif fr in cut:
                reason = "cut"
            elif name == "dupack" and rows[fr]["tcp.options.mptcp.subtype"]:
                reason = "mptcp"
            else:
                reason = None
            if reason is None:
                unexplained.append(fr)
            else:
                explained[reason] = explained.get(reason, 0) + 1
        c["explained"] = explained
        c["unexplained"] = sorted(unexplained)
    res["agree_but_explained"] = all(not c["unexplained"] for c in res["compare"].values())


def diff_cell(c):
    s = f"{c['connmon']}/{c['wireshark']}"
    if c["only_connmon"] or c["only_wireshark"]:
        s += f" +{len(c['only_connmon'])}-{len(c['only_wireshark'])}"
        if c.get("explained"):
            s += " (" + ",".join(f"{n} {k}" for k, n in sorted(c["explained"].items())) + ")"
    return s


def verdict(r):
    if r["agree"]:
        v = "yes"
    elif r["agree_but_explained"]:
        v = "expl"
    else:
        v = "NO"
    return v + ("*" if r.get("warning") else "")


def print_table(results, out=sys.stdout):
    hdr = ["capture", "frames", "tcp", "anlys", "flows", "tsrtd", "seqrtd", "dupack",
           "gap>0", "gap<0", "hole c/w", "behind c/w", "dupack c/w", "agree"]
    left = {0, 10, 11, 12, 13}
    lines = []
    for r in results:
        if r["status"] != "ok":
            continue
        s, c = r["samples"], r["compare"]
        lines.append([r["name"], r["frames"], r["tcp_frames"], r["analysed"], r["flows"],
                      s["tsrtd"], s["seqrtd"], s["dupack"], s["seqgap>0"], s["seqgap<0"],
                      diff_cell(c["hole"]), diff_cell(c["behind"]), diff_cell(c["dupack"]),
                      verdict(r)])
    full = [hdr] + lines
    widths = [max(len(str(x[i])) for x in full) for i in range(len(hdr))]

    def fmt(row):
        return "| " + " | ".join(str(v).ljust(widths[i]) if i in left else
                                 str(v).rjust(widths[i]) for i, v in enumerate(row)) + " |"

    print(fmt(hdr), file=out)
    print("|" + "|".join(("-" * (w + 1) + ":") if i not in left else "-" * (w + 2)
                         for i, w in enumerate(widths)) + "|", file=out)
    for l in lines:
        print(fmt(l), file=out)
    print(file=out)
    for r in results:
        if r["status"] != "ok":
            print(f"{r['status']}: {r['name']}: {r.get('reason', '')}", file=out)
    print("anlys: frames connmon analysed (connmon.payload); flows: tcp.stream + "
          "connmon.flow; tsrtd, seqrtd, dupack, gap>0, gap<0: connmon samples.", file=out)
    print("c/w: frames flagged by connmon / by Wireshark; +a-b: a frames only connmon "
          "flags, b only Wireshark; (n cut|mptcp): differences with a known Wireshark "
          "cause, see below.", file=out)
    print("hole: connmon.expert.hole vs tcp.analysis.lost_segment; behind: "
          "connmon.expert.behind vs tcp.analysis.retransmission || fast_retransmission || "
          "spurious_retransmission || out_of_order; dupack: connmon.dupack vs "
          "tcp.analysis.duplicate_ack.", file=out)
    print("agree: yes = identical frame sets; expl = every difference has a known "
          "Wireshark cause; NO = unexplained differences.", file=out)
    used = {k for r in results if r["status"] == "ok" for c in r["compare"].values()
            for k in c.get("explained", {})}
    for k in sorted(used):
        print(f"  {k}: {EXPLANATIONS[k]}", file=out)
    self_bad = [r["name"] for r in results if r["status"] == "ok"
                and (r["compare"]["dupack-self"]["only_connmon"]
                     or r["compare"]["dupack-self"]["only_wireshark"])]
    if self_bad:
        print("connmon.expert.dupack and connmon.dupack on different frames in: "
              + ", ".join(self_bad), file=out)
    if any(r.get("warning") for r in results if r["status"] == "ok"):
        print("* tshark stopped with an error (e.g. a cut-off last record); the frames "
              "read before it were used.", file=out)


def frame_line(r):
    def v(f):
        return r[f] if r[f] else "-"
    flags = [f.split(".")[-1] for f in TCP_FLAGS if r[f]
             and f not in ("tcp.analysis.duplicate_ack_num", "tcp.analysis.duplicate_ack_frame")]
    if r["tcp.analysis.duplicate_ack_num"]:
        flags.append(f"dupack#{r['tcp.analysis.duplicate_ack_num']}"
                     f"(of {r['tcp.analysis.duplicate_ack_frame']})")
    cm = []
    for f in ["connmon.seqgap", "connmon.tsrtd", "connmon.seqrtd"]:
        if r[f]:
            cm.append(f"{f.split('.')[-1]}={r[f]}")
    if r["connmon.dupack"]:
        cm.append(f"dupack#{r['connmon.dupack.num']}(of {r['connmon.dupack.frame']})")
    for f in ["connmon.expert.hole", "connmon.expert.behind"]:
        if r[f]:
            cm.append(f.split(".")[-1])
    if not r["connmon.payload"]:
        cm.append("NOT-ANALYSED")
    mp = f" mptcp={r['tcp.options.mptcp.subtype']}" if r["tcp.options.mptcp.subtype"] else ""
    return (f"{r['frame.number']:>7} s{v('tcp.stream')} {v('tcp.srcport')}>{v('tcp.dstport')} "
            f"seq={v('tcp.seq')} nxtseq={v('tcp.nxtseq')} ack={v('tcp.ack')} "
            f"len={v('tcp.len')} win={v('tcp.window_size_value')} {v('tcp.flags.str')}{mp}"
            f" | tcp.analysis: {' '.join(flags) or '-'} | connmon: {' '.join(cm) or '-'}")


def print_details(res, n, context, verbose, out=sys.stdout):
    rows = res["_rows"]
    index = {int(r["frame.number"]): i for i, r in enumerate(rows)}
    print(f"\n{res['file']}:", file=out)
    for name, c in res["compare"].items():
        for side in ("only_connmon", "only_wireshark"):
            frames = c[side]
            if not frames:
                continue
            expl = ", ".join(f"{k} {v}" for k, v in sorted(c["explained"].items()))
            print(f"  {name} {side.replace('_', ' ')}: {len(frames)} frames"
                  + (f" (all differences of {name}: {expl}; unexplained "
                     f"{len(c['unexplained'])})" if expl else ""), file=out)
            if verbose:
                print("    frames: " + " ".join(map(str, frames)), file=out)
            # examples: unexplained ones first
            unexp = set(c["unexplained"])
            picks = [f for f in frames if f in unexp][:n]
            picks += [f for f in frames if f not in unexp][:max(0, n - len(picks))]
            for fr in picks:
                i = index[fr]
                stream = rows[i]["tcp.stream"]
                ctx, j = [], i - 1
                while j >= 0 and len(ctx) < context:
                    if rows[j]["tcp.stream"] == stream:
                        ctx.append(rows[j])
                    j -= 1
                print("    example" + ("" if fr in unexp else " (explained)") + ":", file=out)
                for r in reversed(ctx):
                    print("        " + frame_line(r), file=out)
                print("      > " + frame_line(rows[i]), file=out)


def display_name(path: Path, arg: Path) -> str:
    if arg.is_file():
        return path.name
    try:
        return str(path.relative_to(arg))
    except ValueError:
        return path.name


def main():
    ap = argparse.ArgumentParser(
        description="Compare connmon's expert infos with Wireshark's TCP analysis.")
    ap.add_argument("paths", nargs="+", metavar="DIR", help="capture directories or files")
    ap.add_argument("--plugin-dir", default=None,
                    help="plugin root holding 4.0/epan/connmon.so, or a build dir "
                         "(default $CONNMON_BUILD_DIR or build/)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="list the differing frame numbers (and 3 examples each)")
    ap.add_argument("--examples", type=int, default=None, metavar="N",
                    help="print N example frames per difference with tcp.* and "
                         "connmon.* values (default 0, 3 with -v)")
    ap.add_argument("--context", type=int, default=2, metavar="K",
                    help="with examples: also print K earlier frames of the same stream")
    ap.add_argument("--json", action="store_true", help="JSON output instead of the table")
    ap.add_argument("--allow-explained", action="store_true",
                    help="exit 0 when every difference has a known Wireshark cause")
    ap.add_argument("--cross-check", action="store_true",
                    help="verify the one-pass expert sets with one -Y pass per expert")
    args = ap.parse_args()
    if args.examples is None:
        args.examples = 3 if args.verbose else 0

    try:
        root = connmon_tshark.find_plugin_root(args.plugin_dir)
    except FileNotFoundError as e:
        print(e, file=sys.stderr)
        return 2
    results = []
    with connmon_tshark.staged(root, prefix="connmon-corpus-") as ts:
        ts.require_plugin()
        for arg in args.paths:
            for f in candidate_files([arg]):
                print(f"checking {f} ...", file=sys.stderr, flush=True)
                res = analyse(ts, f, args.cross_check)
                res["name"] = display_name(f, Path(arg))
                results.append(res)
                if (not args.json and res["status"] == "ok" and not res["agree"]
                        and (args.verbose or args.examples)):
                    print_details(res, args.examples, args.context, args.verbose)
                res.pop("_rows", None)

    ok = [r for r in results if r["status"] == "ok"]
    errors = [r for r in results if r["status"] == "error"]
    key = "agree_but_explained" if args.allow_explained else "agree"
    all_agree = bool(ok) and all(r[key] for r in ok)
    if args.json:
        json.dump({"plugin_dir": str(root), "all_agree": all_agree,
                   "explanations": EXPLANATIONS, "captures": results},
                  sys.stdout, indent=1)
        print()
    else:
        print()
        print_table(results)
        if args.cross_check:
            bad = [r for r in ok if r.get("cross_check") != "ok"]
            print("\ncross-check (-Y passes vs the -T fields pass): "
                  + ("same frames on every capture" if not bad else "MISMATCH"))
            for r in bad:
                print(f"  {r['name']}: {r['cross_check']}")
        print(f"\n{len(ok)} captures checked: {sum(1 for r in ok if r['agree'])} agree, "
              f"{sum(1 for r in ok if not r['agree'] and r['agree_but_explained'])} differ "
              f"with known Wireshark causes only, "
              f"{sum(1 for r in ok if not r['agree_but_explained'])} differ otherwise; "
              f"{len(errors)} errors, "
              f"{sum(1 for r in results if r['status'] == 'skipped')} skipped.")
    if errors:
        return 2
    return 0 if all_agree else 1


if __name__ == "__main__":
    sys.exit(main())
