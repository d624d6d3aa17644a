"""From `git clone` to `make run`'s first page, side by side: a commit before and this one.

Each run clones the repository into a new folder, runs `make run` there (its own ports, its own
SQLite file, the environment as it is: uv on PATH or not) and asks for the login page every
tenth of a second until it answers 200; then signs in with the demo login and opens the desk,
and waits for the demo activity the reports show. The commits take turns, the first one
alternating. Times are seconds from the clone's start; the phases come from the first line of
`make run`'s output that marks each. The machine may be shared: the load averages (1 minute)
at each run's start are printed and in the JSON.

    .venv/bin/python benchmarks/make_run_start.py --runs 3 --before 4fa33e7

Last line, JSON: `make_run_first_page_s` and `make_run_first_page_s_before` (medians),
`make_run_signed_in_s`(`_before`), `make_run_demo_activity_s`(`_before`), each phase's median
per commit, the load averages, and whether uv was on PATH.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import closing
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from processes import ROOT, free_port

# The first line of output that marks each phase, in the order they come.
PHASES = {
    "install_done": re.compile(r"manage\.py serve_demo"),
    "setup_demo": re.compile(r"^Demo customer accounts"),
    "banner": re.compile(r"Supportdesk: http"),
    "worker": re.compile(r"^Background worker"),
}
DEMO_USERNAME, DEMO_PASSWORD = "agent", "agent-demo-pass"
GIVE_UP_SECONDS = 300


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


class Output:
    """`make run`'s output, each line's arrival timed from `started`."""

    def __init__(self, process: subprocess.Popen, started: float, log: Path) -> None:
        self.marks: dict[str, float] = {}
        self._thread = threading.Thread(
            target=self._read, args=(process, started, log), daemon=True
        )
        self._thread.start()

    def _read(self, process: subprocess.Popen, started: float, log: Path) -> None:
        with log.open("w") as kept:
            for line in process.stdout:
                at = time.monotonic() - started
                kept.write(f"{at:7.2f} {line}")
                for phase, pattern in PHASES.items():
                    if phase not in self.marks and pattern.search(line):
                        self.marks[phase] = at


def wait_until(check, process: subprocess.Popen, what: str, log: Path) -> None:
    give_up = time.monotonic() + GIVE_UP_SECONDS
    while not check():
        if process.poll() is not None or time.monotonic() > give_up:
            raise SystemExit(f"{what}: never happened; see {log}")
        time.sleep(0.1)


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def sign_in(url: str) -> None:
    """The demo login through the login form, then the desk's home."""
    session = requests.Session()
    page = session.get(f"{url}/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
    home = session.post(
        f"{url}/login/",
        {"username": DEMO_USERNAME, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token},
        timeout=60,
    )
    if home.status_code != 200 or "/login/" in home.url:
        raise SystemExit(f"the demo login did not sign in at {url} ({home.status_code})")


def demo_activity(database: Path) -> bool:
    try:
        with closing(sqlite3.connect(database, timeout=5)) as demo:
            found = demo.execute("SELECT 1 FROM lookups_lookup WHERE order_id LIKE 'DEMO%' LIMIT 1")
            return found.fetchone() is not None
    except sqlite3.Error:
        return False


def one_run(commit: str, source: str, scratch: Path, label: str) -> dict[str, float]:
    clone = scratch / f"clone-{label}"
    log = scratch / f"make-run-{label}.log"
    port = free_port()
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "VIRTUAL_ENV", "REDIS_URL", "CACHE_URL"}
    }
    environment.update(
        APPSTORE_SIMULATOR_PORT=str(free_port()),
        ADAPTY_SIMULATOR_PORT=str(free_port()),
        PYTHONUNBUFFERED="1",  # each line as it is written, for the phases' times
    )
    load = os.getloadavg()[0]
    started = time.monotonic()
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", source, str(clone)], check=True)
    git("checkout", "--quiet", commit, cwd=clone)
    process = subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=clone,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output = Output(process, started, log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: answers(f"{url}/login/"), process, "the first page", log)
        first_page = time.monotonic() - started
        sign_in(url)
        signed_in = time.monotonic() - started
        wait_until(lambda: demo_activity(clone / "db.sqlite3"), process, "the demo activity", log)
        activity = time.monotonic() - started
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        shutil.rmtree(clone, ignore_errors=True)
    return {
        **{phase: round(at, 2) for phase, at in output.marks.items()},
        "first_page": round(first_page, 2),
        "signed_in": round(signed_in, 2),
        "demo_activity": round(activity, 2),
        "load": load,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", default="4fa33e7", help="the commit to compare with")
    parser.add_argument("--after", default="HEAD", help="the commit measured")
    arguments = parser.parse_args()
    source = str(Path(git("rev-parse", "--path-format=absolute", "--git-common-dir")))
    commits = {
        "before": git("rev-parse", arguments.before),
        "after": git("rev-parse", arguments.after),
    }
    results: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory(prefix="make-run-start-") as directory:
        scratch = Path(directory)
        for run in range(arguments.runs):
            order = ["before", "after"] if run % 2 == 0 else ["after", "before"]
            for which in order:
                result = one_run(commits[which], source, scratch, f"{which}-{run}")
                results[which].append(result)
                print(f"run {run + 1} {which} {commits[which][:7]}: {json.dumps(result)}")
    summary: dict[str, object] = {}
    for which, suffix in (("after", ""), ("before", "_before")):
        runs = results[which]
        for key, name in (
            ("first_page", "make_run_first_page_s"),
            ("signed_in", "make_run_signed_in_s"),
            ("demo_activity", "make_run_demo_activity_s"),
        ):
            summary[name + suffix] = round(statistics.median(r[key] for r in runs), 2)
        summary["phases" + suffix] = {
            phase: round(statistics.median(r[phase] for r in runs if phase in r), 2)
            for phase in PHASES
            if any(phase in r for r in runs)
        }
    loads = [r["load"] for runs in results.values() for r in runs]
    summary.update(
        load_avg_1min_min=round(min(loads), 2),
        load_avg_1min_max=round(max(loads), 2),
        uv_on_path=shutil.which("uv") is not None,
        pythondontwritebytecode=bool(os.environ.get("PYTHONDONTWRITEBYTECODE")),
        runs=arguments.runs,
        before=commits["before"][:7],
        after=commits["after"][:7],
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
