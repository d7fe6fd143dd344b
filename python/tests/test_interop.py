"""C++ <-> Python through real processes: shmsnap-publisher -> shmsnap.Subscriber (by
name, and in socket mode through DIR/<topic>.sock) and shmsnap.Publisher ->
shmsnap-subscriber --json, for every bundled schema and the all-types test schema;
numpy layouts against the C++ offsetof/sizeof."""
import os
import pathlib
import shutil
import tempfile

import pytest

import shmsnap
from conftest import BUNDLED, EVERY_SCHEMA, binary, wait_until


def descriptor_names(schema_path):
    import json
    return [field["name"] for field in json.loads(shmsnap.compile_schema(schema_path)["descriptor"])["fields"]]


@pytest.mark.parametrize("schema_name", sorted(BUNDLED))
def test_cpp_publisher_feeds_python_subscriber(schema_name, prefix, processes):
    publisher = processes(binary("shmsnap-publisher"), "--topic", "feed", "--schema", schema_name, "--rate", "200",
                          "--prefix", prefix, "--log-level", "off")
    publisher.line_matching(lambda line: line.startswith("ready "))
    with shmsnap.Subscriber("feed", prefix=prefix) as sub:
        assert sub.schema["name"] == schema_name
        first = sub.wait(timeout=10)
        assert first is not None, "no update from a publisher running at 200/s"
        second = wait_until(lambda: sub.wait(timeout=1), what="a second update")
        assert second.info.seq > first.info.seq
        assert list(second.data) == descriptor_names(BUNDLED[schema_name])  # layout order
        record = sub.latest_array()
        assert record.dtype.itemsize == sub.schema["size"]
        # dict and numpy record are two decodings of the same copied snapshot
        seq = sub.info.seq
        as_dict = sub.latest()
        if sub.info.seq == seq:
            assert_same_snapshot(record, as_dict)
        assert shmsnap.dump("feed", prefix=prefix)["schema"] == schema_name
        assert "feed" in shmsnap.topics(prefix)


@pytest.fixture
def socket_dir():
    """A fresh socket directory for socket-mode publishers, removed afterwards."""
    directory = tempfile.mkdtemp(prefix="shmsnap-py-socket-")
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def test_python_subscriber_follows_a_socket_mode_publisher(socket_dir, prefix, processes):
    publisher = processes(binary("shmsnap-publisher"), "--topic", "feed", "--schema", "robot.pose", "--rate", "200",
                          "--socket-dir", socket_dir, "--prefix", prefix, "--log-level", "off")
    publisher.line_matching(lambda line: line.startswith("ready ") and f"region={socket_dir}/feed.sock" in line)
    with pytest.raises(shmsnap.NotFound):  # named mode: the topic has no name in /dev/shm
        shmsnap.Subscriber("feed", prefix=prefix, socket_dir="")
    with shmsnap.Subscriber("feed", prefix=prefix, socket_dir=pathlib.Path(socket_dir)) as sub:
        assert sub.schema["name"] == "robot.pose"
        first = wait_until(lambda: sub.wait(timeout=1), what="an update through the socket")
        second = wait_until(lambda: sub.wait(timeout=1), what="a second update through the socket")
        assert second.info.seq > first.info.seq
        assert second.data["frame_id"] == "feed"
    assert publisher.stop() == 0
    assert not os.path.exists(os.path.join(socket_dir, "feed.sock")), "a clean shutdown removes the socket"


def test_socket_dir_defaults_to_the_environment(socket_dir, prefix, processes, monkeypatch):
    publisher = processes(binary("shmsnap-publisher"), "--topic", "env", "--schema", "service.health", "--rate",
                          "200", "--socket-dir", socket_dir, "--prefix", prefix, "--log-level", "off")
    publisher.line_matching(lambda line: line.startswith("ready "))
    monkeypatch.setenv("SHMSNAP_SOCKET_DIR", socket_dir)
    with shmsnap.Subscriber("env", prefix=prefix) as sub:
        update = wait_until(lambda: sub.wait(timeout=1), what="an update through $SHMSNAP_SOCKET_DIR")
        assert update.data["service"] == "env"


