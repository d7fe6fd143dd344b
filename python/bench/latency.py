#!/usr/bin/env python3
"""Publish-to-Python latency of shmsnap, in one run:

  * the C++ subscriber (shmsnap-subscriber; its p50/p99 summary at exit),
  * a Python subscriber handing out dicts (wait() + latest()),
  * a Python subscriber handing out numpy records (wait() + latest_array()),

all following one shmsnap-publisher topic (robot.pose, 424 bytes) at the same rate,
then a multiprocessing.Pipe baseline sending the same number of bytes at that rate.
Python latencies are CLOCK_MONOTONIC at the moment the dict/record exists minus the
publish timestamp (so they include decoding); "core" is the subscriber's own copy
(receive_ns - publish_ns).

  PYTHONPATH=build/release/python /usr/bin/python3 python/bench/latency.py --bin build/release/bin
"""
import argparse
import multiprocessing
import os
import pathlib
import re
import signal
import statistics
import subprocess
import sys
import time


def percentiles(samples_ns):
    ordered = sorted(samples_ns)
    if not ordered:
        return float("nan"), float("nan")
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e3  # noqa: E731
    return pick(0.50), pick(0.99)


def python_subscriber(topic, prefix, as_array, ready, done, results):
    import shmsnap
    latencies, core, calls = [], [], []
    with shmsnap.Subscriber(topic, prefix=prefix, id="py-numpy" if as_array else "py-dict") as sub:
        ready.set()
        while not done.is_set():
            if not sub._wait(0.2):
                continue
            before = time.monotonic_ns()
            value = sub.latest_array() if as_array else sub.latest()
            now = time.monotonic_ns()
            calls.append(now - before)
            info = sub.info
            if value is not None:
                latencies.append(now - info.publish_ns)
                core.append(info.receive_ns - info.publish_ns)
    results.put(("numpy" if as_array else "dict", latencies, core, calls))


def pipe_sender(connection, rate, count, size):
    payload = bytes(size)
    period = 1.0 / rate
    next_at = time.monotonic()
    for _ in range(count):
        next_at += period
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)  # paced like shmsnap-publisher, which sleeps between publishes
        connection.send_bytes(time.monotonic_ns().to_bytes(8, "little") + payload)
    connection.send_bytes(b"")
    connection.close()


def pipe_baseline(rate, count, size):
    receiver, sender = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.Process(target=pipe_sender, args=(sender, rate, count, size))
    process.start()
    sender.close()
    latencies = []
    while True:
        message = receiver.recv_bytes()
        if not message:
            break
        latencies.append(time.monotonic_ns() - int.from_bytes(message[:8], "little"))
    process.join()
    return latencies


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.environ.get("SHMSNAP_BIN_DIR", "build/release/bin"),
                        help="directory of shmsnap-publisher and shmsnap-subscriber")
    parser.add_argument("--rate", type=float, default=1000.0, help="publishes per second")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of publishing")
    args = parser.parse_args()
    bin_dir = pathlib.Path(args.bin)
    prefix = f"pybench{os.getpid()}"
    topic = "pose"

    publisher = subprocess.Popen([bin_dir / "shmsnap-publisher", "--topic", topic, "--schema", "robot.pose",
                                  "--rate", "0.5", "--prefix", prefix, "--log-level", "off"],
                                 stdout=subprocess.PIPE, text=True)
    publisher.stdout.readline()  # "ready ...": the topic exists
    # the slow publisher is only there so subscribers can attach; restart it at full rate
    # after they did, so every subscriber sees the whole run.
    cpp = subprocess.Popen([bin_dir / "shmsnap-subscriber", "--topic", topic, "--id", "cpp", "--prefix", prefix,
                            "--log-level", "off"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    done = context.Event()
    children = []
    for as_array in (False, True):
        ready = context.Event()
        child = context.Process(target=python_subscriber, args=(topic, prefix, as_array, ready, done, results))
        child.start()
        ready.wait(30)
        children.append(child)
    publisher.send_signal(signal.SIGTERM)
    publisher.wait()
    count = int(args.rate * args.duration)
    publisher = subprocess.run([bin_dir / "shmsnap-publisher", "--topic", topic, "--schema", "robot.pose",
                                "--rate", str(args.rate), "--count", str(count), "--prefix", prefix,
                                "--log-level", "off"], stdout=subprocess.DEVNULL, check=True)
    done.set()
    gathered = {}
    for _ in children:
        name, latencies, core, calls = results.get(timeout=60)
        gathered[name] = (latencies, core, calls)
    for child in children:
        child.join()
    cpp.send_signal(signal.SIGINT)
    _, cpp_err = cpp.communicate(timeout=30)
    match = re.search(r"(\d+) updates, latency p50 ([\d.]+) us, p99 ([\d.]+) us", cpp_err)

    pipe = pipe_baseline(args.rate, count, 424)

    print(f"robot.pose (424 B), {args.rate:.0f} publishes/s for {args.duration:.0f} s, "
          f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"{'path':<40} {'samples':>8} {'p50 us':>8} {'p99 us':>8}")
    if match:
        print(f"{'C++ shmsnap-subscriber':<40} {match.group(1):>8} {float(match.group(2)):>8.1f} "
              f"{float(match.group(3)):>8.1f}")
    for name in ("dict", "numpy"):
        latencies, core, _ = gathered[name]
        p50, p99 = percentiles(latencies)
        c50, c99 = percentiles(core)
        label = f"Python {'latest() -> dict' if name == 'dict' else 'latest_array() -> numpy'}"
        print(f"{label:<40} {len(latencies):>8} {p50:>8.1f} {p99:>8.1f}")
        print(f"{'  (its core copy, receive - publish)':<40} {len(core):>8} {c50:>8.1f} {c99:>8.1f}")
    p50, p99 = percentiles(pipe)
    print(f"{'multiprocessing.Pipe, same bytes':<40} {len(pipe):>8} {p50:>8.1f} {p99:>8.1f}")
    print(f"median cost of the call itself: latest() {statistics.median(gathered['dict'][2]) / 1e3:.1f} us, "
          f"latest_array() {statistics.median(gathered['numpy'][2]) / 1e3:.1f} us")


if __name__ == "__main__":
    main()
