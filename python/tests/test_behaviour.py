"""Behaviour of shmsnap.Subscriber / Publisher inside one Python process: errors and
their families, refused values, loans, the GIL while waiting, asyncio delivery,
status callbacks and cleanup."""
import asyncio
import gc
import threading

import pytest

import shmsnap
from conftest import ALL_TYPES, BUNDLED, SCHEMA_DIR, TEST_SCHEMA_DIR, leftovers, wait_until

POSE = BUNDLED["robot.pose"]
POINT_CLOUD = SCHEMA_DIR / "point_cloud.toml"


def test_missing_topic_raises_not_found_with_the_cpp_message(prefix):
    with pytest.raises(shmsnap.NotFound) as caught:
        shmsnap.Subscriber("absent", prefix=prefix)
    assert caught.value.code == "not_found"
    assert "absent" in str(caught.value)
    assert isinstance(caught.value, shmsnap.Error)


def test_second_publisher_of_a_topic_raises_busy(prefix):
    with shmsnap.Publisher("one", schema=POSE, prefix=prefix):
        with pytest.raises(shmsnap.Busy) as caught:
            shmsnap.Publisher("one", schema=POSE, prefix=prefix)
        assert str(caught.value)


def test_wrong_schema_raises_schema_mismatch_naming_the_field(prefix):
    with shmsnap.Publisher("typed", schema=ALL_TYPES, prefix=prefix):
        with pytest.raises(shmsnap.SchemaMismatch) as caught:
            shmsnap.Subscriber("typed", prefix=prefix, schema=TEST_SCHEMA_DIR / "all_types_changed.toml")
        assert "f32v" in str(caught.value)
        # the matching schema attaches
        with shmsnap.Subscriber("typed", prefix=prefix, schema=ALL_TYPES) as sub:
            assert sub.schema["name"] == "shmsnap_test.all_types"


