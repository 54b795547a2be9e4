"""Run tshark with a freshly built connmon plugin (python3 stdlib only).

Shared by the integration tests (tests/integration/conftest.py), the
benchmark (tools/bench/bench.py) and the corpus check
(tools/corpus/corpus_check.py).

tshark ignores personal plugins and WIRESHARK_PLUGIN_DIR when it runs as
root.  So, when we are root, every tshark runs as `nobody` through
`setpriv`, and whatever tshark reads (the plugin directory and the
captures) is first copied ("staged") into a fresh world-readable temp
directory: a checkout under /root is not traversable by nobody.  As an
ordinary user no setpriv is needed, but staging is done the same way so
that tshark only ever sees the plugin we mean to test.

tshark finds plugins in WIRESHARK_PLUGIN_DIR instead of its system plugin
directory (and in the personal one under HOME, here an empty stage
directory), so a connmon.so installed system-wide never shadows the staged
one; require_plugin() checks that the loaded copy is the staged one.

Wireshark versions print some values differently; the helpers here read
them version-independently:
  * FT_BOOLEAN in -T fields: 1/0 on 4.0, True/False on 4.4+.  fields(),
    table() and matching_frames() give 1/0 on every version.
  * relative times in -V (and the GUI): "0.010047093 seconds" on 4.0 and
    4.4, auto-scaled ("10.047093 milliseconds") on 4.6.
    relative_time_seconds() reads either as a Decimal number of seconds.

Typical use:

    with staged(build_dir / "plugins", captures=repo / "pcaps") as ts:
        ts.require_plugin()
        rows = ts.fields("real/foo.pcap", ["connmon.tsrtd"])
"""
import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOBODY = 65534


def default_build_dir() -> Path:
    """$CONNMON_BUILD_DIR, or build/ in the checkout."""
    return Path(os.environ.get("CONNMON_BUILD_DIR", ROOT / "build")).resolve()


def find_plugin_root(path=None) -> Path:
    """The plugin root holding <version>/epan/connmon.so.

    path may be that root (build/plugins), the build dir above it, or None
    for default_build_dir().  Raises FileNotFoundError when no connmon.so
    is found."""
    path = Path(path).resolve() if path is not None else default_build_dir()
    for cand in (path, path / "plugins"):
        if list(cand.glob("*/epan/connmon.so")):
            return cand
    raise FileNotFoundError(
        f"connmon.so not built under {path}: build first "
        "(cmake -S . -B build && cmake --build build)")


def parse_version(text: str) -> tuple:
    """(major, minor, micro) from `tshark --version` output."""
    m = re.search(r"\(Wireshark\) (\d+)\.(\d+)\.(\d+)", text)
    if not m:
        raise ValueError("no Wireshark version in: " + (text.splitlines() or [""])[0])
    return tuple(int(g) for g in m.groups())


# FT_BOOLEAN as -T fields prints it on 4.4+ -> as 4.0 prints it.
_BOOL_TEXT = {"True": "1", "False": "0"}


def normalise_bool(value: str) -> str:
    """An FT_BOOLEAN value of -T fields as 4.0 prints it (1/0); several
    occurrences joined by "," are each normalised."""
    if "," in value:
        return ",".join(_BOOL_TEXT.get(v, v) for v in value.split(","))
    return _BOOL_TEXT.get(value, value)


_TIME_UNITS = {"second": 0, "seconds": 0, "millisecond": 3, "milliseconds": 3,
               "microsecond": 6, "microseconds": 6, "nanosecond": 9, "nanoseconds": 9}
_REL_TIME = re.compile(r"^\s*(-?\d+(?:\.\d+)?) (\w+)\s*$")


def relative_time_seconds(text: str) -> Decimal:
    """An FT_RELATIVE_TIME value as -V / the GUI print it, in seconds:
    "0.010047093 seconds" (4.0, 4.4) and "10.047093 milliseconds",
    "747.123 microseconds", "42 nanoseconds" (4.6) alike.  Exact (Decimal).
    ValueError for any other text."""
    m = _REL_TIME.match(text)
    if not m or m.group(2) not in _TIME_UNITS:
        raise ValueError(f"not a relative time: {text!r}")
    return Decimal(m.group(1)).scaleb(-_TIME_UNITS[m.group(2)])


