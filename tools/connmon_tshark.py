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

Typical use:

    with staged(build_dir / "plugins", captures=repo / "pcaps") as ts:
        ts.require_plugin()
        rows = ts.fields("real/foo.pcap", ["connmon.tsrtd"])
"""
import contextlib
import os
import shutil
import subprocess
import tempfile
import time
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

        pcap is a name under the staged captures or an absolute staged path."""
        args = ["-r", self._path(pcap), "-T", "fields",
                "-E", "occurrence=a", "-E", "aggregator=,"]
        for f in fields:
            args += ["-e", f]
        args += list(extra)
        out = self.run(args).stdout
        return [line.split("\t") for line in out.splitlines()]

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

    # -- checks ------------------------------------------------------------
    def plugin_loaded(self) -> bool:
        protos = self.run(["-G", "protocols"]).stdout
        return "\tconnmon\t" in protos

    def require_plugin(self):
        if not self.plugin_loaded():
            raise RuntimeError("tshark did not load the connmon plugin from "
                               + str(self.stage / "plugins"))


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
