"""Client CPU per request of ``zbooks sync`` without limits, next to the server's.

A sync of N invoices (one list page per 200, then one detail GET per invoice on the
engine's detail threads) against the sandbox in its own process, no rate limit. Each
variant runs in a fresh client process; the client's CPU (user + system, its own
``getrusage``) and the sandbox's (``/proc/<pid>/stat``) are divided by the requests the
sync made. Target (issue 15): client CPU per request <= the server's.

Rows, side by side in one run:
- ``zbooks sync``: ``zbooks.Client`` as ``zbooks sync`` builds it, into DuckDB (the
  default target) and into SQLite;
- the floor: bare httpx2 reading the same list pages and detail GETs on 10 threads with
  ``json.loads`` and nothing else (no pipeline, no database), so the table shows how
  much of the client's CPU is the HTTP stack itself.

    .venv/bin/python benchmarks/sync_cpu.py [--invoices 3000] [--rounds 2] [--profile]

Results go to docs/benchmarks.md (section ``sync_cpu``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from report import write_section  # noqa: E402

VARIANTS = {
    "default": "`zbooks sync` into DuckDB (the default target; `zbooks.Client` as the sync "
    "builds it)",
    "sqlite": "`zbooks sync` into SQLite",
    "bare": "floor: bare httpx2 + `json.loads`, the same list pages and detail GETs "
    "on 10 threads, no database",
}


def bare_worker() -> dict[str, Any]:
    """The floor: list every page, then GET each invoice on 10 threads, bare httpx2."""
    import json as _json
    from concurrent.futures import ThreadPoolExecutor

    import httpx2

    env = os.environ
    api = env["ZB_BASE_URL"] + "/books/v3"
    params = {"organization_id": env["ZB_ORG_ID"]}
    headers = {"Authorization": "Zoho-oauthtoken " + env["ZB_ACCESS_TOKEN"]}
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    ids: list[str] = []
    requests = 0
    with httpx2.Client(timeout=60) as http:
        page = 1
        while True:
            response = http.get(
                f"{api}/invoices",
                params={**params, "page": page, "per_page": 200},
                headers=headers,
            )
            body = _json.loads(response.content)
            requests += 1
            ids += [row["invoice_id"] for row in body["invoices"]]
            if not body["page_context"]["has_more_page"]:
                break
            page += 1

        def detail(record_id: str) -> None:
            _json.loads(
                http.get(f"{api}/invoices/{record_id}", params=params, headers=headers).content
            )

        with ThreadPoolExecutor(10) as pool:
            list(pool.map(detail, ids))
        requests += len(ids)
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"requests": requests, "cpu": cpu, "seconds": time.monotonic() - started}


def worker(variant: str, url: str, profile: bool) -> None:
    """Child mode: sync invoices with credentials from ZB_*; print CPU and requests."""
    if variant == "bare":
        print(json.dumps(bare_worker()))
        return
    from tests.sync.support import unlimited

    import zbooks.sync as zsync
    from zbooks import Client

    env = os.environ
    base = env["ZB_BASE_URL"]
    client = Client(
        client_id=env["ZB_CLIENT_ID"],
        client_secret=env["ZB_CLIENT_SECRET"],
        access_token=env["ZB_ACCESS_TOKEN"],
        refresh_token=env["ZB_REFRESH_TOKEN"],
        accounts_url=base,
        api_url=base + "/books/v3",
        organization_id=env["ZB_ORG_ID"],
        env={},
        rate_limiter=unlimited(),
    )
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    summary = zsync.run(client, url, modules="invoices")
    elapsed = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(json.dumps({"requests": summary.requests, "cpu": cpu, "seconds": elapsed}))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_variant(
    variant: str, env: dict[str, str], server_pid: int, tmp: str, n: int, profile: bool
) -> dict[str, Any]:
    server_before = cpu_seconds(server_pid)
    if variant == "before":  # the same worker, importing zbooks from the baseline's src
        env = {**env, "PYTHONPATH": env["ZB_BASELINE_SRC"]}
    proc = subprocess.run(
        [
            sys.executable,
            __file__,
            "--worker",
            "default" if variant == "before" else variant,
            f"sqlite:///{tmp}/{variant}{n}.sqlite" if variant == "sqlite"
            else f"duckdb:///{tmp}/{variant}{n}.duckdb",
            *(["--profile"] if profile else []),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    server = cpu_seconds(server_pid) - server_before
    if profile:
        print(proc.stderr, file=sys.stderr)
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["server_cpu"] = server
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument(
        "--baseline-src",
        help="a src/ folder of an earlier commit: adds a 'before' row (DuckDB), side by side",
    )
    parser.add_argument("--worker", nargs=2, metavar=("VARIANT", "DB_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], args.worker[1], args.profile)
        return
    from tests.sync.support import sandbox_process

    variants = dict(VARIANTS)
    if args.baseline_src:
        variants["before"] = f"before: `zbooks sync` into DuckDB, code of `{args.baseline_src}`"
        os.environ["ZB_BASELINE_SRC"] = str(Path(args.baseline_src).resolve())
    results: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
    with tempfile.TemporaryDirectory() as tmp, sandbox_process(seed="empty") as sandbox:
        for module, count in (("taxes", 3), ("items", 50), ("contacts", 300)):
            sandbox.seed(module, count)
        sandbox.seed("invoices", args.invoices)
        env = {**os.environ, **sandbox.credentials().env(sandbox)}
        assert sandbox.proc is not None
        n = 0
        for _ in range(args.rounds):
            for variant in variants:
                n += 1
                results[variant].append(
                    run_variant(variant, env, sandbox.proc.pid, tmp, n, args.profile)
                )
    rows = []
    verdicts = {}
    for variant, label in variants.items():
        runs = results[variant]
        client_ms = statistics.median(r["cpu"] / r["requests"] * 1000 for r in runs)
        server_ms = statistics.median(r["server_cpu"] / r["requests"] * 1000 for r in runs)
        ratio = client_ms / server_ms
        verdicts[variant] = ratio
        rows.append(
            f"| {label} | {runs[0]['requests']:,} | "
            f"{statistics.median(r['seconds'] for r in runs):.1f} s | {client_ms:.2f} ms | "
            f"{server_ms:.2f} ms | {ratio:.2f}x |"
        )
    ratio = verdicts["default"]
    body = "\n".join(
        [
            "## Sync client CPU (`benchmarks/sync_cpu.py`)",
            "",
            f"`zbooks sync --modules invoices` of {args.invoices:,} invoices against the sandbox, "
            "no rate limit, the engine's default detail threads; CPU time per request of the "
            f"client process and of the sandbox process, median of {args.rounds} fresh runs "
            "per row (interleaved).",
            "",
            "| client | requests | wall | client CPU / request | server CPU / request | ratio |",
            "|---|---:|---:|---:|---:|---:|",
            *rows,
            "",
            f"Target: client CPU per request <= the server's: **{ratio:.2f}x, "
            f"{'met' if ratio <= 1.0 else 'not met'}**.",
            "",
            *_reading(verdicts),
        ]
    )
    print(body)
    if not args.no_write:
        write_section("sync_cpu", body)


def _reading(verdicts: dict[str, float]) -> list[str]:
    """What the rows say, from this run's numbers."""
    lines = [
        f"The floor row is the finding: bare httpx2 on 10 threads, doing nothing but "
        f"`json.loads`, spends {verdicts['bare']:.2f}x the server's CPU per request, so "
        "zbooks' own work can only add to that: the rest of a sync's CPU is turning records "
        "into rows and writing them (one canonical JSON encoding per record, shared by the "
        "row hash and the stored document; DuckDB rows go over as one Arrow batch per "
        "commit).",
    ]
    if "before" in verdicts:
        lines += [
            "",
            f"Before/after, side by side: {verdicts['before']:.2f}x before, "
            f"{verdicts['default']:.2f}x now "
            f"({verdicts['default'] / verdicts['before']:.2f} of the CPU per request).",
        ]
    return lines


if __name__ == "__main__":
    main()
