"""Sandbox throughput and footprint with 100,000 invoices.

1. Seed 100,000 invoices (with their contacts, items and payments) into a fresh
   database and time it (target < 60 s).
2. Serve that database with uvicorn in a child process, and a bare Starlette endpoint
   that returns the same invoice JSON with the same server stack in another child.
3. Load both with `wrk` (Debian package; a C load generator, so the client is not the
   bottleneck), the same request bytes to each: GET /invoices/{id} polling one invoice
   (the sandbox serves it from its read memo), GET /invoices/{id} with a random one of
   the 100,000 ids per request (nearly always computed afresh), GET
   /invoices?per_page=200, and the bare endpoint. Target: GET by id >= 0.5x of bare.
4. Resident memory of the sandbox process after the load (peak RSS; target < 300 MB).
5. Creates: ``POST /invoices`` (a draft for one customer, the worst case for anything
   that grows with the customer's documents) in rounds of ``--create-round`` seconds
   until ``--creates`` invoices exist, with the server's CPU per create in each round.
   Targets: >= 300 creates/s, and the round holding the 10,000th create within 1.2x of
   the first round's CPU per create.

    .venv/bin/python benchmarks/sandbox.py [--invoices 100000] [--seconds 10] [--creates 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import write_section

UNLIMITED = 10**9
PLANS = ("free", "standard", "professional", "premium")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_sandbox(db_path: str, port: int) -> None:
    """Child process: the sandbox on an existing database, limits out of the way."""
    import logging

    from zbooks.sandbox.config import SandboxConfig
    from zbooks.sandbox.server import serve

    # Like for like: the bare endpoint runs without an access log, so the sandbox's
    # per-request console line is off too (the in-memory request log stays on).
    logging.getLogger("zbooks.sandbox.requests").setLevel(logging.WARNING)

    config = SandboxConfig(
        port=port,
        db_path=db_path,
        seed="empty",
        rate_limit=UNLIMITED,
        daily_limits={plan: UNLIMITED for plan in PLANS},
        concurrency_limits={plan: UNLIMITED for plan in PLANS},
        control_token="bench-control-token",
    )
    serve(config, out=open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process


def serve_bare(body_path: str, port: int) -> None:
    """Child process: a bare Starlette JSON endpoint on the same server stack."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    body = Path(body_path).read_bytes()

    async def endpoint(request: object) -> Response:
        return Response(body, media_type="application/json;charset=UTF-8")

    app = Starlette(routes=[Route("/books/v3/invoices/{invoice_id}", endpoint)])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def seed(db_path: str, invoices: int) -> tuple[float, str]:
    from zbooks.sandbox.app import create_app
    from zbooks.sandbox.config import SandboxConfig
    from zbooks.sandbox.seed import seed_module

    app = create_app(SandboxConfig(db_path=db_path, seed="empty"))
    org_id = app.demo.org_id
    rng = random.Random(42)
    started = time.perf_counter()
    for module, count in (("taxes", 5), ("items", 200), ("contacts", 5000)):
        seed_module(app.db, app.clock, org_id, module, count, rng)
    seed_module(app.db, app.clock, org_id, "invoices", invoices, rng)
    elapsed = time.perf_counter() - started
    app.close()
    return elapsed, org_id


def seed_footprint(db_path: str, invoices: int) -> dict[str, Any]:
    """Seed ``db_path`` and report wall seconds, CPU seconds, file size (MB) and org id."""
    cpu = time.process_time()
    seconds, org_id = seed(db_path, invoices)
    cpu = time.process_time() - cpu
    size = sum(p.stat().st_size for p in Path(db_path).parent.glob(Path(db_path).name + "*"))
    return {"seconds": seconds, "cpu": cpu, "mb": size / 1e6, "org_id": org_id}


def me_path() -> str:
    return str(Path(__file__).resolve())


