"""Status events reach Python as they happen (a killed or stopped publisher process
ends a wait() at once, off and on the main thread), wait() stays interruptible, and
values are checked the way the docs promise: enums, huge ints, non-finite floats,
f32 range, and stats() carrying every counter of the C++ structs."""
import math
import pathlib
import re
import signal
import threading
import time

import pytest

import shmsnap
from conftest import ALL_TYPES, BUNDLED, SOURCE_DIR, binary, wait_until

POSE = BUNDLED["robot.pose"]
HEALTH = BUNDLED["service.health"]
# Far beyond the ~25 ms the C++ subscriber needs, far below the waits' own timeouts:
# only a wait that ignores the event runs into it.
EVENT_BOUND_S = 30.0


def start_publisher(processes, prefix, topic, rate="50"):
    publisher = processes(binary("shmsnap-publisher"), "--topic", topic, "--schema", "robot.pose", "--rate", rate,
                          "--prefix", prefix, "--log-level", "off")
    publisher.line_matching(lambda line: line.startswith("ready "))
    return publisher


def take_over(prefix, topic, thread=None):
    """A successor publisher removes what a killed one left in /dev/shm and /dev/mqueue.
    Its publish also ends a wait() that missed the loss, so a failing test ends: it
    stays up until `thread` is done (bounded)."""
    with shmsnap.Publisher(topic, schema=POSE, prefix=prefix) as successor:
        successor.publish({"frame_id": "successor"})
        if thread is not None:
            thread.join(timeout=EVENT_BOUND_S)


@pytest.mark.parametrize("mode", ["notify", "spin", "hybrid"])
def test_worker_thread_in_wait_forever_sees_publisher_lost_when_the_publisher_is_killed(prefix, processes, mode):
    publisher = start_publisher(processes, prefix, "killed")
    sub = shmsnap.Subscriber("killed", prefix=prefix, mode=mode)
    events = []
    lost = threading.Event()

    def on_status(event, info):
        events.append(event)
        if event == "publisher_lost":
            lost.set()

    sub.on_status(on_status)
    returns = []

    def worker():
        while not lost.is_set():
            returns.append(sub.wait(None))  # updates at 50/s, then the loss

    thread = threading.Thread(target=worker, daemon=True)  # daemon: a hung wait cannot block the exit
    thread.start()
    try:
        wait_until(lambda: len(returns) >= 2, what="updates in the worker thread")
        publisher.popen.send_signal(signal.SIGKILL)
        publisher.popen.wait(timeout=EVENT_BOUND_S)
        seen = lost.wait(timeout=EVENT_BOUND_S)
        take_over(prefix, "killed", thread)
        assert seen, f"wait(None) in a worker thread did not report publisher_lost within {EVENT_BOUND_S}s"
        assert not thread.is_alive()
        assert returns[-1] is None  # the wait that saw the loss delivered nothing
        assert events[0] == "publisher_lost" and sub.stale
    finally:
        if not thread.is_alive():  # close() would wait for a hung wait()
            sub.close()


@pytest.mark.parametrize("mode", ["notify", "spin", "hybrid"])
def test_wait_with_a_long_timeout_returns_at_publisher_lost_not_at_its_deadline(prefix, processes, mode):
    publisher = start_publisher(processes, prefix, "deadline", rate="1")
    events = []
    with shmsnap.Subscriber("deadline", prefix=prefix, mode=mode) as sub:
        sub.on_status(lambda event, info: events.append(event))
        publisher.popen.send_signal(signal.SIGKILL)
        publisher.popen.wait(timeout=EVENT_BOUND_S)
        killed = time.monotonic()
        timeout = 3 * EVENT_BOUND_S
        result = "not called"
        while "publisher_lost" not in events and time.monotonic() - killed < timeout:
            result = sub.wait(timeout=timeout)  # maybe one last update first, then the loss
        took = time.monotonic() - killed
        take_over(prefix, "deadline")
        assert "publisher_lost" in events
        assert took < EVENT_BOUND_S, f"wait({timeout}) reported publisher_lost only after {took:.1f}s"
        assert result is None and sub.stale


