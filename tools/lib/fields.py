"""connmon's fields and expert infos, read from engine/fields.def (the one
table the plugin's hf[]/ei[] and the command line's JSON keys are made of).

    FIELDS    every connmon field name, table order ("connmon.tsrtd", ...)
    EXPERTS   every expert info name ("connmon.expert.hole", ...)
    ALL       FIELDS + EXPERTS: every name the front ends print
    KINDS     {field name: kind} (TIME, FRAME_ACK, BOOL, UINT32, STRING, ...)
    FIELD_ROWS, EXPERT_ROWS   the rows themselves (named tuples)

    pick("flow", "tsrtd")     full names of the given ones, in the order
                              given; KeyError for a name not in the table
    of_kind("TIME")           FIELDS of those kinds, table order

`python3 tools/lib/fields.py` prints ALL, one name a line.
"""
import re
from collections import namedtuple
from pathlib import Path

TABLE = Path(__file__).resolve().parents[2] / "engine" / "fields.def"

Field = namedtuple("Field", "id abbrev kind name blurb")
Expert = namedtuple("Expert", "id abbrev group severity summary")

_ROW = re.compile(r"^(CM_FIELD|CM_EXPERT)\((.*)\)\s*$")
_TOKEN = re.compile(r'\s*("(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*)\s*(?:,|$)')


def _value(token):
    """A C string literal's text, NULL as None, an identifier as itself."""
    if token == "NULL":
        return None
    if token.startswith('"'):
        return re.sub(r"\\(.)", r"\1", token[1:-1])
    return token


def parse(path=TABLE):
    """(field rows, expert rows) of a fields.def file; one row per line."""
    fields, experts = [], []
    for num, line in enumerate(Path(path).read_text().splitlines(), 1):
        m = _ROW.match(line)
        if not m:
            continue
        args, pos = [], 0
        while pos < len(m.group(2)):
            t = _TOKEN.match(m.group(2), pos)
            if not t:
                raise ValueError(f"{path}:{num}: cannot read {line!r}")
            args.append(_value(t.group(1)))
            pos = t.end()
        row = Field if m.group(1) == "CM_FIELD" else Expert
        if len(args) != len(row._fields):
            raise ValueError(f"{path}:{num}: {len(args)} columns, {row.__name__} has "
                             f"{len(row._fields)}")
        (fields if row is Field else experts).append(row(*args))
    if not fields:
        raise ValueError(f"{path}: no CM_FIELD rows")
    return fields, experts


FIELD_ROWS, EXPERT_ROWS = parse()
FIELDS = [f.abbrev for f in FIELD_ROWS]
EXPERTS = [e.abbrev for e in EXPERT_ROWS]
ALL = FIELDS + EXPERTS
KINDS = {f.abbrev: f.kind for f in FIELD_ROWS}


def pick(*names):
    """Full names of the given fields or experts ("tsrtd" or
    "connmon.tsrtd"), in the order given."""
    out = []
    for n in names:
        full = n if n.startswith("connmon.") else "connmon." + n
        if full not in ALL:
            raise KeyError(f"{full} is not in {TABLE.name}")
        out.append(full)
    return out


def of_kind(*kinds):
    """FIELDS whose kind is one of kinds, in table order."""
    return [f.abbrev for f in FIELD_ROWS if f.kind in kinds]


if __name__ == "__main__":
    print("\n".join(ALL))
