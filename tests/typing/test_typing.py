"""User-style scripts under ``mypy --strict``: what must pass passes, and every mistake
in the must-fail scripts is reported where and as expected.

One mypy run covers all scripts plus the Python examples of every docs page and the
README (each page's blocks extracted in order into one module, the way the docs tests
run them); its cache lives in the system temp folder, so only the first run of a
session analyses the whole package.
"""

from __future__ import annotations

import re
import tempfile
import textwrap
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SCRIPTS = HERE / "scripts"
DOCS = REPO / "docs"
CACHE = Path(tempfile.gettempdir()) / "zbooks-typing-mypy-cache"
_BLOCK = re.compile(r"^[ \t]*```python\n(.*?)^[ \t]*```", re.S | re.M)
PAGES = [REPO / "README.md", *sorted(DOCS.glob("*.md"))]
_EXPECT = re.compile(r"# E: (.+?)\s*$")
_ERROR = re.compile(r"^(?P<path>.+?):(?P<line>\d+): error: (?P<message>.*)$")
ALIASES = {"DICT_BODY": 'expected "CreateInvoiceRequest | CreateInvoiceRequestDict | None"'}


def docs_script(page: Path, folder: Path) -> Path | None:
    """Every Python block of ``page`` (also those its docs test does not run), in order;
    blocks inside list items are dedented as a reader would paste them."""
    blocks = [textwrap.dedent(b) for b in _BLOCK.findall(page.read_text("utf-8"))]
    if not blocks:
        return None
    target = folder / f"docs_{page.stem.lower().replace('-', '_')}.py"
    target.write_text("\n".join(blocks), "utf-8")
    return target


def expectations(script: Path) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for number, line in enumerate(script.read_text("utf-8").splitlines(), start=1):
        match = _EXPECT.search(line)
        if match:
            fragment = match.group(1)
            found.setdefault(number, []).append(ALIASES.get(fragment, fragment))
    return found


@pytest.fixture(scope="module")
def mypy_errors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[int, str]]]:
    folder = tmp_path_factory.mktemp("typing")
    config = folder / "mypy.ini"
    # A user's config: strict, plus the one line every Celery user writes (Celery ships
    # no type information; docs/fleet.md imports it).
    config.write_text(
        f"[mypy]\nstrict = True\npython_version = 3.11\nmypy_path = {REPO / 'src'}\n"
        "[mypy-celery.*]\nignore_missing_imports = True\n",
        "utf-8",
    )
    docs = [docs_script(page, folder) for page in PAGES]
    files = [*sorted(SCRIPTS.glob("*.py")), *(d for d in docs if d is not None)]
    stdout, stderr, status = mypy_api.run(
        [
            "--config-file",
            str(config),
            "--cache-dir",
            str(CACHE),
            "--no-error-summary",
            "--hide-error-context",
            "--no-pretty",
            *map(str, files),
        ]
    )
    assert status in (0, 1), f"mypy crashed: {stderr}{stdout}"
    errors: dict[str, list[tuple[int, str]]] = {}
    for line in stdout.splitlines():
        match = _ERROR.match(line)
        if match:
            name = Path(match["path"]).name
            errors.setdefault(name, []).append((int(match["line"]), match["message"]))
    return errors


def must_pass() -> list[str]:
    pages = [
        f"docs_{p.stem.lower().replace('-', '_')}.py"
        for p in PAGES
        if _BLOCK.search(p.read_text("utf-8"))
    ]
    return [*sorted(p.name for p in SCRIPTS.glob("pass_*.py")), *pages]


def test_the_docs_examples_are_found() -> None:
    assert len(_BLOCK.findall((DOCS / "sdk.md").read_text("utf-8"))) >= 15
    assert "docs_sdk.py" in must_pass() and "docs_readme.py" in must_pass()


def must_fail() -> list[str]:
    return sorted(p.name for p in SCRIPTS.glob("fail_*.py"))


@pytest.mark.parametrize("name", must_pass())
def test_must_pass_scripts_type_check(
    name: str, mypy_errors: dict[str, list[tuple[int, str]]]
) -> None:
    assert mypy_errors.get(name, []) == []


@pytest.mark.parametrize("name", must_fail())
def test_must_fail_scripts_report_each_expected_error(
    name: str, mypy_errors: dict[str, list[tuple[int, str]]]
) -> None:
    expected = expectations(SCRIPTS / name)
    assert len(expected) >= 5, "a must-fail script without expectations proves nothing"
    reported = mypy_errors.get(name, [])
    for line, fragments in expected.items():
        messages = [message for number, message in reported if number == line]
        for fragment in fragments:
            assert any(fragment in message for message in messages), (
                f"{name}:{line}: expected an error with {fragment!r}, mypy said {messages}"
            )
    unexpected = [(n, msg) for n, msg in reported if n not in expected]
    assert unexpected == [], f"{name}: errors on lines without an expectation"
