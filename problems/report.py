"""Tables and plots of an experiment grid from its records, finished or not.

    python -m problems.report results/citation            # what the program printed
    python -m problems.report docs/records/hopfield-capacity --no-plots

Reads OUT/grid.json (written by every program before its grid runs) and the
records OUT/runs/<hash>.json, and prints the program's table (means and
standard deviations over seeds), writing OUT/results.json and the plots. Runs
without a record yet are counted and left out.
"""

from __future__ import annotations

import importlib
import pathlib
import sys

from . import common, runner


def main(argv=None):
    parser = common.Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=pathlib.Path, help="a program's --out folder")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    args = parser.parse_args(argv)
    try:
        grid, records = runner.read_grid(args.out)
    except (OSError, ValueError, KeyError) as err:
        parser.error(f"{args.out} holds no readable grid.json ({err})")
    total = len(grid["runs"])
    print(f"{grid['experiment']} grid in {args.out}: {len(records)} of {total} runs recorded")
    if not records:
        print("nothing to report yet", file=sys.stderr)
        return 1
    if len(records) < total:
        print(f"note: {total - len(records)} runs have no record yet; the table shows the others")
    module = importlib.import_module(f"problems.{grid['experiment']}")
    reports = getattr(module, "REPORTS", {None: module.report})
    reports[grid.get("study")](records, args.out, not args.no_plots)
    return 0


if __name__ == "__main__":
    sys.exit(main())