def assert_same_snapshot(record, as_dict, path=""):
    """Every field of a numpy record equals the dict's (enums: the dict has names)."""
    for name in record.dtype.names:
        value, expected = record[name], as_dict[name]
        field = record.dtype[name]
        where = f"{path}{name}"
        if field.names is not None and field.subdtype is None:
            assert_same_snapshot(value, expected, where + ".")
        elif field.base.names is not None:
            for index, element in enumerate(value.reshape(-1)):
                flat = expected
                for _ in range(len(field.shape) - 1):
                    flat = [item for row in flat for item in row]
                assert_same_snapshot(element, flat[index], f"{where}[{index}].")
        elif field.base.kind == "S":
            decoded = value.astype(str).tolist() if field.shape else value.decode()
            assert decoded == expected, where
        elif isinstance(expected, str) or (isinstance(expected, list) and expected and isinstance(
                expected[0], str)):
            continue  # an enum by name
        else:
            assert value.tolist() == expected, where


def test_cpp_all_types_reach_python_as_dict_and_record(prefix, processes):
    publisher = processes(binary("shmsnap-py-test-helper"), "publish-all-types", "all", prefix,
                          stdin_stops=True)
    publisher.line_matching(lambda line: line.startswith("ready "))
    with shmsnap.Subscriber("all", prefix=prefix) as sub:
        data = sub.latest()
        assert data["b"] is True
        assert (data["i8v"], data["i16v"], data["i32v"], data["i64v"]) == (-8, -1600, -320000, -6400000000)
        assert (data["u8v"], data["u16v"], data["u32v"], data["u64v"]) == (200, 65000, 4000000000,
                                                                          18000000000000000000)
        assert (data["f32v"], data["f64v"]) == (1.5, -2.25)
        assert data["text"] == "hello"
        assert data["names"] == ["ab", "", "wxyz"]
        assert data["flags"] == [False, True, False]
        assert data["shorts"] == [-1, 0, 300]
        assert data["matrix"] == [[0.0, 1.0, 0.0], [0.0, 0.0, 12.0]]
        assert data["cube"][1][0][1] == 5
        assert data["mode"] == "reverse" and data["modes"] == ["idle", "forward"]
        assert data["big"] == "huge"
        assert data["outer"]["id"] == 7 and data["outer"]["inner"] == {"flag": True, "value": 3.5, "mode": "forward"}
        assert data["outer"]["inners"][1]["value"] == -1.0 and data["outer"]["tag"] == "xy"
        assert data["outers"][1]["id"] == 9 and data["outers"][1]["inners"][0]["mode"] == "reverse"
        assert data["tail"] == 255

        record = sub.latest_array()
        assert record["u64v"] == 18000000000000000000 and record["i64v"] == -6400000000
        assert record["text"] == b"hello" and list(record["names"]) == [b"ab", b"", b"wxyz"]
        assert record["matrix"].shape == (2, 3) and record["matrix"][1, 2] == 12.0
        assert record["cube"].shape == (2, 2, 2) and record["cube"][1, 0, 1] == 5
        assert record["mode"] == -1 and record["big"] == 9223372036854775807  # enums: underlying integers
        assert record["outer"]["inner"]["value"] == 3.5 and record["outers"][1]["id"] == 9
        assert record["tail"] == 255
        assert_same_snapshot(record, data)
        assert shmsnap.dump("all", prefix=prefix)["data"] == data


def dtype_offset(dtype, path):
    """Byte offset and size of a dotted path ("legs[0].x": element 0) in a numpy dtype."""
    offset = 0
    current = dtype
    for part in path.split("."):
        name = part.split("[")[0]
        field_dtype, field_offset = current.fields[name][:2]
        offset += field_offset
        size = field_dtype.itemsize
        current = field_dtype.base if field_dtype.subdtype is not None else field_dtype
    return offset, size


