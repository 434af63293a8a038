"""How fast does ``zbooks --help`` answer? (issue 5: under 300 ms, thanks to lazy imports)

Measures, side by side in one run:
- ``python -c pass``: the interpreter's own start-up, the floor;
- ``python -m zbooks --help`` and ``python -m zbooks invoices --help`` (the latter builds
  one resource group from the registry);
- ``python -X importtime -c "import zbooks.cli.main"``: the import cost, with the five
  most expensive modules.

Run: ``.venv/bin/python benchmarks/cli_startup.py [--runs 15]``; results go to
docs/benchmarks.md (section ``cli_startup``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import write_section

ROOT = Path(__file__).resolve().parents[1]
BUDGET_MS = 300.0


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZBOOKS_")}
    env["ZBOOKS_CONFIG_DIR"] = tempfile.mkdtemp(prefix="zbooks-bench-")
    return env


def timed(argv: list[str], runs: int) -> list[float]:
    env = _env()
    subprocess.run(argv, capture_output=True, env=env, cwd=ROOT, check=True)  # warm caches
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, capture_output=True, env=env, cwd=ROOT, check=True)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def import_profile() -> tuple[float, list[tuple[str, float]]]:
    """Total cumulative import time of zbooks.cli.main, and the top self-times (ms)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import zbooks.cli.main"],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=ROOT,
        check=True,
    )
    rows: list[tuple[str, float, float]] = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = line.split(":", 1)[1].split("|")
        try:
            self_us, cumulative_us = int(parts[0]), int(parts[1])
        except ValueError:
            continue
        rows.append((parts[2].strip(), self_us / 1000, cumulative_us / 1000))
    total = next((cum for name, _, cum in rows if name == "zbooks.cli.main"), 0.0)
    top = sorted(((name, own) for name, own, _ in rows), key=lambda r: -r[1])[:5]
    return total, top


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    py = sys.executable
    cases = [
        ("python -c pass (floor)", [py, "-c", "pass"]),
        ("zbooks --help", [py, "-m", "zbooks", "--help"]),
        ("zbooks invoices --help", [py, "-m", "zbooks", "invoices", "--help"]),
    ]
    lines = [
        "## CLI start-up (`benchmarks/cli_startup.py`)",
        "",
        f"Median and worst of {args.runs} runs, wall time of a fresh process. "
        f"Budget for `zbooks --help`: {BUDGET_MS:.0f} ms.",
        "",
        "| command | median ms | max ms |",
        "|---|---:|---:|",
    ]
    medians = {}
    for label, argv in cases:
        samples = timed(argv, args.runs)
        medians[label] = statistics.median(samples)
        lines.append(f"| `{label}` | {medians[label]:.0f} | {max(samples):.0f} |")
    total, top = import_profile()
    help_ms = medians["zbooks --help"]
    verdict = "within" if help_ms < BUDGET_MS else "OVER"
    lines += [
        "",
        f"`zbooks --help`: {help_ms:.0f} ms, {verdict} the {BUDGET_MS:.0f} ms budget "
        f"({help_ms - medians['python -c pass (floor)']:.0f} ms above the bare interpreter).",
        "",
        f"`python -X importtime -c 'import zbooks.cli.main'`: {total:.1f} ms cumulative. "
        "Largest self times:",
        "",
        "| module | self ms |",
        "|---|---:|",
        *[f"| `{name}` | {own:.1f} |" for name, own in top],
        "",
        "Commands, rich, httpx2 and the resource catalogue are imported only by the command "
        "that needs them; `tests/cli/test_main.py` fails if `--help` imports any of them.",
    ]
    body = "\n".join(lines)
    print(body)
    write_section("cli_startup", body)


if __name__ == "__main__":
    main()