def wait_ready(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx2.get(url, timeout=2)
            return
        except httpx2.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (robust to a busy machine, unlike req/s)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(
    url: str,
    seconds: int,
    headers: dict[str, str],
    pid: int,
    connections: int = 16,
    script: Path | None = None,
) -> tuple[int, float, float]:
    """(requests served, seconds, server CPU seconds) of one wrk run."""
    before = cpu_seconds(pid)
    out = run_wrk(url, seconds, headers, connections, script)
    used = cpu_seconds(pid) - before
    match = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    assert match, out
    elapsed = float(match.group(2)) / (1000 if match.group(3) == "ms" else 1)
    return int(match.group(1)), elapsed, used


@dataclass(frozen=True)
class Job:
    url: str
    headers: dict[str, str]
    pid: int
    connections: int = 16
    script: Path | None = None


def interleaved(
    jobs: dict[str, Job], seconds: int, slices: int = 3
) -> dict[str, tuple[float, float]]:
    """Run every job for ``seconds`` in total, in ``slices`` turns taken in rotation, so
    that a busy moment on this shared machine hits every row alike. Returns
    ``name -> (requests per second, server CPU microseconds per request)``."""
    totals = {name: [0, 0.0, 0.0] for name in jobs}
    turn = max(1, round(seconds / slices))
    for _ in range(slices):
        for name, job in jobs.items():
            count, elapsed, used = load(
                job.url, turn, job.headers, job.pid, job.connections, job.script
            )
            totals[name][0] += count
            totals[name][1] += elapsed
            totals[name][2] += used
    return {
        name: (count / elapsed, used / count * 1e6)
        for name, (count, elapsed, used) in totals.items()
    }


# wrk script: every request asks for a random invoice id from a file, keeping the query.
RANDOM_ID_SCRIPT = """
local ids = {}
for line in io.lines("%(ids)s") do ids[#ids + 1] = line end
local prefix, query = wrk.path:match("^(.*/)[^/?]+(%%?.*)$")
math.randomseed(42)
request = function()
  return wrk.format(nil, prefix .. ids[math.random(#ids)] .. query)
end
"""


# wrk script: every request creates the same draft invoice (wrk -H adds the token).
CREATE_SCRIPT = """
wrk.method = "POST"
wrk.body = [[%(body)s]]
wrk.headers["Content-Type"] = "application/json"
"""


def create_script(workdir: Path, body: dict[str, object]) -> Path:
    script = workdir / "create.lua"
    script.write_text(CREATE_SCRIPT % {"body": json.dumps(body)})
    return script


def create_rounds(
    url: str, seconds: int, headers: dict[str, str], pid: int, script: Path, target: int
) -> list[tuple[int, float, float]]:
    """Rounds of creates until ``target`` have been made: (creates so far, creates/s,
    server CPU ms per create) per round."""
    rounds: list[tuple[int, float, float]] = []
    made = 0
    while made < target:
        before = cpu_seconds(pid)
        out = run_wrk(url, seconds, headers, 4, script)
        used = cpu_seconds(pid) - before
        count = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
        made += count
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
        rounds.append((made, rate, used / count * 1e3))
        print(f"  creates so far {made:,}: {rate:,.0f}/s, {used / count * 1e3:.2f} ms CPU each")
    return rounds


def access(base: str) -> dict[str, str]:
    """An Authorization header for a fresh self client of the sandbox at ``base``."""
    control = {"Authorization": "Bearer bench-control-token"}
    client = httpx2.post(
        f"{base}/_sandbox/clients", headers=control, json={"name": "bench", "client_type": "self"}
    ).json()
    code = httpx2.post(
        f"{base}/_sandbox/self-client/code",
        headers=control,
        json={"client_id": client["client_id"], "scope": "ZohoBooks.fullaccess.all"},
    ).json()["code"]
    token = httpx2.post(
        f"{base}/oauth/v2/token",
        data={
            "grant_type": "authorization_code",
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
            "code": code,
        },
    ).json()["access_token"]
    return {"Authorization": f"Zoho-oauthtoken {token}"}


def random_id_script(workdir: Path, ids: list[str]) -> Path:
    ids_path = workdir / "ids.txt"
    ids_path.write_text("\n".join(ids) + "\n")
    script = workdir / "random_id.lua"
    script.write_text(RANDOM_ID_SCRIPT % {"ids": ids_path})
    return script


def invoice_ids(db_path: str, org_id: str) -> list[str]:
    import sqlite3

    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(
            "SELECT record_id FROM records WHERE org_id=? AND module='invoices'", (org_id,)
        ).fetchall()
    return [str(row[0]) for row in rows]


def run_wrk(
    url: str, seconds: int, headers: dict[str, str], connections: int, script: Path | None
) -> str:
    """wrk's report; fails on any non-2xx answer."""
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script is not None:
        args += ["-s", str(script)]
    for key, value in headers.items():
        args += ["-H", f"{key}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise RuntimeError(f"{non2xx.group(1)} failed responses from {url}:\n{out}")
    return out


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    assert match
    return int(match.group(1)) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--creates", type=int, default=10_000)
    parser.add_argument("--create-round", type=int, default=3)
    parser.add_argument(
        "--baseline-src",
        metavar="DIR",
        help="also serve a copy of the database with the zbooks package in "
        "DIR (e.g. an exported older src/) and load it row by row, side by "
        "side, for before/after ratios",
    )
    parser.add_argument(
        "--baseline-label",
        metavar="TEXT",
        help="what the baseline code is (e.g. a commit), named in the report",
    )
    parser.add_argument(
        "--list-baseline-src",
        metavar="DIR",
        help="serve a further copy with the zbooks package in DIR for the list row's "
        "before (its 2x target is relative to an older commit than --baseline-src)",
    )
    parser.add_argument(
        "--list-baseline-label", metavar="TEXT", help="what the list baseline code is"
    )
    parser.add_argument("--baseline-creates", type=int, default=2_000)
    parser.add_argument("--serve-sandbox", nargs=2, metavar=("DB", "PORT"), help=argparse.SUPPRESS)
    parser.add_argument("--serve-bare", nargs=2, metavar=("BODY", "PORT"), help=argparse.SUPPRESS)
    parser.add_argument("--seed-only", metavar="DB", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        print(json.dumps(seed_footprint(args.seed_only, args.invoices)))
        return
    if args.serve_sandbox:
        serve_sandbox(args.serve_sandbox[0], int(args.serve_sandbox[1]))
        return
    if args.serve_bare:
        serve_bare(args.serve_bare[0], int(args.serve_bare[1]))
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")

    workdir = Path(tempfile.mkdtemp(prefix="zbooks-bench-"))
    db_path = str(workdir / "sandbox.db")
    old_seed: dict[str, float] | None = None
    if args.baseline_src:
        # The baseline code seeds a database of its own first (then it is deleted), so the
        # seeding row compares time and file size side by side.
        env = {**os.environ, "PYTHONPATH": str(Path(args.baseline_src).resolve())}
        command = [sys.executable, me_path(), "--seed-only", str(workdir / "seed-baseline.db")]
        command += ["--invoices", str(args.invoices)]
        seeded = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        old_seed = json.loads(seeded.stdout.strip().splitlines()[-1])
        for leftover in workdir.glob("seed-baseline.db*"):
            leftover.unlink()
        print(f"baseline seeded {args.invoices:,} invoices in {old_seed['seconds']:.1f} s")
    footprint = seed_footprint(db_path, args.invoices)
    seed_seconds, seed_cpu, db_mb = footprint["seconds"], footprint["cpu"], footprint["mb"]
    org_id = str(footprint["org_id"])
    print(f"seeded {args.invoices:,} invoices in {seed_seconds:.1f} s")
    random_ids = random_id_script(workdir, invoice_ids(db_path, org_id))

    port = free_port()
    me = str(Path(__file__).resolve())
    old_sandbox = None
    if args.baseline_src:
        old_db = str(workdir / "baseline.db")
        shutil.copyfile(db_path, old_db)
        old_port = free_port()
        env = {**os.environ, "PYTHONPATH": str(Path(args.baseline_src).resolve())}
        old_sandbox = subprocess.Popen(
            [sys.executable, me, "--serve-sandbox", old_db, str(old_port)], env=env
        )
    list_sandbox = None
    if args.list_baseline_src:
        list_db = str(workdir / "list-baseline.db")
        shutil.copyfile(db_path, list_db)
        list_port = free_port()
        env = {**os.environ, "PYTHONPATH": str(Path(args.list_baseline_src).resolve())}
        list_sandbox = subprocess.Popen(
            [sys.executable, me, "--serve-sandbox", list_db, str(list_port)], env=env
        )
    sandbox = subprocess.Popen([sys.executable, me, "--serve-sandbox", db_path, str(port)])
    bare = None
    before: dict[str, tuple[float, float]] = {}
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base + "/_sandbox/info")
        auth = access(base)
        listing = httpx2.get(
            f"{base}/books/v3/invoices",
            headers=auth,
            params={"organization_id": org_id, "per_page": 200},
        ).json()
        invoice_id = listing["invoices"][0]["invoice_id"]
        detail = httpx2.get(
            f"{base}/books/v3/invoices/{invoice_id}",
            headers=auth,
            params={"organization_id": org_id},
        )
        assert detail.status_code == 200, detail.text
        body_path = workdir / "invoice.json"
        body_path.write_bytes(detail.content)

        bare_port = free_port()
        bare = subprocess.Popen(
            [sys.executable, me, "--serve-bare", str(body_path), str(bare_port)]
        )
        # The same request bytes (path, query, Authorization header) go to both servers,
        # so parsing the request costs them the same; the bare endpoint ignores them.
        bare_url = (
            f"http://127.0.0.1:{bare_port}/books/v3/invoices/{invoice_id}?organization_id={org_id}"
        )
        wait_ready(bare_url)

        by_id_url = f"{base}/books/v3/invoices/{invoice_id}?organization_id={org_id}"
        list_url = f"{base}/books/v3/invoices?organization_id={org_id}&per_page=200&page=7"
        if old_sandbox is not None:
            old_base = f"http://127.0.0.1:{old_port}"
            wait_ready(old_base + "/_sandbox/info")
            old_auth = access(old_base)
        jobs = {
            "bare": Job(bare_url, auth, bare.pid),
            "random": Job(by_id_url, auth, sandbox.pid, script=random_ids),
            "polled": Job(by_id_url, auth, sandbox.pid),
            "list": Job(list_url, auth, sandbox.pid, connections=4),
        }
        if list_sandbox is not None:
            list_base = f"http://127.0.0.1:{list_port}"
            wait_ready(list_base + "/_sandbox/info")
            jobs["list baseline"] = Job(
                list_url.replace(base, list_base),
                access(list_base),
                list_sandbox.pid,
                connections=4,
            )
        if old_sandbox is not None:
            jobs["old random"] = Job(
                by_id_url.replace(base, old_base), old_auth, old_sandbox.pid, script=random_ids
            )
            jobs["old list"] = Job(
                list_url.replace(base, old_base), old_auth, old_sandbox.pid, connections=4
            )
        results = interleaved(jobs, args.seconds)
        for name, (rps, cpu) in results.items():
            print(f"{name}: {rps:,.0f} req/s, {cpu:.0f} µs CPU per request")
        rps_bare, cpu_bare = results["bare"]
        rps_by_id, cpu_by_id = results["polled"]
        rps_random, cpu_random = results["random"]
        rps_list, cpu_list = results["list"]
        if old_sandbox is not None:
            before["random"] = results["old random"]
            before["list"] = results["old list"]
        if list_sandbox is not None:
            before["list baseline"] = results["list baseline"]
        rss = peak_rss_mb(sandbox.pid)
        items = httpx2.get(
            f"{base}/books/v3/items",
            headers=auth,
            params={"organization_id": org_id, "per_page": 1},
        ).json()["items"]
        new_invoice = {
            "customer_id": listing["invoices"][0]["customer_id"],
            "line_items": [{"item_id": items[0]["item_id"], "quantity": 2}],
        }
        old_rounds: list[tuple[int, float, float]] = []
        if old_sandbox is not None:
            # Capped: before the fix each create cost more than the last, so 10,000 of them
            # took many minutes; the trend is plain long before.
            print(f"baseline: creating {args.baseline_creates:,} invoices for one customer:")
            old_rounds = create_rounds(
                f"{old_base}/books/v3/invoices?organization_id={org_id}",
                args.create_round,
                old_auth,
                old_sandbox.pid,
                create_script(workdir, new_invoice),
                args.baseline_creates,
            )
        print(f"creating {args.creates:,} invoices for one customer:")
        rounds = create_rounds(
            f"{base}/books/v3/invoices?organization_id={org_id}",
            args.create_round,
            auth,
            sandbox.pid,
            create_script(workdir, new_invoice),
            args.creates,
        )
    finally:
        for proc in (sandbox, bare, old_sandbox, list_sandbox):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)

    ratio = rps_by_id / rps_bare
    cpu_ratio = cpu_bare / cpu_by_id
    random_ratio = rps_random / rps_bare
    random_cpu_ratio = cpu_bare / cpu_random
    made, _, first_cpu = rounds[0]
    last_cpu = next(r for r in rounds if r[0] >= args.creates)[2]
    create_rate = sum(r[1] for r in rounds) / len(rounds)
    flat = last_cpu / first_cpu
    invoice_kb = len(detail.content) / 1024
    list_kb = len(json.dumps(listing)) / 1024

    def verdict(ok: bool) -> str:
        return "**met**" if ok else "**not met**"

    baseline_name = f"`{args.baseline_src}`" + (
        f" ({args.baseline_label})" if args.baseline_label else ""
    )
    list_vs = ""
    list_target = "-"
    random_vs = ""
    create_vs = ""
    closing = ""
    list_name = baseline_name
    if args.list_baseline_src:
        list_name = f"`{args.list_baseline_src}`" + (
            f" ({args.list_baseline_label})" if args.list_baseline_label else ""
        )
    if before:
        old_list_rps, old_list_cpu = before["list"]
        old_rps, old_cpu = before["random"]
        list_gain = old_list_cpu / cpu_list
        list_vs = (
            f"; before: {old_list_rps:,.0f} req/s, {old_list_cpu:.0f} µs "
            f"(**{list_gain:.2f}x** the rate per CPU second)"
        )
        list_target = f">= 2x of before: {verdict(list_gain >= 2)}"
        if "list baseline" in before:
            # The 2x target is relative to the list baseline's code, not --baseline-src's.
            list_base_rps, list_base_cpu = before["list baseline"]
            list_base_gain = list_base_cpu / cpu_list
            list_vs += (
                f"; before {list_name}: {list_base_rps:,.0f} req/s, {list_base_cpu:.0f} µs "
                f"(**{list_base_gain:.2f}x**)"
            )
            list_target = f">= 2x of {list_name}: {verdict(list_base_gain >= 2)}"
        random_vs = (
            f"; before: {old_rps:,.0f} req/s, {old_cpu:.0f} µs "
            f"(**{cpu_bare / old_cpu:.2f}x** of bare's rate)"
        )
        closing = (
            "\n\nBefore/after (fresh reads, side by side in this run, before = the code of "
            f"{baseline_name}): a `per_page=200` list page took {old_list_cpu:,.0f} µs "
            f"of server CPU before and {cpu_list:,.0f} µs after ({list_gain:.2f}x the pages "
            "per CPU second"
            + (
                f"; {before['list baseline'][1]:,.0f} µs with {list_name}, the 2x target's "
                f"baseline: {before['list baseline'][1] / cpu_list:.2f}x"
                if "list baseline" in before
                else "; target 2x"
            )
            + "); a GET by id of a random invoice took "
            f"{old_cpu:.0f} µs before and {cpu_random:.0f} µs after, "
            f"{cpu_bare / old_cpu:.2f}x -> {random_cpu_ratio:.2f}x of the bare endpoint's "
            f"rate per CPU second and {old_rps / rps_bare:.2f}x -> {random_ratio:.2f}x of "
            "its req/s (target 0.5x on both)."
        )
    if old_rounds:
        old_first = old_rounds[0][2]
        old_last = next(r for r in old_rounds if r[0] >= args.baseline_creates)[2]
        old_rate = sum(r[1] for r in old_rounds) / len(old_rounds)
        create_vs = (
            f" Before, on a copy of the same database in the same run: "
            f"{old_rate:,.0f} creates/s, {old_first:.2f} ms of CPU per create in the "
            f"first round and {old_last:.2f} ms ({old_last / old_first:.2f}x) in the "
            f"round holding create no. {args.baseline_creates:,} (stopped there)."
        )
    baseline_note = (
        f' Rows marked "before" were served at the same time by the code of '
        f"{baseline_name} from a copy of the same database (`--baseline-src`)."
        if before
        else ""
    )
    if args.list_baseline_src and before:
        baseline_note += (
            f" The list row is also compared with the code of {list_name} "
            "(`--list-baseline-src`), the baseline of its 2x target."
        )
    seed_vs = (
        f"; before, same run: {old_seed['seconds']:.1f} s ({old_seed['cpu']:.1f} s of CPU; "
        f"{old_seed['mb']:,.0f} MB)"
        if old_seed
        else ""
    )
    body = (
        "## Sandbox (`benchmarks/sandbox.py`)\n\n"
        f"{args.invoices:,} invoices seeded (plus 5,000 contacts and 200 items); uvicorn, one "
        f"process each; load from `wrk` for {args.seconds} s per endpoint on the same "
        f"machine (2 cores shared by server and load generator).{baseline_note}\n\n"
        "| measurement | result | server CPU per request | target |\n|---|---|---|---|\n"
        f"| seeding {args.invoices:,} invoices | {seed_seconds:.1f} s "
        f"({seed_cpu:.1f} s of CPU; database file {db_mb:,.0f} MB){seed_vs} | | < 60 s |\n"
        f"| bare Starlette JSON endpoint ({invoice_kb:.1f} KB body) | {rps_bare:,.0f} req/s | "
        f"{cpu_bare:.0f} µs | reference |\n"
        f"| GET /invoices/{{id}}, one invoice polled (read memo) | {rps_by_id:,.0f} req/s "
        f"({ratio:.2f}x of bare) | "
        f"{cpu_by_id:.0f} µs ({cpu_ratio:.2f}x of bare's rate) | - (memoised: no target) |\n"
        f"| GET /invoices/{{id}}, random id of {args.invoices:,} (fresh) | "
        f"{rps_random:,.0f} req/s (**{random_ratio:.2f}x** of bare) | "
        f"{cpu_random:.0f} µs (**{random_cpu_ratio:.2f}x** of bare's rate){random_vs} | "
        f">= 0.5x: {verdict(min(random_ratio, random_cpu_ratio) >= 0.5)} |\n"
        f"| GET /invoices?per_page=200 ({list_kb:.0f} KB body, fresh) | {rps_list:,.0f} req/s | "
        f"{cpu_list:.0f} µs{list_vs} | {list_target} |\n"
        f"| sandbox peak resident memory | {rss:.0f} MB | | < 300 MB |\n"
        f"| POST /invoices, mean of {len(rounds)} rounds of {args.create_round} s | "
        f"{create_rate:,.0f} creates/s | {sum(r[2] for r in rounds) / len(rounds):.2f} ms | "
        f">= 300/s: {verdict(create_rate >= 300)} |\n"
        f"| POST /invoices, round holding create no. {args.creates:,} vs the first "
        f"(creates 1-{made:,}) | **{flat:.2f}x** the CPU per create | "
        f"{last_cpu:.2f} ms vs {first_cpu:.2f} ms | <= 1.2x: {verdict(flat <= 1.2)} |\n\n"
        "The CPU column is the server process's own CPU time divided by the requests it "
        "served: unlike req/s it does not depend on what else the machine is doing, so "
        "before/after ratios are read on it. "
        "Every row sends the same request bytes (path, `organization_id` query, "
        "`Authorization` header); the bare endpoint ignores them. The polled row is "
        "answered from the sandbox's read memo (valid until the next write), so no target "
        "is read on it; the random-id row almost never hits the memo (1,024 entries "
        f"against {args.invoices:,} ids), so it shows the full cost of authenticating, "
        "resolving, limiting, reading and rendering, and carries the >= 0.5x target "
        "(both ratios must reach it). The list has no memo. Creates are drafts for one "
        "customer, the case that used to slow down with every invoice of that customer "
        "(a balance refresh read them all); they run last, so they do not disturb the "
        f"read rows.{create_vs} "
        "Where a fresh read's time goes (profiled in-process): a list page reads each "
        "row's stored list-row projection (about 40 fields, written with the record; "
        "`zbooks.sandbox.ledger.rows`) instead of parsing 200 whole documents, then "
        "derives the date-dependent fields (status, due days) and renders; a GET by id "
        "of an invoice reads the answer rendered when the invoice was written (its "
        "detail projection, `zbooks.sandbox.ledger.details`: the envelope as the "
        "presenter renders it, with the status left as a marker) and splices in the "
        "status derived from the sandbox clock, instead of parsing, shaping (documented "
        "defaults merged in) and rendering the document on every read; next to that "
        "comes a fixed cost per request for the token, organization, limits and request "
        "log (about 30 µs in-process, the whole cost of a memoised read). What is left "
        "above the bare endpoint is mostly that fixed cost, the three `X-Rate-Limit-*` "
        "headers every answer carries (each validated again by h11) and SQLite's indexed "
        f"read of one record among {args.invoices:,}. The projections are written "
        "with every invoice, seeding included: they cost seeding time and about 4 KB "
        "of database file per invoice (the seeding row). They also doubled the pages a "
        "mixed load touches, so SQLite's page cache went from 32 MB to 64 MB: at 32 MB the "
        "random reads evicted what a list page scans and list pages ran ~10% slower than "
        f"before (the memory row includes the larger cache).{closing}"
    )
    write_section("sandbox", body)
    print(body)


if __name__ == "__main__":
    main()
