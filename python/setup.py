"""pip install ./python  (from a jarvis checkout; offline).

Builds the native module with CMake (the parent directory is the jarvis
project: -DJARVIS_BUILD_PYTHON=ON, tests, benchmarks and fuzzers off) for
the interpreter running pip, then packages <build>/python/jarvis/ (the
pure-Python sources, _native.*.so and libjarvis.so next to it).

Debian: scripts/bootstrap installs what it needs (python3-pybind11,
python3-dev, python3-setuptools). Use
    /usr/bin/python3 -m pip install --no-build-isolation ./python
(--no-build-isolation: pip would otherwise try to download setuptools into
an isolated environment). The build needs no network: the web dashboard's
npm build is off (jarvis.serve() then shows the dashboard's "not built"
page; JARVIS_CMAKE_ARGS=-DJARVIS_BUILD_DASHBOARD=ON builds it where npm can
fetch its packages). Environment: JARVIS_CMAKE_ARGS adds CMake arguments
(after the defaults, so they win: e.g. ccache launchers); JARVIS_BUILD_DIR
reuses a build folder.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _version() -> str:
    for line in (ROOT / "CMakeLists.txt").read_text().splitlines():
        if line.startswith("project(jarvis VERSION"):
            return line.split()[2]
    return "0.0.0"


class BinaryDistribution(Distribution):
    """The package carries native code: a platform wheel, not py3-none-any."""

    def has_ext_modules(self) -> bool:
        return True


class BuildWithCMake(build_py):
    def run(self) -> None:
        build_dir = Path(os.environ.get("JARVIS_BUILD_DIR", HERE / "build" / "cmake"))
        build_dir.mkdir(parents=True, exist_ok=True)
        args = [
            "cmake", "-S", str(ROOT), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release",
            "-DJARVIS_BUILD_PYTHON=ON", "-DJARVIS_BUILD_TESTS=OFF", "-DJARVIS_BUILD_BENCH=OFF",
            "-DJARVIS_BUILD_FUZZERS=OFF", "-DJARVIS_BUILD_DASHBOARD=OFF",
            f"-DPython_EXECUTABLE={sys.executable}",
        ]
        if shutil.which("ninja"):
            args += ["-G", "Ninja"]
        args += os.environ.get("JARVIS_CMAKE_ARGS", "").split()
        subprocess.check_call(args)
        subprocess.check_call(["cmake", "--build", str(build_dir), "--target", "jarvis_python",
                               "-j", str(os.cpu_count() or 2)])
        package = build_dir / "python" / "jarvis"
        target = Path(self.build_lib) / "jarvis"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(package, target, symlinks=False)


setup(
    name="jarvis",
    version=_version(),
    description="Local LLM inference (GGUF) with continuous batching: sync and asyncio APIs",
    packages=["jarvis"],
    package_dir={"jarvis": "jarvis"},
    cmdclass={"build_py": BuildWithCMake},
    distclass=BinaryDistribution,
    python_requires=">=3.9",
    zip_safe=False,
)
