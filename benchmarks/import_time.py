"""How much does ``import zbooks`` cost? (issue 4: under 150 ms, resources load lazily)

Each sample is a fresh interpreter, so nothing is cached in ``sys.modules``:

- ``python -X importtime -c "import zbooks"``: the cumulative import time of the
  ``zbooks`` package as Python itself reports it (the issue's acceptance measure);
- one timed script per sample, stage by stage: ``import zbooks``, then ``zbooks.Client``
  (the client module and httpx2), building a ``Client``, the first ``client.invoices``
  (the resource class only: models and pydantic load with the first model), and the
  first ``Invoice`` parse (imports pydantic and the module's models, then builds the
  validator).

Medians of ``--runs`` samples (default 15). Run:
``.venv/bin/python benchmarks/import_time.py``; results go to docs/benchmarks.md
(section ``import_time``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import write_section

ROOT = Path(__file__).resolve().parents[1]
BUDGET_MS = 150.0

# Runs in a fresh interpreter; prints the milliseconds each stage took.
STAGES = """
import json, time
clock = time.perf_counter
marks = [clock()]
import zbooks
marks.append(clock())
zbooks.Client
marks.append(clock())
client = zbooks.Client(access_token="1000.x", organization_id="1", rate_limiter=False, env={})
marks.append(clock())
client.invoices
marks.append(clock())
from zbooks.models import Invoice
Invoice.model_validate({"invoice_id": "1", "total": 10.5, "date": "2026-01-02"})
marks.append(clock())
print(json.dumps([(b - a) * 1000 for a, b in zip(marks, marks[1:])]))
"""
LABELS = (
    "`import zbooks`",
    "`zbooks.Client` (first access)",
    "`Client(...)`",
    "`client.invoices` (first access)",
    "first `Invoice.model_validate`",
)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZBOOKS_")}
    env["ZBOOKS_CONFIG_DIR"] = tempfile.mkdtemp(prefix="zbooks-bench-")
    return env


def importtime_total(code: str, module: str, env: dict[str, str]) -> float:
    """Cumulative milliseconds ``-X importtime`` reports for ``module``."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    for line in result.stderr.splitlines():
        parts = line.split(":", 1)[-1].split("|")
        if len(parts) == 3 and parts[2].strip() == module:
            return int(parts[1]) / 1000
    raise RuntimeError(f"{module} not in the -X importtime output")


def stages(env: dict[str, str]) -> list[float]:
    result = subprocess.run(
        [sys.executable, "-c", STAGES],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    values: list[float] = json.loads(result.stdout)
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    env = _env()
    stages(env)  # warm the file-system cache and the bytecode
    totals = [importtime_total("import zbooks", "zbooks", env) for _ in range(args.runs)]
    samples = [stages(env) for _ in range(args.runs)]
    medians = [statistics.median(column) for column in zip(*samples, strict=True)]
    worst = [max(column) for column in zip(*samples, strict=True)]
    total = statistics.median(totals)
    verdict = "within" if total < BUDGET_MS else "OVER"
    lines = [
        "## Import time (`benchmarks/import_time.py`)",
        "",
        f'`python -X importtime -c "import zbooks"`: **{total:.1f} ms** cumulative for '
        f"the `zbooks` package (median of {args.runs} fresh interpreters, worst "
        f"{max(totals):.1f} ms), {verdict} the {BUDGET_MS:.0f} ms budget.",
        "",
        f"Stage by stage in one fresh interpreter (median and worst of {args.runs}):",
        "",
        "| stage | median ms | max ms |",
        "|---|---:|---:|",
        *[
            f"| {label} | {median:.1f} | {high:.1f} |"
            for label, median, high in zip(LABELS, medians, worst, strict=True)
        ],
        "",
        "Neither `import zbooks` nor `zbooks.Client` loads a resource, model or pydantic "
        "module (`tests/sdk/test_resources.py` and `tests/sdk/test_ergonomic.py` fail if "
        "they do): a module's resource class loads on its first "
        "`client.<module>`, and the helpers import other modules' models only when a "
        "helper returns one.",
    ]
    body = "\n".join(lines)
    print(body)
    write_section("import_time", body)


if __name__ == "__main__":
    main()
