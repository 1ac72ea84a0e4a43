"""Execute the notebooks and store them with their outputs: ``python -m notebooks``."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from notebooks import NOTEBOOKS, execute, missing_tools, store


def main(argv: Sequence[str] | None = None) -> int:
    """Run the notebooks (all, or those named); returns 1 if one fails, 2 if tools are missing."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="notebooks to run (default: all), e.g. "
                                                 "03_four_equations.ipynb")
    parser.add_argument("--check", action="store_true",
                        help="execute only; do not write the outputs back")
    args = parser.parse_args(argv)
    missing = missing_tools()
    if missing:
        print(f"running notebooks needs {', '.join(missing)}: pip install -e \".[dev]\"",
              file=sys.stderr)
        return 2
    chosen = list(NOTEBOOKS)
    if args.names:
        by_name = {path.name: path for path in NOTEBOOKS}
        unknown = [name for name in args.names if Path(name).name not in by_name]
        if unknown:
            parser.error(f"no notebook {', '.join(unknown)}; there are "
                         f"{', '.join(by_name)}")
        chosen = [by_name[Path(name).name] for name in args.names]
    from nbclient.exceptions import CellExecutionError

    failed = 0
    for path in chosen:
        start = time.perf_counter()
        try:
            notebook = execute(path)
        except CellExecutionError as error:
            failed += 1
            print(f"{path.name}: FAILED\n{error}", file=sys.stderr)
            continue
        seconds = time.perf_counter() - start
        if args.check:
            print(f"{path.name}: ran in {seconds:.1f} s")
        else:
            store(notebook, path)
            print(f"{path.name}: ran in {seconds:.1f} s, stored with its outputs")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
