"""What does the sandbox cost a test suite? (issue 14: under 150 ms per test for the
function-scoped ``zbooks_sandbox`` fixture; ``zbooks sandbox reset`` then ``seed
--invoices 10000`` under 10 s)

Measures, side by side in one run:
- pytest on a generated file of N tests that take ``zbooks_sandbox`` and create a
  contact, against the same file with 1 test: the difference over N-1 is the fixture's
  cost per test (reset + client), the sandbox's start-up paid once is left out; a file
  of N plain tests gives pytest's own per-test floor;
- ``Sandbox.reset()`` alone, after a test that wrote (a full restore) and after one that
  did not (nothing to copy);
- ``zbooks sandbox reset`` and ``zbooks sandbox seed --invoices 10000`` as commands
  against ``zbooks sandbox serve`` in another process.

Run: ``.venv/bin/python benchmarks/testing_fixture.py [--tests 40]``; results go to
docs/benchmarks.md (section ``testing_fixture``).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import write_section

BUDGET_MS = 150.0
SEED_BUDGET_S = 10.0
ZBOOKS = str(Path(sys.executable).parent / "zbooks")

FIXTURE_TEST = """
def test_{i}(zbooks_sandbox):
    zbooks_sandbox.client().contacts.create(body={{"contact_name": "Bench {i}"}})
"""
PLAIN_TEST = """
def test_{i}():
    assert True
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZBOOKS_")}
    env["ZBOOKS_CONFIG_DIR"] = tempfile.mkdtemp(prefix="zbooks-bench-")
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a running process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_pytest(template: str, count: int) -> tuple[float, float]:
    """(wall, CPU) seconds of a pytest process running ``count`` tests made from
    ``template``. CPU time includes the in-process sandbox and barely moves with the
    load of the shared machine; wall time does."""
    with tempfile.TemporaryDirectory(prefix="zbooks-bench-") as folder:
        path = Path(folder) / "test_bench.py"
        path.write_text("".join(template.format(i=i) for i in range(count)), encoding="utf-8")
        (Path(folder) / "pytest.ini").write_text(
            "[pytest]\nasyncio_default_fixture_loop_scope = function\n", encoding="utf-8"
        )
        started, cpu = time.perf_counter(), _children_cpu()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)],
            cwd=folder,
            env=_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        took, used = time.perf_counter() - started, _children_cpu() - cpu
        if result.returncode != 0:
            raise SystemExit(f"pytest failed:\n{result.stdout}\n{result.stderr}")
        return took, used


def reset_times(runs: int) -> tuple[list[float], list[float]]:
    """Milliseconds of ``Sandbox.reset()`` after a write and after nothing."""
    import zbooks.testing

    dirty: list[float] = []
    clean: list[float] = []
    with zbooks.testing.sandbox(patch_env=False) as sb:
        client = sb.client()
        for i in range(runs):
            client.contacts.create(body={"contact_name": f"Reset {i}"})
            started = time.perf_counter()
            sb.reset()
            dirty.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            sb.reset()
            clean.append((time.perf_counter() - started) * 1000)
    return dirty, clean


