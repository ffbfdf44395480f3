"""`make bench`: run every benchmark in bench/ (or the ones named) and print their figures.

    python -m bench                 # all
    python -m bench audit ledger    # bench/audit.py and bench/ledger.py only

Each benchmark runs in its own process (`python -m bench.<name>`), starts what it needs (a
throw-away PostgreSQL with durable commits, see bench/_django.py), measures, prints a table and
cleans up. Figures are printed, never asserted.
"""

import pkgutil
import subprocess
import sys
from pathlib import Path


def main() -> None:
    available = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if not m.name.startswith("_"))
    chosen = sys.argv[1:] or available
    unknown = set(chosen) - set(available)
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(sorted(unknown))}; available: {', '.join(available)}")
    failed = []
    for name in chosen:
        print(f"\n=== bench/{name}.py ===", flush=True)
        if subprocess.run([sys.executable, "-m", f"bench.{name}"], check=False).returncode != 0:
            failed.append(name)
    if failed:
        sys.exit(f"benchmark(s) failed to run: {', '.join(failed)}")


if __name__ == "__main__":
    main()
