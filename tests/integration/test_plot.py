"""tools/plot/connmon-plot: PNG and SVG plots of round-trip delay over time.

Renders bundled captures through the connmon command line (and once through
tshark with the plugin) and checks the files: PNG signature and size, that
something was drawn, that the SVG is XML with the title and the flow labels
in the legend, the flow selection, determinism and the error paths.
"""
import json
import re
import struct
import subprocess
import sys
import types
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

from conftest import PCAPS, ROOT, build_dir

SCRIPT = ROOT / "tools" / "plot" / "connmon-plot"
SVG = "{http://www.w3.org/2000/svg}"
FLOW_RE = re.compile(r"^\S+:\d+\+\S+:\d+$")
WIDTH, HEIGHT = 1280, 720          # the script's default size

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.image as mpimg
except ImportError:                # pragma: no cover
    mpimg = None


@pytest.fixture(autouse=True)
def _needs_matplotlib():
    if mpimg is None:
        pytest.fail("matplotlib missing: apt-get install python3-matplotlib "
                    f"(scripts/install-deps.sh), and run pytest with /usr/bin/python3 "
                    f"(this is {sys.executable})")


def connmon_cli():
    p = build_dir() / "bin" / "connmon"
    if not p.exists():
        pytest.fail(f"{p} not built: cmake -S . -B build && cmake --build build")
    return str(p)