def seed_commands() -> tuple[list[float], list[float], str]:
    """Wall seconds of ``zbooks sandbox reset`` and ``seed --invoices 10000`` (another
    process), and the CPU seconds the command and the sandbox spent on each."""
    env = _env()
    server = subprocess.Popen(
        [ZBOOKS, "sandbox", "serve", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        banner = ""
        while "ZBOOKS_SANDBOX_TOKEN" not in banner:
            line = server.stdout.readline()
            if not line:
                raise SystemExit("zbooks sandbox serve did not start:\n" + banner)
            banner += line
        url = re.search(r"ZBOOKS_SANDBOX_URL=(\S+)", banner)
        token = re.search(r"ZBOOKS_SANDBOX_TOKEN=(\S+)", banner)
        assert url and token
        env.update(ZBOOKS_SANDBOX_URL=url.group(1), ZBOOKS_SANDBOX_TOKEN=token.group(1))
        timings: list[float] = []
        cpu: list[float] = []
        output = ""
        for args in (["reset"], ["seed", "--invoices", "10000"]):
            started = time.perf_counter()
            before = _children_cpu() + _process_cpu(server.pid)
            done = subprocess.run(
                [ZBOOKS, "sandbox", *args], env=env, capture_output=True, text=True, check=False
            )
            timings.append(time.perf_counter() - started)
            cpu.append(_children_cpu() + _process_cpu(server.pid) - before)
            if done.returncode != 0 or "Traceback" in done.stderr:
                raise SystemExit(f"zbooks sandbox {' '.join(args)} failed:\n{done.stderr}")
            output = done.stdout.strip()
        return timings, cpu, output
    finally:
        server.terminate()
        server.wait(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tests", type=int, default=40)
    parser.add_argument("--resets", type=int, default=20)
    args = parser.parse_args()
    n = args.tests
    load_before = os.getloadavg()[0]

    one, one_cpu = run_pytest(FIXTURE_TEST, 1)
    many, many_cpu = run_pytest(FIXTURE_TEST, n)
    plain_one, plain_one_cpu = run_pytest(PLAIN_TEST, 1)
    plain_many, plain_many_cpu = run_pytest(PLAIN_TEST, n)
    per_test = (many - one) / (n - 1) * 1000
    per_test_cpu = (many_cpu - one_cpu) / (n - 1) * 1000
    plain_per_test_cpu = (plain_many_cpu - plain_one_cpu) / (n - 1) * 1000
    dirty, clean = reset_times(args.resets)
    (reset_s, seed_s), (reset_cpu, seed_cpu), seed_out = seed_commands()
    load_after = os.getloadavg()[0]

    verdict = "within" if per_test_cpu < BUDGET_MS else "OVER"
    seed_verdict = "within" if reset_cpu + seed_cpu < SEED_BUDGET_S else "OVER"
    body = textwrap.dedent(
        f"""\
        ## Testing fixture and control commands (`benchmarks/testing_fixture.py`)

        **Per test.** pytest on N generated tests that take `zbooks_sandbox` and create a
        contact through `zbooks_sandbox.client()`; the cost per test is (time of N tests -
        time of 1 test) / (N - 1), so the sandbox's start-up (paid once per session) is
        left out. CPU time (user + system of the pytest process, which runs the sandbox
        too) is the verdict: on this shared 2-core machine wall time mostly measures the
        other jobs. Budget: {BUDGET_MS:.0f} ms.

        | run | wall s | CPU s |
        |---|---:|---:|
        | 1 test with the fixture | {one:.2f} | {one_cpu:.2f} |
        | {n} tests with the fixture | {many:.2f} | {many_cpu:.2f} |
        | 1 plain test | {plain_one:.2f} | {plain_one_cpu:.2f} |
        | {n} plain tests | {plain_many:.2f} | {plain_many_cpu:.2f} |

        The fixture costs **{per_test_cpu:.1f} ms of CPU per test** ({per_test:.1f} ms wall),
        {verdict} the {BUDGET_MS:.0f} ms budget; a plain test costs {plain_per_test_cpu:.1f} ms.

        **Reset alone** (`Sandbox.reset()`: a token refresh, then the snapshot restore),
        {args.resets} runs, wall: median {statistics.median(dirty):.1f} ms
        (max {max(dirty):.1f}) after a test that wrote, median
        {statistics.median(clean):.1f} ms (max {max(clean):.1f}) after one that did not
        (nothing to copy).

        **Commands** against `zbooks sandbox serve` in another process:
        `zbooks sandbox reset` {reset_s:.2f} s wall ({reset_cpu:.2f} s CPU of command and
        sandbox), then `zbooks sandbox seed --invoices 10000` {seed_s:.2f} s wall
        ({seed_cpu:.2f} s CPU): together {reset_cpu + seed_cpu:.2f} s of CPU,
        {seed_verdict} the {SEED_BUDGET_S:.0f} s budget ({reset_s + seed_s:.2f} s wall).
        Its output: `{seed_out}`.

        Load average (1 min) on the shared 2-core machine: {load_before:.1f} before,
        {load_after:.1f} after.
        """
    )
    write_section("testing_fixture", body)
    print(body)


if __name__ == "__main__":
    main()