@pytest.mark.parametrize("mode", ["notify", "spin", "hybrid"])
def test_a_stopped_publisher_reports_stalled_then_resumed_to_a_worker_in_wait_forever(prefix, processes, mode):
    publisher = start_publisher(processes, prefix, "stopped", rate="20")
    events = []
    stalled = threading.Event()
    resumed = threading.Event()

    def on_status(event, info):
        events.append(event)
        {"publisher_stalled": stalled, "publisher_resumed": resumed}.get(event, threading.Event()).set()

    with shmsnap.Subscriber("stopped", prefix=prefix, mode=mode) as sub:
        sub.on_status(on_status)
        staleness = []

        def worker():
            while not stalled.is_set():
                sub.wait(None)
            staleness.append(sub.stale)
            while not resumed.is_set():
                sub.wait(None)

        thread = threading.Thread(target=worker, daemon=True)
        thread.start()
        publisher.popen.send_signal(signal.SIGSTOP)
        try:
            seen = stalled.wait(timeout=EVENT_BOUND_S)  # the stall timeout is 2 s
        finally:
            publisher.popen.send_signal(signal.SIGCONT)  # its publishes also end a wait that missed the stall
        assert resumed.wait(timeout=EVENT_BOUND_S)
        thread.join(timeout=EVENT_BOUND_S)
        assert not thread.is_alive()
        assert seen, f"wait(None) in a worker thread did not report publisher_stalled within {EVENT_BOUND_S}s"
        assert staleness == [True]
        assert events == ["publisher_stalled", "publisher_resumed"] and not sub.stale


class Interrupted(Exception):
    pass


def test_wait_forever_on_the_main_thread_is_interrupted_by_a_signal(prefix):
    def handler(signum, frame):
        raise Interrupted()

    previous = signal.signal(signal.SIGALRM, handler)
    with shmsnap.Publisher("quiet", schema=POSE, prefix=prefix) as pub, \
            shmsnap.Subscriber("quiet", prefix=prefix) as sub:
        # Should the signal be ignored, a publish ends the wait so the test fails instead of hanging.
        fallback = threading.Timer(EVENT_BOUND_S, lambda: pub.publish({}))
        fallback.start()
        try:
            signal.setitimer(signal.ITIMER_REAL, 0.3)
            started = time.monotonic()
            with pytest.raises(Interrupted):
                sub.wait(None)
            assert time.monotonic() - started < EVENT_BOUND_S
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            fallback.cancel()
            fallback.join()


@pytest.mark.parametrize("schema, value, field, defined", [
    (HEALTH, {"status": 99}, "status", "starting = 0"),
    (ALL_TYPES, {"mode": 5}, "mode", "reverse = -1"),
    (ALL_TYPES, {"modes": [0, -2]}, "modes[1]", "forward = 1"),
    (ALL_TYPES, {"big": 2}, "big", "huge = 9223372036854775807"),
])
def test_an_undefined_enum_number_is_refused_naming_the_field_and_the_values(prefix, schema, value, field, defined):
    with shmsnap.Publisher("enums", schema=schema, prefix=prefix) as pub:
        with pytest.raises(ValueError) as caught:
            pub.publish(value)
        assert field in str(caught.value) and defined in str(caught.value)
        assert pub.last_seq == 0
        # the defined numbers and names still publish
        pub.publish({"status": 2} if schema == HEALTH else {"mode": -1, "modes": [1, "idle"], "big": 1})
        assert pub.last_seq == 1


@pytest.mark.parametrize("field, sign, digits, type_name", [
    ("f64v", 1, 400, "f64"),
    ("f32v", -1, 400, "f32"),
    ("i64v", 1, 400, "i64"),
    ("mode", 1, 400, "enum Mode (i8)"),
    ("text", 1, 400, "char[5]"),
    ("f64v", 1, 5000, "f64"),  # beyond Python's own int -> str limit
])
def test_a_huge_int_is_refused_with_the_fields_type_and_a_short_message(prefix, field, sign, digits, type_name):
    value = sign * 10 ** (digits - 1)
    with shmsnap.Publisher("huge", schema=ALL_TYPES, prefix=prefix) as pub:
        with pytest.raises(ValueError) as caught:
            pub.publish({field: value})
        message = str(caught.value)
        assert field in message and f"out of range for {type_name}" in message, message
        assert "integer field" not in message
        assert len(message) < 200, message
        assert pub.last_seq == 0