def plot(*args, check=True):
    proc = subprocess.run([sys.executable, str(SCRIPT), "--connmon", connmon_cli()]
                          + [str(a) for a in args],
                          capture_output=True, text=True, timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def png_size(path):
    raw = path.read_bytes()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    length, kind = struct.unpack(">I4s", raw[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", raw[16:24])
    return width, height


def ink(path):
    """Share of pixels that are not white, and the image."""
    img = mpimg.imread(str(path))[:, :, :3]
    non_white = (img < 0.97).any(axis=2)
    return float(non_white.mean()), img


def colour_pixels(img, hexcolour, tol=0.06):
    rgb = [int(hexcolour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    return int((abs(img - rgb) < tol).all(axis=2).sum())


def svg_group_texts(path, gid):
    """Text lines inside <g id=gid> (the SVG keeps text as <text>)."""
    root = ET.parse(path).getroot()
    for g in root.iter(SVG + "g"):
        if g.get("id") == gid:
            return ["".join(t.itertext()) for t in g.iter(SVG + "text")]
    raise AssertionError(f"no <g id={gid!r}> in {path}")


def svg_texts(path):
    root = ET.parse(path).getroot()
    return ["".join(t.itertext()) for t in root.iter(SVG + "text")]


def legend_flows(svg):
    return [t for t in svg_group_texts(svg, "connmon-flows") if FLOW_RE.match(t)]


def flow_stats(pcap):
    """{flow: number of TS + seq samples} from connmon --json, and the flows
    with samples or loss events (those the plot can show)."""
    out = subprocess.run([connmon_cli(), "--json", "-q", "-r", str(pcap)],
                         capture_output=True, text=True, check=True).stdout
    samples, shown = Counter(), set()
    for line in out.splitlines():
        o = json.loads(line)
        f = o["connmon.flow"]
        n = ("connmon.tsrtd" in o) + ("connmon.seqrtd" in o)
        samples[f] += n
        if n or "connmon.dupack" in o or o.get("connmon.expert.hole") \
                or o.get("connmon.expert.behind"):
            shown.add(f)
    return samples, shown


# ---------------------------------------------------------------------------

def test_bottleneck_png_and_svg(tmp_path):
    proc = plot(PCAPS / "real/bottleneck.pcap", "-o", tmp_path / "bn")
    png, svg = tmp_path / "bn.png", tmp_path / "bn.svg"
    assert proc.stdout.split() == [str(png), str(svg), str(tmp_path / "bn-cdf.png"),
                                   str(tmp_path / "bn-cdf.svg")]

    assert png_size(png) == (WIDTH, HEIGHT)
    share, img = ink(png)
    assert img.shape[:2] == (HEIGHT, WIDTH)
    assert 0.03 < share < 0.6, f"{share:.3f} of the pixels drawn"
    # both flows' samples are there in their colours (first two of the palette)
    assert colour_pixels(img, "#1f77b4") > 2000
    assert colour_pixels(img, "#d62728") > 1000

    texts = svg_texts(svg)
    assert svg_group_texts(svg, "connmon-title") == ["bottleneck.pcap"]
    sub = svg_group_texts(svg, "connmon-subtitle")[0]
    assert "2 flows" in sub and "TS samples" in sub and "seq samples" in sub
    assert sorted(legend_flows(svg)) == ["10.201.0.1:42226+10.201.0.2:5001",
                                         "10.201.0.2:5001+10.201.0.1:42226"]
    assert "time since the first packet (s)" in texts
    # the delay axis: log scale labelled in ms
    assert {"10ms", "100ms"} <= set(texts)
    markers = svg_group_texts(svg, "connmon-markers")
    assert {"TS sample", "seq sample"} <= set(markers)
    assert any("pure ACK" in t for t in markers)
    # end-to-end round trips are drawn and counted
    assert any("pathrtd" in t for t in markers)
    n_path = sum("connmon.pathrtd" in o for o in cli_objects(PCAPS / "real/bottleneck.pcap"))
    assert n_path > 900 and f"{n_path} end-to-end" in sub


def cli_objects(pcap):
    out = subprocess.run([connmon_cli(), "--json", "-q", "-r", str(pcap)],
                         capture_output=True, text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def nearest_rank(values, pct):
    v = sorted(values)
    return v[max(1, (pct * len(v) + 99) // 100) - 1]


def test_distribution_figure(tmp_path):
    """The second figure: per flow, the CDF of its halves and of its
    pathrtd; the legend's percentiles are the SPEC's nearest rank of the
    values connmon --json gives, the colours those of the time plot."""
    pcap = PCAPS / "real/parallel_flows.pcap"
    proc = plot(pcap, "-o", tmp_path / "pf")
    cdf_png, cdf_svg = tmp_path / "pf-cdf.png", tmp_path / "pf-cdf.svg"
    assert proc.stdout.split()[2:] == [str(cdf_png), str(cdf_svg)]
    assert png_size(cdf_png) == (WIDTH, HEIGHT)
    share, img = ink(cdf_png)
    assert 0.02 < share < 0.6
    assert colour_pixels(img, "#1f77b4") > 300 and colour_pixels(img, "#d62728") > 300

    halves, paths = {}, {}
    for o in cli_objects(pcap):
        f = o["connmon.flow"]
        half = o.get("connmon.tsrtd", o.get("connmon.seqrtd"))
        if half is not None:
            halves.setdefault(f, []).append(half)
        if "connmon.pathrtd" in o:
            paths.setdefault(f, []).append(o["connmon.pathrtd"])
    mod = _load_script()

    def line(kind, vals):
        return (f"{kind} p50 {mod.fmt_ms(nearest_rank(vals, 50))} · "
                f"p90 {mod.fmt_ms(nearest_rank(vals, 90))} · "
                f"p99 {mod.fmt_ms(nearest_rank(vals, 99))} · n {len(vals)}")

    texts = svg_group_texts(cdf_svg, "connmon-cdf-flows")
    shown = [t for t in texts if FLOW_RE.match(t)]
    # the same flows, in the same order, as the time plot's legend
    assert shown == legend_flows(tmp_path / "pf.svg")
    for f in shown:
        i = texts.index(f)
        assert texts[i + 1] == line("half", halves[f]), f
        if f in paths:
            assert texts[i + 2] == line("path", paths[f]), f
    others = len(set(halves) | set(paths)) - len(shown)
    assert others > 0 and texts[-1] == f"{others} other flows"
    sub = svg_group_texts(cdf_svg, "connmon-subtitle")[0]
    assert f"{len(shown)} flows in colour, {others} in grey" in sub
    assert svg_group_texts(cdf_svg, "connmon-title") == ["parallel_flows.pcap: delay distributions"]
    assert {"50% (p50)", "90% (p90)", "99% (p99)"} <= set(svg_texts(cdf_svg))

    # --no-cdf, and the distribution figure alone
    proc = plot(pcap, "-o", tmp_path / "only", "--no-cdf")
    assert proc.stdout.split() == [str(tmp_path / "only.png"), str(tmp_path / "only.svg")]
    proc = plot(pcap, "--cdf-png", tmp_path / "alone.png")
    assert proc.stdout.split() == [str(tmp_path / "alone.png")]
    assert (tmp_path / "alone.png").read_bytes() == cdf_png.read_bytes()


def test_size_options(tmp_path):
    plot(PCAPS / "real/bottleneck.pcap", "--png", tmp_path / "a.png",
         "--width", 900, "--height", 500, "--title", "queue at the bottleneck")
    assert png_size(tmp_path / "a.png") == (900, 500)
    assert not (tmp_path / "a.svg").exists()
    plot(PCAPS / "real/bottleneck.pcap", "--svg", tmp_path / "b.svg",
         "--title", "queue at the bottleneck")
    assert svg_group_texts(tmp_path / "b.svg", "connmon-title") == ["queue at the bottleneck"]
    assert not (tmp_path / "b.png").exists()


def test_deterministic(tmp_path):
    for d in ("one", "two"):
        plot(PCAPS / "real/parallel_flows.pcap", "-o", tmp_path / d / "pf")
    for name in ("pf.png", "pf.svg", "pf-cdf.png", "pf-cdf.svg"):
        assert (tmp_path / "one" / name).read_bytes() == \
            (tmp_path / "two" / name).read_bytes(), name


def test_busiest_flows(tmp_path):
    pcap = PCAPS / "real/parallel_flows.pcap"
    samples, candidates = flow_stats(pcap)
    assert len(candidates) > 8, "the capture should have more flows than the default"
    plot(pcap, "-o", tmp_path / "pf")
    svg = tmp_path / "pf.svg"
    shown = legend_flows(svg)
    assert len(shown) == 8
    left_out = candidates - set(shown)
    assert len(left_out) == len(candidates) - 8
    # the busiest ones are shown
    assert min(samples[f] for f in shown) >= max(samples[f] for f in left_out)
    more = f"+{len(left_out)} more flows not shown"
    assert any(t.startswith(more) for t in svg_group_texts(svg, "connmon-flows"))
    assert f"{len(left_out)} more not shown" in svg_group_texts(svg, "connmon-subtitle")[0]

    plot(pcap, "-o", tmp_path / "all", "--max-flows", 0)
    assert set(legend_flows(tmp_path / "all.svg")) == candidates
    assert not any("not shown" in t for t in svg_texts(tmp_path / "all.svg"))


def test_flow_filter(tmp_path):
    pcap = PCAPS / "real/parallel_flows.pcap"
    plot(pcap, "-o", tmp_path / "one", "--flow", ":51510")
    assert sorted(legend_flows(tmp_path / "one.svg")) == [
        "10.201.0.1:51510+10.201.0.2:5001", "10.201.0.2:5001+10.201.0.1:51510"]
    assert svg_group_texts(tmp_path / "one.svg", "connmon-subtitle")[0].startswith("2 flows ·")

    plot(pcap, "-o", tmp_path / "two", "--flow", ":51510", "--flow", "10.201.0.1:51486+")
    assert sorted(legend_flows(tmp_path / "two.svg")) == [
        "10.201.0.1:51486+10.201.0.2:5001", "10.201.0.1:51510+10.201.0.2:5001",
        "10.201.0.2:5001+10.201.0.1:51510"]

    proc = plot(pcap, "-o", tmp_path / "none", "--flow", "192.0.2.99", check=False)
    assert proc.returncode == 4
    assert "no flow matches --flow 192.0.2.99" in proc.stderr
    assert not (tmp_path / "none.png").exists()


def test_rtd_axis_limits(tmp_path):
    plot(PCAPS / "real/bottleneck.pcap", "-o", tmp_path / "wide",
         "--min-rtd", "100us", "--max-rtd", "10s")
    texts = set(svg_texts(tmp_path / "wide.svg"))
    assert {"100µs", "1ms", "10ms", "100ms", "1s", "10s"} <= texts
    plot(PCAPS / "real/bottleneck.pcap", "-o", tmp_path / "narrow",
         "--min-rtd", "5ms", "--max-rtd", "0.5")
    texts = set(svg_texts(tmp_path / "narrow.svg"))
    assert {"10ms", "100ms", "20ms", "50ms", "200ms"} <= texts
    assert "1s" not in texts and "1ms" not in texts
    proc = plot(PCAPS / "real/bottleneck.pcap", "-o", tmp_path / "bad",
                "--min-rtd", "1s", "--max-rtd", "10ms", check=False)
    assert proc.returncode == 2 and "must be below" in proc.stderr


def test_seq_samples_only(tmp_path):
    """nots.pcap has no TCP timestamps: seq samples only, still a plot."""
    plot(PCAPS / "real/nots.pcap", "-o", tmp_path / "nots")
    assert png_size(tmp_path / "nots.png") == (WIDTH, HEIGHT)
    share, img = ink(tmp_path / "nots.png")
    assert share > 0.03
    assert colour_pixels(img, "#1f77b4") > 200       # the busiest flow's seq samples
    sub = svg_group_texts(tmp_path / "nots.svg", "connmon-subtitle")[0]
    assert "no TS samples" in sub and "427 seq samples" in sub


def test_json_input_matches_cli(tmp_path):
    pcap = PCAPS / "real/bottleneck.pcap"
    jl = tmp_path / "bn.jsonl"
    jl.write_text(subprocess.run([connmon_cli(), "--json", "-q", "-r", str(pcap)],
                                 capture_output=True, text=True, check=True).stdout)
    plot(pcap, "-o", tmp_path / "cli", "--title", "t")
    plot("--json-input", jl, "-o", tmp_path / "json", "--title", "t")
    assert (tmp_path / "cli.png").read_bytes() == (tmp_path / "json.png").read_bytes()
    # and from stdin
    proc = subprocess.run([sys.executable, str(SCRIPT), "--json-input", "-", "--title", "t",
                           "--png", str(tmp_path / "stdin.png")],
                          input=jl.read_text(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "stdin.png").read_bytes() == (tmp_path / "cli.png").read_bytes()


def test_no_samples(tmp_path):
    """Packets but not a single round-trip sample: a message, exit 4, no files."""
    jl = tmp_path / "nosamples.jsonl"
    jl.write_text("\n".join(json.dumps(o) for o in [
        {"frame": 1, "time": 1700000000.0, "connmon.payload": 0, "connmon.flowbytes": 0,
         "connmon.flow": "192.0.2.1:40000+192.0.2.2:80"},
        {"frame": 2, "time": 1700000000.5, "connmon.seqgap": 0, "connmon.payload": 100,
         "connmon.flowbytes": 100, "connmon.flow": "192.0.2.1:40000+192.0.2.2:80"},
    ]) + "\n")
    proc = plot("--json-input", jl, "-o", tmp_path / "out", check=False)
    assert proc.returncode == 4
    assert "no round-trip samples in nosamples.jsonl" in proc.stderr
    assert "2 TCP packets, 1 flow" in proc.stderr
    assert not list(tmp_path.glob("out.*"))

    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    proc = plot("--json-input", empty, "-o", tmp_path / "out", check=False)
    assert proc.returncode == 4 and "no TCP packets" in proc.stderr


def test_bad_inputs(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"frame": 1, "time": 1.0, "connmon.flow": "a:1+b:2"}\nnot json\n')
    proc = plot("--json-input", bad, "-o", tmp_path / "o", check=False)
    assert proc.returncode == 1 and "bad.jsonl:2: not JSON" in proc.stderr

    proc = plot(tmp_path / "missing.pcap", "-o", tmp_path / "o", check=False)
    assert proc.returncode == 1 and "no such file" in proc.stderr

    proc = plot(ROOT / "README.md", "-o", tmp_path / "o", check=False)
    assert proc.returncode == 1 and "connmon failed" in proc.stderr

    proc = subprocess.run([sys.executable, str(SCRIPT), "--connmon", str(tmp_path / "nope"),
                           str(PCAPS / "real/bottleneck.pcap"), "-o", str(tmp_path / "o")],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "connmon command line not found" in proc.stderr

    proc = plot(check=False)
    assert proc.returncode == 2 and "CAPTURE" in proc.stderr
    assert not list(tmp_path.glob("o.*"))


def test_tshark_mode_matches_cli(tmp_path, tshark):
    """--tshark (plugin staged through tools/connmon_tshark.py, as the
    `tshark` fixture does) draws the same samples as the command line."""
    del tshark                      # only there to fail early when the plugin does not load
    pcap = PCAPS / "real/parallel_flows.pcap"
    plot(pcap, "--svg", tmp_path / "cli.svg")
    plot(pcap, "--svg", tmp_path / "ts.svg", "--tshark", "--plugin-dir", build_dir() / "plugins")
    assert svg_texts(tmp_path / "ts.svg") == svg_texts(tmp_path / "cli.svg")
    assert len(legend_flows(tmp_path / "ts.svg")) == 8


def _load_script():
    """The script as a module (no .py name, and no bytecode cache left behind)."""
    mod = types.ModuleType("connmon_plot")
    mod.__file__ = str(SCRIPT)
    exec(compile(SCRIPT.read_text(encoding="utf-8"), str(SCRIPT), "exec"), mod.__dict__)
    return mod


def test_units():
    mod = _load_script()
    assert [mod.fmt_duration(v) for v in (1e-4, 1e-3, 0.01, 0.02, 0.1, 1, 10)] == \
        ["100µs", "1ms", "10ms", "20ms", "100ms", "1s", "10s"]
    assert mod.fmt_duration(0.0005) == "500µs"
    for text, v in [("0.1", 0.1), ("100ms", 0.1), ("250us", 250e-6), ("250µs", 250e-6),
                    ("2s", 2.0), ("1e-3", 1e-3)]:
        assert mod.parse_duration(text) == pytest.approx(v)