def seconds_text(value: Decimal) -> str:
    """Seconds as -T fields prints FT_RELATIVE_TIME (9 decimals)."""
    return f"{value:.9f}"


def _make_readable(top: Path):
    """Directories 0755, files 0644 (0755 if executable), below top."""
    for dirpath, _dirnames, filenames in os.walk(top):
        os.chmod(dirpath, 0o755)
        for f in filenames:
            p = os.path.join(dirpath, f)
            if os.path.islink(p):
                continue
            os.chmod(p, 0o755 if os.access(p, os.X_OK) else 0o644)


class Tshark:
    """Runs tshark with the staged plugin on staged captures."""

    def __init__(self, stage: Path):
        self.stage = Path(stage)
        self.home = self.stage / "home"
        self._version = None
        self._field_types = None
        self.prefix = []
        if os.geteuid() == 0:
            self.prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}",
                           "--clear-groups"]
        self.env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.home),
            "WIRESHARK_PLUGIN_DIR": str(self.stage / "plugins"),
            "LC_ALL": "C.UTF-8",
            "TZ": "UTC",
        }

    # -- files -------------------------------------------------------------
    def pcap(self, name: str) -> str:
        """Path of a staged capture; name is relative to the staged
        captures directory (pcaps/ for the tests)."""
        p = self.stage / "pcaps" / name
        if not p.exists():
            raise FileNotFoundError(f"capture not in pcaps/: {name}")
        return str(p)

    def stage_file(self, src: Path) -> str:
        """Stages an extra file (e.g. a capture a test made) for nobody and
        returns its staged path."""
        src = Path(src)
        dst = self.stage / "extra" / src.name
        dst.parent.mkdir(exist_ok=True)
        shutil.copy(src, dst)
        os.chmod(dst.parent, 0o755)
        os.chmod(dst, 0o644)
        return str(dst)

    def _path(self, pcap) -> str:
        pcap = str(pcap)
        return pcap if os.path.isabs(pcap) else self.pcap(pcap)

    # -- running -----------------------------------------------------------
    def command(self, args) -> list:
        """The full argv (with the setpriv prefix when root)."""
        return self.prefix + ["tshark"] + [str(a) for a in args]

    def run(self, args, check=True, timeout=600) -> subprocess.CompletedProcess:
        cmd = self.command(args)
        proc = subprocess.run(cmd, env=self.env, capture_output=True, text=True,
                              timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(
                f"tshark failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
        return proc

    def run_measured(self, args, stdout=subprocess.DEVNULL, check=True):
        """Runs tshark once and returns (user_s, sys_s, wall_s, returncode).

        CPU times are those of the child as reported by wait4() (setpriv
        exec()s tshark, so they are tshark's own).  stdout defaults to
        /dev/null; stderr is kept and shown on failure."""
        cmd = self.command(args)
        with tempfile.TemporaryFile() as err:
            t0 = time.perf_counter()
            proc = subprocess.Popen(cmd, env=self.env, stdout=stdout, stderr=err,
                                    stdin=subprocess.DEVNULL)
            _pid, status, ru = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t0
            proc.returncode = os.waitstatus_to_exitcode(status)
            if check and proc.returncode != 0:
                err.seek(0)
                raise AssertionError(
                    f"tshark failed ({proc.returncode}): {' '.join(cmd)}\n"
                    + err.read().decode(errors="replace"))
        return ru.ru_utime, ru.ru_stime, wall, proc.returncode

    def fields(self, pcap, fields, extra=()):
        """Rows of -T fields output: one list of strings per frame.

        pcap is a name under the staged captures or an absolute staged path.
        FT_BOOLEAN values read 1/0 on every Wireshark version."""
        args = ["-r", self._path(pcap), "-T", "fields",
                "-E", "occurrence=a", "-E", "aggregator=,"]
        for f in fields:
            args += ["-e", f]
        args += list(extra)
        out = self.run(args).stdout
        return self.normalise_rows(fields, [line.split("\t") for line in out.splitlines()])

    def normalise_rows(self, fields, rows):
        """Rows of raw -T fields text (columns in the order of fields) with
        FT_BOOLEAN columns read as 1/0 on every version."""
        types = self.field_types()
        cols = [i for i, f in enumerate(fields) if types.get(f) == "FT_BOOLEAN"]
        if cols:
            for row in rows:
                for i in cols:
                    if i < len(row):
                        row[i] = normalise_bool(row[i])
        return rows

    def matching_frames(self, pcap, dfilter, extra=()):
        """Frame numbers (in order) of the frames a display filter selects."""
        rows = self.fields(pcap, ["frame.number"], list(extra) + ["-Y", dfilter])
        return [int(r[0]) for r in rows]

    def table(self, pcap, fields, extra=()):
        """Like fields(), keyed by frame.number: {frame: {field: value}}.
        Empty values are left out."""
        rows = self.fields(pcap, ["frame.number"] + list(fields), extra)
        result = {}
        for row in rows:
            frame = int(row[0])
            result[frame] = {f: v for f, v in zip(fields, row[1:]) if v != ""}
        return result

    # -- what this tshark is ------------------------------------------------
    def version(self) -> tuple:
        """(major, minor, micro) of the tshark run."""
        if self._version is None:
            self._version = parse_version(self.run(["--version"]).stdout)
        return self._version

    def at_least(self, major, minor) -> bool:
        return self.version()[:2] >= (major, minor)

    def field_types(self) -> dict:
        """{field abbrev: FT_ type name} of every registered field (connmon's
        included), from -G fields."""
        if self._field_types is None:
            types = {}
            for line in self.run(["-G", "fields"]).stdout.splitlines():
                col = line.split("\t")
                if len(col) >= 4 and col[0] == "F":
                    types[col[2]] = col[3]
            self._field_types = types
        return self._field_types

    def plugins(self) -> list:
        """(name, version, type, path) of every plugin tshark loaded
        (-G plugins), and the stderr of that run."""
        proc = self.run(["-G", "plugins"])
        rows = []
        for line in proc.stdout.splitlines():
            col = [c.strip() for c in line.split("\t")]
            if len(col) >= 4:
                rows.append(tuple(col[:4]))
        return rows, proc.stderr

    def staged_plugin_path(self) -> Path:
        """The staged connmon.so this tshark should load."""
        found = sorted((self.stage / "plugins").glob("*/epan/connmon.so"))
        if len(found) != 1:
            raise RuntimeError(f"expected one staged connmon.so, found {found}")
        return found[0]

    # -- checks ------------------------------------------------------------
    def plugin_loaded(self) -> bool:
        protos = self.run(["-G", "protocols"]).stdout
        return "\tconnmon\t" in protos

    def plugin_problem(self):
        """None when tshark loaded connmon.so from the stage and from
        nowhere else; otherwise what is wrong."""
        rows, stderr = self.plugins()
        if "connmon.so" in stderr:
            return "tshark: " + stderr.strip()
        loaded = [r for r in rows if r[0] == "connmon.so"]
        if not loaded:
            return "tshark did not load connmon.so from " + str(self.stage / "plugins")
        want = str(self.staged_plugin_path())
        if [r[3] for r in loaded] != [want]:
            return (f"tshark loaded connmon.so from {[r[3] for r in loaded]}, "
                    f"not (only) the staged {want}")
        if not self.plugin_loaded():
            return "connmon.so loaded but the connmon protocol is not registered"
        return None

    def require_plugin(self):
        problem = self.plugin_problem()
        if problem:
            raise RuntimeError(problem)


def make_stage(plugin_root, captures=None, prefix="connmon-") -> Tshark:
    """Creates a fresh world-readable stage directory holding a copy of
    plugin_root (as plugins/) and, when given, of the captures directory
    (as pcaps/), plus a HOME for tshark.  The caller removes ts.stage
    (or uses staged())."""
    plugin_root = find_plugin_root(plugin_root)
    stage = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        shutil.copytree(plugin_root, stage / "plugins")
        if captures is not None:
            shutil.copytree(captures, stage / "pcaps")
        else:
            (stage / "pcaps").mkdir()
        (stage / "home").mkdir()
        _make_readable(stage)
        if os.geteuid() == 0:
            os.chown(stage / "home", NOBODY, NOBODY)
        return Tshark(stage)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


@contextlib.contextmanager
def staged(plugin_root=None, captures=None, prefix="connmon-"):
    """Context manager around make_stage(); removes the stage at exit."""
    ts = make_stage(plugin_root, captures, prefix)
    try:
        yield ts
    finally:
        shutil.rmtree(ts.stage, ignore_errors=True)