def test_an_int_beyond_64_bits_publishes_into_a_float_field(prefix):
    with shmsnap.Publisher("wide", schema=ALL_TYPES, prefix=prefix) as pub, \
            shmsnap.Subscriber("wide", prefix=prefix) as sub:
        pub.publish({"f64v": 10 ** 30, "floats": [2 ** 70, 1]})
        update = sub.wait(timeout=10)
        assert update.data["f64v"] == 1e30 and update.data["floats"][0] == float(2 ** 70)


def test_non_finite_floats_come_back_as_floats_and_text_stays_text(prefix):
    with shmsnap.Publisher("nan", schema=ALL_TYPES, prefix=prefix) as pub, \
            shmsnap.Subscriber("nan", prefix=prefix) as sub:
        pub.publish({"f64v": float("nan"), "f32v": float("-inf"), "matrix": [[float("inf"), 0, 1], [2, 3, 4]],
                     "text": "NaN", "names": ["inf", "a", "b"]})
        data = sub.wait(timeout=10).data
        assert isinstance(data["f64v"], float) and math.isnan(data["f64v"])
        assert data["f32v"] == float("-inf") and data["matrix"][0][0] == float("inf")
        assert data["text"] == "NaN" and data["names"][0] == "inf"
        dumped = shmsnap.dump("nan", prefix=prefix)["data"]
        assert math.isnan(dumped["f64v"]) and dumped["f32v"] == float("-inf")


@pytest.mark.parametrize("value", [1e39, -1e39, 3.5e38])
def test_a_finite_value_beyond_f32_is_refused(prefix, value):
    with shmsnap.Publisher("f32", schema=ALL_TYPES, prefix=prefix) as pub:
        with pytest.raises(ValueError) as caught:
            pub.publish({"f32v": value})
        assert "f32v" in str(caught.value)
        assert pub.last_seq == 0
        # the largest f32 and the non-finite values are stored as given
        pub.publish({"f32v": 3.4028234663852886e38, "floats": [float("inf"), float("nan")]})
        assert pub.last_seq == 1


def cpp_struct_fields(struct):
    """The member names of `struct` in lib/include/shmsnap, the C++ source of truth."""
    for header in (SOURCE_DIR / "lib" / "include" / "shmsnap").glob("*.hpp"):
        body = re.search(r"struct " + struct + r" \{(.*?)\n\};", header.read_text(), re.S)
        if body:
            return re.findall(r"^\s*std::uint64_t (\w+) = 0;", body.group(1), re.M)
    pytest.fail(f"struct {struct} not found in lib/include/shmsnap")


def pyi_typed_dict_fields(name):
    stub = (pathlib.Path(shmsnap.__file__).parent / "_shmsnap.pyi").read_text()
    body = re.search(r"class " + name + r"\(TypedDict\):\n((?:    .*\n)+)", stub)
    assert body, f"{name} missing from _shmsnap.pyi"
    return re.findall(r"^    (\w+): int$", body.group(1), re.M)


def test_stats_dicts_carry_every_counter_of_the_cpp_structs(prefix):
    subscriber_fields = cpp_struct_fields("SubscriberStats")
    publisher_fields = cpp_struct_fields("PublisherStats")
    assert {"contended", "inconsistent"} <= set(subscriber_fields)
    assert list(shmsnap.SUBSCRIBER_STATS_FIELDS) == subscriber_fields
    assert list(shmsnap.PUBLISHER_STATS_FIELDS) == publisher_fields
    assert pyi_typed_dict_fields("SubscriberStats") == subscriber_fields
    assert pyi_typed_dict_fields("PublisherStats") == publisher_fields
    with shmsnap.Publisher("stats", schema=POSE, prefix=prefix) as pub, \
            shmsnap.Subscriber("stats", prefix=prefix) as sub:
        pub.publish({})
        sub.wait(timeout=10)
        assert list(sub.stats) == subscriber_fields
        assert sub.stats["delivered"] == 1 and sub.stats["inconsistent"] == 0
        assert list(pub.stats) == publisher_fields
