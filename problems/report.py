"""Tables and plots of an experiment grid from its records, finished or not.

    python -m problems.report results/citation            # what the program printed
    python -m problems.report docs/records/hopfield-capacity --no-plots
    python -m problems.report --update README.md          # refresh every marked table

Reads OUT/grid.json (written by every program before its grid runs) and the
records OUT/runs/<hash>.json, and prints the program's tables (means and
standard deviations over seeds), writing OUT/results.json and the plots. Runs
without a record yet are counted and left out.

``--update FILE`` replaces the text between each pair of lines

    <!-- report: docs/records/NAME -->
    <!-- /report -->

in FILE by what ``python -m problems.report docs/records/NAME --no-plots``
prints (its tables), so that a document's tables are regenerated from the
committed records, never retyped.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import pathlib
import re
import sys
import tempfile

from . import common, runner

MARKER = re.compile(r"(<!-- report: (\S+) -->\n)(.*?)(<!-- /report -->)", re.S)


def report(out, plots=True, write_to=None):
    """Print the tables of the grid in ``out`` (results.json and plots written
    to ``write_to``, default ``out``); return the number of records."""
    grid, records = runner.read_grid(out)
    total = len(grid["runs"])
    print(f"{grid['experiment']} grid in {out}: {len(records)} of {total} runs recorded")
    if records and len(records) < total:
        print(f"note: {total - len(records)} runs have no record yet; the table shows the others")
    if records:
        print(provenance(records))
    if records:
        module = importlib.import_module(f"problems.{grid['experiment']}")
        reports = getattr(module, "REPORTS", {None: module.report})
        reports[grid.get("study")](records, write_to or out, plots)
    return len(records)


def provenance(records):
    """One line: the dates the runs started and the machines they ran on."""
    days = sorted({r["started"][:10] for r in records})
    machines = sorted({r["machine"] for r in records})
    span = days[0] if len(days) == 1 else f"{days[0]} to {days[-1]}"
    return f"runs started {span}, on {'; '.join(machines)}"


def tables_of(out):
    """What :func:`report` prints for ``out``, less the lines naming files written."""
    if not (pathlib.Path(out) / "grid.json").exists():
        return f"(no grid in {out} yet: run the command above)\n"
    buffer = io.StringIO()
    with tempfile.TemporaryDirectory() as scratch, contextlib.redirect_stdout(buffer):
        report(pathlib.Path(out), plots=False, write_to=scratch)  # the folder stays as it is
    lines = [line for line in buffer.getvalue().splitlines() if not line.startswith("wrote ")]
    return "\n".join(lines).strip() + "\n"


def update(path):
    """Refresh every marked block of the file at ``path``; return how many."""
    text = path.read_text()
    count = len(MARKER.findall(text))
    new = MARKER.sub(lambda m: m.group(1) + "\n" + tables_of(m.group(2)) + "\n" + m.group(4), text)
    path.write_text(new)
    return count


def main(argv=None):
    parser = common.Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=pathlib.Path, nargs="?", help="a program's --out folder")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    parser.add_argument("--update", type=pathlib.Path, help="refresh the marked tables of FILE")
    args = parser.parse_args(argv)
    if (args.out is None) == (args.update is None):
        parser.error("give a grid folder or --update FILE (one of them)")
    try:
        if args.update is not None:
            print(f"refreshed {update(args.update)} tables in {args.update}")
            return 0
        found = report(args.out, not args.no_plots)
    except (OSError, ValueError, KeyError) as err:
        parser.error(f"no readable grid ({err})")
    if not found:
        print("nothing to report yet", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
