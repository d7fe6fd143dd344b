"""A PEP 517 build backend for `pip install .` of the shmsnap Python package.

It needs nothing from PyPI (Debian 12 has no scikit-build-core): it runs the project's
own CMake build for the interpreter that runs pip (-DPython3_EXECUTABLE=sys.executable),
builds only the extension target, and zips build/.../python/shmsnap into a wheel.
What the build machine needs: CMake >= 3.25, a C++20 compiler, Ninja or make, and the
C++ packages of the main build (libboost-dev, libspdlog-dev, nlohmann-json3-dev,
libtomlplusplus-dev, libcli11-dev) plus pybind11-dev, and numpy importable by the
interpreter. Editable installs and sdists are not offered.
"""
from __future__ import annotations

import base64
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile

NAME = "shmsnap"
SOURCE_DIR = pathlib.Path(__file__).resolve().parents[2]


def _version() -> str:
    for line in (SOURCE_DIR / "CMakeLists.txt").read_text().splitlines():
        if line.startswith("project(shmsnap VERSION "):
            return line.split()[2]
    raise RuntimeError("cannot find the project version in CMakeLists.txt")


def _tag() -> str:
    python = f"cp{sys.version_info.major}{sys.version_info.minor}"
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return f"{python}-{python}-{platform}"


def _metadata(version: str) -> str:
    return (f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {version}\n"
            "Summary: Latest-state publish/subscribe over shared memory: read and publish any topic as "
            "dicts or numpy records\nRequires-Python: >=3.9\nRequires-Dist: numpy\n")


def _cmake_environment() -> dict:
    # pip's isolated build environment hides the interpreter's site-packages, and with
    # them numpy, from the interpreter CMake probes; the build only needs to see it.
    environment = dict(os.environ)
    for variable in ("PYTHONNOUSERSITE", "PYTHONPATH", "PYTHONHOME"):
        environment.pop(variable, None)
    return environment


def _build_package(build_dir: pathlib.Path) -> pathlib.Path:
    configure = ["cmake", "-S", str(SOURCE_DIR), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release",
                 f"-DPython3_EXECUTABLE={sys.executable}", "-DSHMSNAP_BUILD_TESTS=OFF",
                 "-DSHMSNAP_BUILD_BENCHMARKS=OFF", "-DSHMSNAP_BUILD_PYTHON=ON"]
    if shutil.which("ninja"):
        configure += ["-G", "Ninja"]
    subprocess.run(configure, check=True, env=_cmake_environment())
    jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
    subprocess.run(["cmake", "--build", str(build_dir), "--target", "shmsnap_python", "-j", jobs], check=True,
                   env=_cmake_environment())
    package = build_dir / "python" / NAME
    if not any(package.glob("_shmsnap*.so")):
        raise RuntimeError(f"the build produced no extension in {package}: see the CMake output above "
                           "(it says why the Python package was skipped)")
    return package


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def get_requires_for_build_wheel(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    # Metadata without compiling, so pip does not build twice.
    dist_info = pathlib.Path(metadata_directory) / f"{NAME}-{_version()}.dist-info"
    dist_info.mkdir(parents=True, exist_ok=True)
    (dist_info / "METADATA").write_text(_metadata(_version()))
    return dist_info.name


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    version = _version()
    tag = _tag()
    with tempfile.TemporaryDirectory(prefix="shmsnap-wheel-") as temporary:
        package = _build_package(pathlib.Path(temporary) / "build")
        wheel_name = f"{NAME}-{version}-{tag}.whl"
        dist_info = f"{NAME}-{version}.dist-info"
        files = {}
        for path in sorted(package.iterdir()):
            if path.is_file() and (path.suffix in (".py", ".pyi", ".so") or path.name == "py.typed"):
                files[f"{NAME}/{path.name}"] = path.read_bytes()
        files[f"{dist_info}/METADATA"] = _metadata(version).encode()
        files[f"{dist_info}/WHEEL"] = (f"Wheel-Version: 1.0\nGenerator: shmsnap_build_backend\n"
                                       f"Root-Is-Purelib: false\nTag: {tag}\n").encode()
        record = [_record_line(name, data) for name, data in files.items()] + [f"{dist_info}/RECORD,,"]
        files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
        with zipfile.ZipFile(pathlib.Path(wheel_directory) / wheel_name, "w", zipfile.ZIP_DEFLATED) as wheel:
            for name, data in files.items():
                wheel.writestr(name, data)
    return wheel_name
