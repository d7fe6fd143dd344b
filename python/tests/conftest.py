"""Shared fixtures of the shmsnap Python suite: a unique resource prefix per test
(checked empty in /dev/shm and /dev/mqueue afterwards), the real binaries from
$SHMSNAP_BIN_DIR, and processes that are always reaped. Conditions are awaited with
bounded deadlines, never fixed sleeps."""
import itertools
import json
import os
import pathlib
import queue
import signal
import subprocess
import threading
import time

import pytest

SOURCE_DIR = pathlib.Path(os.environ.get("SHMSNAP_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
BIN_DIR = pathlib.Path(os.environ.get("SHMSNAP_BIN_DIR", SOURCE_DIR / "build" / "bin"))
SCHEMA_DIR = SOURCE_DIR / "schemas"
TEST_SCHEMA_DIR = SOURCE_DIR / "tests" / "unit" / "schemas"
BUNDLED = {
    "market.quote_book": SCHEMA_DIR / "market_quote_book.toml",
    "robot.pose": SCHEMA_DIR / "robot_pose.toml",
    "service.health": SCHEMA_DIR / "service_health.toml",
}
ALL_TYPES = TEST_SCHEMA_DIR / "all_types.toml"
EVERY_SCHEMA = dict(BUNDLED, **{"shmsnap_test.all_types": ALL_TYPES})
DEADLINE_S = 20.0

_counter = itertools.count()


def wait_until(predicate, timeout=DEADLINE_S, what="condition"):
    """Polls `predicate` until it is truthy (returned) or `timeout` seconds pass (fails)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.005)


def leftovers(prefix):
    """Everything of `prefix` in /dev/shm and /dev/mqueue."""
    found = []
    for directory in ("/dev/shm", "/dev/mqueue"):
        if os.path.isdir(directory):
            found += [f"{directory}/{name}" for name in os.listdir(directory) if name.startswith(prefix + ":")]
    return found


@pytest.fixture
def prefix():
    """A prefix no other test (or run) uses; the test fails if it leaves resources behind."""
    name = f"pyt{os.getpid()}n{next(_counter)}"
    yield name
    # Processes are reaped before this runs; allow their exit a bounded moment.
    deadline = time.monotonic() + 5.0
    while leftovers(name) and time.monotonic() < deadline:
        time.sleep(0.01)
    left = leftovers(name)
    for path in left:  # clean up so later tests start clean, then report
        try:
            os.unlink(path)
        except OSError:
            pass
    assert left == [], f"resources left behind: {left}"


class Process:
    """A real binary whose stdout lines are collected by a reader thread."""

    def __init__(self, args, stdin_stops=False):
        self.stdin_stops = stdin_stops
        self.args = [str(arg) for arg in args]
        self.popen = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        self.stderr_lines = []
        threading.Thread(target=self._read, args=(self.popen.stdout, self.lines.put), daemon=True).start()
        threading.Thread(target=self._read, args=(self.popen.stderr, self.stderr_lines.append), daemon=True).start()

    @staticmethod
    def _read(stream, sink):
        for line in stream:
            sink(line.rstrip("\n"))

    def line_matching(self, predicate, timeout=DEADLINE_S):
        """The next stdout line for which predicate(line) is true."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"{self.args[0]}: no matching line within {timeout}s; stderr: {self.stderr_lines[-5:]}")
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if predicate(line):
                return line

    def json_matching(self, predicate, timeout=DEADLINE_S):
        def parse(line):
            try:
                value = json.loads(line)
            except ValueError:
                return None
            return value if predicate(value) else None
        return json.loads(self.line_matching(lambda line: parse(line) is not None, timeout))

    def stop(self, sig=signal.SIGTERM, timeout=DEADLINE_S):
        if self.popen.poll() is None:
            try:
                self.popen.stdin.close()
            except OSError:
                pass
            if self.stdin_stops:  # it exits cleanly at end of input
                try:
                    return self.popen.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    pass
            self.popen.send_signal(sig)
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait()


@pytest.fixture
def processes():
    """Starts binaries; every one is stopped (SIGTERM, then SIGKILL) after the test."""
    started = []

    def start(*args, stdin_stops=False):
        process = Process(args, stdin_stops)
        started.append(process)
        return process

    yield start
    for process in reversed(started):
        process.stop()


def binary(name):
    path = BIN_DIR / name
    if not path.exists():
        pytest.fail(f"{path} is missing: build it (cmake --build build --target {name})")
    return path


@pytest.fixture(scope="session")
def layouts():
    """offsetof/sizeof of every field of every schema, as the C++ compiler laid them out."""
    output = subprocess.run([str(binary("shmsnap-py-test-helper")), "layout"], check=True, capture_output=True,
                            text=True, timeout=DEADLINE_S).stdout
    return json.loads(output)