def test_bad_schema_file_is_refused_with_the_compiler_diagnostic(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x.y"\nversion = 1\n[[field]]\nname = "price"\ntype = "f65"\n')
    with pytest.raises(shmsnap.InvalidArgument) as caught:
        shmsnap.compile_schema(bad)
    assert "price" in str(caught.value) and "f65" in str(caught.value)
    with pytest.raises(shmsnap.NotFound):
        shmsnap.compile_schema(tmp_path / "missing.toml")


@pytest.mark.parametrize("value, field", [
    ({"nonexistent": 1}, "nonexistent"),
    ({"u8v": 300}, "u8v"),
    ({"i8v": -129}, "i8v"),
    ({"i32v": "seven"}, "i32v"),
    ({"text": "toolong"}, "text"),
    ({"outer": {"tag": "abcd"}}, "tag"),
    ({"matrix": [[1.0, 2.0]]}, "matrix"),
    ({"mode": "sideways"}, "mode"),
    ({"f64v": object()}, "f64v"),
    ({"u64v": 2 ** 70}, "u64v"),
])
def test_bad_dict_raises_value_error_naming_the_field_and_publishes_nothing(prefix, value, field):
    with shmsnap.Publisher("checked", schema=ALL_TYPES, prefix=prefix) as pub:
        with shmsnap.Subscriber("checked", prefix=prefix) as sub:
            good = pub.publish({"tail": 1})
            assert sub.wait(timeout=10).info.seq == good
            with pytest.raises(ValueError) as caught:
                pub.publish(value)
            assert isinstance(caught.value, shmsnap.InvalidArgument)
            assert field in str(caught.value)
            assert pub.last_seq == good
            assert shmsnap.dump("checked", prefix=prefix)["seq"] == good
            assert sub.poll() is None
            assert sub.latest()["tail"] == 1


def test_numpy_record_publishes_and_wrong_dtype_is_refused(prefix):
    with shmsnap.Publisher("rec", schema=POSE, prefix=prefix) as pub, \
            shmsnap.Subscriber("rec", prefix=prefix) as sub:
        import numpy
        record = numpy.zeros((), dtype=pub.dtype)
        record["position"]["y"] = 4.0
        record["frame_id"] = b"odom"
        seq = pub.publish(record)
        update = sub.wait(timeout=10)
        assert update.info.seq == seq
        assert update.data["position"]["y"] == 4.0 and update.data["frame_id"] == "odom"
        with pytest.raises(ValueError):
            pub.publish(numpy.zeros(3, dtype=numpy.float64))
        assert pub.last_seq == seq


def test_bounded_sequence_shows_only_the_points_in_use(prefix):
    with shmsnap.Publisher("cloud", schema=POINT_CLOUD, prefix=prefix) as pub, \
            shmsnap.Subscriber("cloud", prefix=prefix) as sub:
        points = [{"x": float(i), "y": 0.0, "z": 0.0, "intensity": 1.0} for i in range(3)]
        seq = pub.publish({"frame_id": "lidar", "points": points})
        update = sub.wait(timeout=10)
        assert update.info.seq == seq
        assert update.data["point_count"] == 3
        assert [p["x"] for p in update.data["points"]] == [0.0, 1.0, 2.0]
        record = sub.latest_array()
        assert record["point_count"] == 3 and record["points"][2]["x"] == 2.0
        assert not record["points"][3:].tobytes().strip(b"\0")  # past the count: zero, never garbage
        with pytest.raises(ValueError, match="at most 65536 elements"):
            pub.publish({"points": [{}] * 65537})



def test_subscriber_sees_the_used_length_and_a_bounded_sequence_publish_copies_only_its_used_part(prefix):
    import numpy
    with shmsnap.Publisher("used", schema=POINT_CLOUD, prefix=prefix) as pub, \
            shmsnap.Subscriber("used", prefix=prefix) as sub:
        header = pub.dtype.fields["points"][1]  # the fields before the sequence: 44 bytes
        point = pub.dtype["points"].base.itemsize
        assert (header, point) == (44, 16)
        points = [{"x": float(i), "y": 1.0, "z": 2.0, "intensity": 3.0} for i in range(10)]

        def used_after(publish):
            seq = publish()
            update = sub.wait(timeout=10)
            assert update is not None and update.info.seq == seq
            assert "used_bytes=" in repr(update.info)
            return update.info.used_bytes

        # A dict: the count its points give; only those elements are written.
        assert used_after(lambda: pub.publish({"frame_id": "lidar", "points": points})) == header + 10 * point
        assert used_after(lambda: pub.publish({"points": points[:2]})) == header + 2 * point
        record = sub.latest_array()
        assert record["point_count"] == 2 and record["points"][1]["x"] == 1.0
        assert not record["points"][2:].tobytes().strip(b"\0")  # the older 10 points never came along
        assert used_after(lambda: pub.publish({})) == header  # no points: the fields before them
        # A numpy record: its count field decides, whatever its elements past it hold.
        value = numpy.zeros((), dtype=pub.dtype)
        value["points"]["x"] = 7.0
        value["point_count"] = 5
        assert used_after(lambda: pub.publish(value)) == header + 5 * point
        assert not sub.latest_array()["points"][5:].tobytes().strip(b"\0")

        def loan_of_one():
            with pub.loan(clear=False) as snapshot:
                snapshot["point_count"] = 1
                snapshot["points"][0]["x"] = 9.0
            return pub.last_seq

        assert used_after(loan_of_one) == header + point
        latest = sub.latest()
        assert latest["point_count"] == 1 and [p["x"] for p in latest["points"]] == [9.0]

    # A schema without a bounded sequence: every publish is the whole snapshot.
    with shmsnap.Publisher("whole", schema=POSE, prefix=prefix) as pub, \
            shmsnap.Subscriber("whole", prefix=prefix) as sub:
        seq = pub.publish({})
        update = sub.wait(timeout=10)
        assert update.info.seq == seq and update.info.used_bytes == pub.dtype.itemsize

def test_loan_publishes_on_exit_and_aborts_on_exception(prefix):
    with shmsnap.Publisher("loan", schema=POSE, prefix=prefix) as pub, \
            shmsnap.Subscriber("loan", prefix=prefix) as sub:
        with pub.loan() as snapshot:
            snapshot["position"]["x"] = 2.5
            snapshot["covariance"][1, 1] = 9.0
        update = sub.wait(timeout=10, as_array=True)
        assert update.info.seq == 1
        assert update.data["position"]["x"] == 2.5 and update.data["covariance"][1, 1] == 9.0
        with pytest.raises(RuntimeError):
            with pub.loan() as snapshot:
                snapshot["position"]["x"] = -1.0
                raise RuntimeError("abandon")
        assert pub.last_seq == 1
        assert sub.poll() is None
        assert sub.latest()["position"]["x"] == 2.5
        with pytest.raises(ValueError):
            with pub.loan():
                pub.publish({})  # one writer at a time: a loan is open
        assert pub.last_seq == 1


def test_wait_releases_the_gil(prefix):
    with shmsnap.Publisher("gil", schema=POSE, prefix=prefix) as pub, \
            shmsnap.Subscriber("gil", prefix=prefix) as sub:
        entered = threading.Event()
        result = {}

        def waiter():
            entered.set()
            result["update"] = sub.wait(timeout=20)  # one blocking call off the main thread

        thread = threading.Thread(target=waiter)
        thread.start()
        entered.wait(timeout=10)
        # The main thread runs Python while the waiter blocks; had wait() kept the GIL,
        # nothing below would run until its 20 s ran out, and it would return None.
        progress = 0
        while progress < 100000:
            progress += 1
        assert thread.is_alive()
        seq = pub.publish({"frame_id": "wake"})
        thread.join(timeout=30)
        assert not thread.is_alive()
        assert result["update"] is not None and result["update"].info.seq == seq


def test_iteration_and_asyncio_deliver_updates(prefix):
    with shmsnap.Publisher("iter", schema=POSE, prefix=prefix) as pub, \
            shmsnap.Subscriber("iter", prefix=prefix) as sub:
        pub.publish({"stamp": {"sec": 1}})
        first = next(iter(sub))
        assert first.data["stamp"]["sec"] == 1

        async def consume():
            seen = []
            loop = asyncio.get_running_loop()
            loop.call_soon(pub.publish, {"stamp": {"sec": 2}})
            async for update in sub.updates():
                seen.append(update.data["stamp"]["sec"])
                if update.data["stamp"]["sec"] == 2:
                    loop.call_soon(pub.publish, {"stamp": {"sec": 3}})
                if update.data["stamp"]["sec"] == 3:
                    return seen

        seen = asyncio.run(asyncio.wait_for(consume(), timeout=20))
        assert seen[-2:] == [2, 3]


def pump_until(sub, condition, what):
    """Runs the subscriber (wait() delivers updates and status events) until condition()."""
    def step():
        sub.wait(timeout=0.05)
        return condition()
    wait_until(step, what=what)


def test_status_callbacks_report_publisher_lost_and_reattached(prefix):
    events = []
    pub = shmsnap.Publisher("status", schema=POSE, prefix=prefix)
    pub.publish({"stamp": {"sec": 1}})
    with shmsnap.Subscriber("status", prefix=prefix) as sub:
        sub.on_status(lambda event, info: events.append(event))
        pub.close()
        pump_until(sub, lambda: "publisher_lost" in events, "publisher_lost")
        assert sub.stale and sub.latest()["stamp"]["sec"] == 1  # the last good state is kept
        with shmsnap.Publisher("status", schema=POSE, prefix=prefix) as successor:
            successor.publish({"stamp": {"sec": 2}})
            pump_until(sub, lambda: "reattached" in events, "reattached")
            pump_until(sub, lambda: sub.latest()["stamp"]["sec"] == 2, "the successor's snapshot")
            assert not sub.stale
            assert events == ["publisher_lost", "reattached"]


def test_nothing_left_after_del_or_with(prefix):
    pub = shmsnap.Publisher("clean", schema=POSE, prefix=prefix)
    sub = shmsnap.Subscriber("clean", prefix=prefix, id="gone")
    assert f"/dev/mqueue/{prefix}:clean:sub:gone" in leftovers(prefix)
    del sub
    gc.collect()
    assert f"/dev/mqueue/{prefix}:clean:sub:gone" not in leftovers(prefix)
    with shmsnap.Subscriber("clean", prefix=prefix, id="scoped") as scoped:
        assert scoped.id == "scoped"
    assert f"/dev/mqueue/{prefix}:clean:sub:scoped" not in leftovers(prefix)
    with pytest.raises(ValueError):
        scoped.latest()  # closed
    del pub
    gc.collect()
    assert leftovers(prefix) == []
    with shmsnap.Publisher("clean", schema=POSE, prefix=prefix):
        assert leftovers(prefix)
    assert leftovers(prefix) == []


def test_fileno_is_pollable_and_info_is_filled(prefix):
    import selectors
    with shmsnap.Publisher("sel", schema=POSE, prefix=prefix) as pub, \
            shmsnap.Subscriber("sel", prefix=prefix) as sub:
        selector = selectors.DefaultSelector()
        selector.register(sub, selectors.EVENT_READ)
        seq = pub.publish({})
        assert selector.select(timeout=20), "the descriptor never became readable"
        update = wait_until(lambda: sub.poll(), what="poll() delivering")
        assert update.info.seq == seq and update.info.epoch == pub.epoch
        assert update.info.receive_ns >= update.info.publish_ns > 0
        assert update.info.skipped == 0 and update.info.stale is False
        selector.close()


def test_help_and_errors_are_documented():
    assert "GIL" in shmsnap.Subscriber.wait.__doc__
    assert "ValueError" in shmsnap.Publisher.publish.__doc__
    assert issubclass(shmsnap.TimedOut, TimeoutError) and issubclass(shmsnap.SchemaMismatch, shmsnap.Error)


@pytest.mark.parametrize("mode", ["spin", "hybrid"])
def test_spin_and_hybrid_modes_deliver(prefix, mode):
    with shmsnap.Publisher("modes", schema=POSE, prefix=prefix) as pub, \
            shmsnap.Subscriber("modes", prefix=prefix, mode=mode) as sub:
        seq = pub.publish({"stamp": {"nanosec": 5}})
        update = wait_until(lambda: sub.wait(timeout=0.5), what=f"an update in {mode} mode")
        assert update.info.seq == seq and update.data["stamp"]["nanosec"] == 5


def test_bad_mode_and_bad_topic_name_are_value_errors(prefix):
    with shmsnap.Publisher("named", schema=POSE, prefix=prefix):
        with pytest.raises(ValueError, match="mode"):
            shmsnap.Subscriber("named", prefix=prefix, mode="sometimes")
    with pytest.raises(ValueError, match="topic"):
        shmsnap.Publisher("no/slash", schema=POSE, prefix=prefix)


def test_dump_before_the_first_publish_has_no_data(prefix):
    with shmsnap.Publisher("empty", schema=POSE, prefix=prefix) as pub:
        dumped = shmsnap.dump("empty", prefix=prefix)
        assert dumped["seq"] == 0 and dumped["data"] is None and dumped["schema"] == "robot.pose"
        with shmsnap.Subscriber("empty", prefix=prefix) as sub:
            assert sub.latest() is None and sub.latest_array() is None and not sub.has_value
        pub.publish({"frame_id": "first"})
        assert shmsnap.dump("empty", prefix=prefix)["data"]["frame_id"] == "first"


def test_republish_from_a_subscribers_schema(prefix):
    with shmsnap.Publisher("source", schema=ALL_TYPES, prefix=prefix) as pub, \
            shmsnap.Subscriber("source", prefix=prefix) as sub:
        pub.publish({"i32v": -5, "names": ["a", "b", "c"]})
        update = sub.wait(timeout=10)
        with shmsnap.Publisher("copy", schema=sub.schema, prefix=prefix) as copy, \
                shmsnap.Subscriber("copy", prefix=prefix, schema=ALL_TYPES) as copy_sub:
            copy.publish(sub.latest_array())
            assert copy_sub.wait(timeout=10).data == update.data
