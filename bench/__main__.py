"""`make bench`: run every benchmark in bench/ (or the ones named) and print their figures.

    python -m bench                 # all
    python -m bench audit ledger    # bench/audit.py and bench/ledger.py only

Each benchmark module has a `main()` that starts what it needs (a throw-away durable PostgreSQL),
measures, prints a table and cleans up. Figures are printed, never asserted.
"""

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> None:
    available = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if not m.name.startswith("_"))
    chosen = sys.argv[1:] or available
    unknown = set(chosen) - set(available)
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(sorted(unknown))}; available: {', '.join(available)}")
    if not chosen:
        print("no benchmarks in bench/ yet")
    for name in chosen:
        print(f"\n=== bench/{name}.py ===", flush=True)
        importlib.import_module(f"bench.{name}").main()


if __name__ == "__main__":
    main()