@pytest.mark.parametrize("schema_name", sorted(EVERY_SCHEMA))
def test_numpy_layout_equals_cpp_offsetof_and_sizeof(schema_name, layouts):
    cpp = layouts[schema_name]
    schema = shmsnap.compile_schema(EVERY_SCHEMA[schema_name])
    dtype = shmsnap.dtype_of(schema)
    assert dtype.itemsize == cpp["size"] == schema["size"]
    assert cpp["fields"], "the helper printed no fields"
    for path, (offset, size) in cpp["fields"].items():
        assert dtype_offset(dtype, path) == (offset, size), path


@pytest.mark.parametrize("schema_name", sorted(EVERY_SCHEMA))
def test_descriptor_fingerprint_equals_the_compilers(schema_name):
    schema = shmsnap.compile_schema(EVERY_SCHEMA[schema_name])
    assert shmsnap.fingerprint_of_descriptor(schema["descriptor"]) == schema["fingerprint"]
    assert shmsnap.compile_schema(schema["descriptor"]) == schema


VALUES = {
    "market.quote_book": {"symbol": "ACME", "bid_price": [101.25 - level for level in range(10)], "ask_size": [5.0] * 10,
                          "sequence": 123456789},
    "robot.pose": {"frame_id": "map", "stamp": {"sec": 12, "nanosec": 34}, "position": {"x": 1.5, "z": -2.0},
                   "covariance": [[1.0] * 6] * 6},
    "service.health": {"service": "api", "status": "degraded", "restarts": 3},
    "shmsnap_test.all_types": {"b": True, "u64v": 18000000000000000000, "i8v": -128, "text": "hi",
                               "matrix": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], "mode": "forward", "big": "small",
                               "outers": [{"id": 1}, {"tag": "abc", "inner": {"mode": "reverse"}}]},
}


def contains(actual, expected):
    """True when every key of `expected` is in `actual` with an equal value."""
    if isinstance(expected, dict):
        return all(key in actual and contains(actual[key], value) for key, value in expected.items())
    if isinstance(expected, list):
        return len(actual) == len(expected) and all(contains(a, e) for a, e in zip(actual, expected))
    return actual == expected


@pytest.mark.parametrize("schema_name", sorted(EVERY_SCHEMA))
def test_python_publisher_feeds_cpp_subscriber(schema_name, prefix, processes):
    value = VALUES[schema_name]
    with shmsnap.Publisher("out", schema=EVERY_SCHEMA[schema_name], prefix=prefix) as pub:
        unknown = set(value) - set(pub.dtype.names)
        assert not unknown, f"test value names unknown fields {unknown}"
        subscriber = processes(binary("shmsnap-subscriber"), "--topic", "out", "--id", "cpp", "--json",
                               "--prefix", prefix, "--log-level", "off")
        subscriber.json_matching(lambda line: line.get("event") == "attached")
        with shmsnap.Subscriber("out", prefix=prefix) as python_sub:
            seq = pub.publish(value)
            line = subscriber.json_matching(lambda line: line.get("seq") == seq and "data" in line)
            assert contains(line["data"], value), line["data"]
            update = wait_until(lambda: python_sub.wait(timeout=1), what="the Python subscriber's update")
            assert update.info.seq == seq and update.data == line["data"]
            # fields the dict left out are zero bytes, as in a default-constructed C++ snapshot
            record = python_sub.latest_array()
            left_out = [name for name in record.dtype.names if name not in value]
            assert left_out
            raw = record.tobytes()
            for name in left_out:
                field_dtype, offset = record.dtype.fields[name][:2]
                assert raw[offset:offset + field_dtype.itemsize] == bytes(field_dtype.itemsize), name
        assert subscriber.stop() == 0

