"""Run a benchmark with onnxruntime's AVX2 kernels on a CPU that has AVX-512 (make bench-avx2).

    python benchmarks/avx2_kernels.py run.py                       # the speed half of make bench
    python benchmarks/avx2_kernels.py int8_sensitivity.py --no-nbits
    python benchmarks/avx2_kernels.py --probe                      # only check that the switch works

An AVX2-only CPU multiplies int8 with ``vpmaddubsw``, which saturates u8 x s8 byte pairs in 16 bits;
that is why zsc's portable int8 graph has uint8 weights, and why its speed there is the figure
that matters. When no such CPU is at hand, this tool makes a copy of the installed onnxruntime
whose kernel selection (MLAS) skips its AVX-512 branch, so every GEMM, quantisation and
element-wise kernel is the one an AVX2 CPU runs. It then runs the given benchmark script with:
- that copy first on PYTHONPATH, after a probe proves the switch: a u8 x s8 product that
  saturates only in the AVX2 kernel must come back saturated, and exact from the original;
- zsc seeing the CPU flags without AVX-512 and VNNI (a ``sitecustomize`` in the copy), so
  it picks the graph an AVX2 CPU picks (the portable one, not the int8 twin);
- torch held to AVX2 (``ATEN_CPU_CAPABILITY``, ``ONEDNN_MAX_CPU_ISA``, ``MKL_ENABLE_INSTRUCTIONS``);
- results named ``...-avx2-kernels`` and recording the real CPU flags.

What it cannot give: an AVX2-only CPU's own clock, caches and execution units. Ratios between
contenders are the useful reading; absolute rates are this CPU's.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import results_io as R

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
# MLAS_PLATFORM's constructor, onnxruntime 1.32 (x86-64 Linux): "test $0x10000,%r10d" (CPUID.7.EBX
# bit 16, AVX512F), "je <skip the AVX-512 branch>", "mov %r8,%rax; not %rax; test $0xe0,%al"
# (XCR0's AVX-512 state bits). Turning the je into jmp always skips the branch.
_AVX512_BRANCH = re.compile(rb"\x41\xf7\xc2\x00\x00\x01\x00(\x74).\x4c\x89\xc0\x48\xf7\xd0\xa8\xe0", re.S)
_JMP_SHORT = 0xEB
# Int8 extensions MLAS selects outside that branch: with them the switch would not reach AVX2.
UNSWITCHED_FLAGS = frozenset({"avx_vnni", "amx_int8"})
# Hidden from zsc so that it chooses as on an AVX2-only CPU.
_WIDE_FLAG_PREFIXES = ("avx512", "avx_vnni", "amx")
_SITECUSTOMIZE = f'''"""Written by benchmarks/avx2_kernels.py: zsc sees this CPU's flags without AVX-512 and VNNI."""
import functools

import zsc.engine.cpu as _cpu

_real = _cpu.cpu_flags


@functools.lru_cache(maxsize=1)
def _avx2_view():
    return frozenset(f for f in _real() if not f.startswith({_WIDE_FLAG_PREFIXES!r}))


_cpu.cpu_flags = _avx2_view
'''
# u8 255 x s8 127 over K=64: exact is 2,072,640; vpmaddubsw saturates each pair at 32,767.
_PROBE = """
import numpy as np, onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
K = 64
graph = helper.make_graph([helper.make_node("MatMulInteger", ["A", "B"], ["Y"])], "probe",
    [helper.make_tensor_value_info("A", TensorProto.UINT8, [None, K])],
    [helper.make_tensor_value_info("Y", TensorProto.INT32, [None, 8])],
    [numpy_helper.from_array(np.full((K, 8), 127, np.int8), "B")])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
print(int(session.run(None, {"A": np.full((16, K), 255, np.uint8)})[0][0, 0]))
"""
EXACT, SATURATED = 255 * 127 * 64, 32767 * 32


def _installed_onnxruntime() -> Path:
    import onnxruntime

    return Path(onnxruntime.__file__).resolve().parent


def patched_copy() -> Path:
    """A folder holding a copy of the installed onnxruntime that selects AVX2 kernels, and the
    sitecustomize that hides AVX-512 from zsc; made once per onnxruntime version."""
    import onnxruntime

    root = CACHE / f"onnxruntime-{onnxruntime.__version__}-avx2-kernels"
    if (root / "sitecustomize.py").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(_installed_onnxruntime(), root / "onnxruntime")
    libraries = sorted((root / "onnxruntime" / "capi").glob("onnxruntime_pybind11_state*.so"))
    if len(libraries) != 1:
        raise SystemExit(f"avx2_kernels: expected one onnxruntime_pybind11_state library, found {len(libraries)}")
    data = bytearray(libraries[0].read_bytes())
    found = list(_AVX512_BRANCH.finditer(data))
    if len(found) != 1:
        raise SystemExit(f"avx2_kernels: onnxruntime {onnxruntime.__version__}'s kernel selection is not the code this tool "
                         f"knows ({len(found)} matches, want 1); it cannot force AVX2 kernels with this build")
    data[found[0].start(1)] = _JMP_SHORT
    libraries[0].write_bytes(bytes(data))
    (root / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    return root


def environment(copy: Path) -> dict[str, str]:
    from zsc.engine.cpu import flags_summary

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(copy), str(HERE), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env |= {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}
    env[R.KERNELS_ENV] = f"AVX2 (onnxruntime's AVX-512 kernels switched off by benchmarks/avx2_kernels.py) on a CPU with flags {flags_summary()}"
    return env


def probe(env: dict[str, str] | None = None) -> int:
    done = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True)
    return int(done.stdout.split()[-1])


def zsc_sees_dot_products(env: dict[str, str]) -> bool:
    code = "from zsc.engine.cpu import has_int8_dot_products; print(has_int8_dot_products())"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout.strip() == "True"


def checked_environment() -> dict[str, str]:
    """The environment that runs AVX2 kernels, after the probe has shown that it does and that
    zsc there chooses as on a CPU without 8-bit dot products."""
    from zsc.engine.cpu import cpu_flags

    beyond = sorted(cpu_flags() & UNSWITCHED_FLAGS)
    if beyond:
        raise SystemExit(f"avx2_kernels: this CPU has {', '.join(beyond)}, whose int8 kernels onnxruntime chooses outside "
                         "the AVX-512 branch this tool switches off; it cannot give AVX2's kernels here")
    native = probe()
    if native != EXACT:
        raise SystemExit(f"avx2_kernels: this CPU's own u8 x s8 kernel already saturates ({native}) as AVX2's does: it has "
                         "no VNNI, so run the benchmark directly")
    env = environment(patched_copy())
    forced = probe(env)
    if forced != SATURATED:
        raise SystemExit(f"avx2_kernels: the patched onnxruntime gave {forced}, not the AVX2 kernel's saturated {SATURATED}")
    if zsc_sees_dot_products(env):
        raise SystemExit("avx2_kernels: zsc still sees 8-bit dot products with the switch (is a sitecustomize shadowing ours?)")
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--probe", action="store_true", help="check the switch and stop")
    parser.add_argument("script", nargs="?", help="a script in benchmarks/, e.g. run.py, or a path to any script")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    options = parser.parse_args()
    env = checked_environment()
    print(f"avx2_kernels: the probe's u8 x s8 product is exact ({EXACT}) natively and saturated ({SATURATED}) with the switch: "
          "AVX2 kernels; zsc there sees no 8-bit dot products", flush=True)
    if options.probe:
        return
    if not options.script:
        parser.error("name a benchmark script, or pass --probe")
    script = HERE / options.script  # a script in benchmarks/, or any path
    if not script.is_file():
        parser.error(f"no benchmark script {script}")
    raise SystemExit(subprocess.run([sys.executable, str(script), *options.args], env=env, cwd=HERE).returncode)


if __name__ == "__main__":
    main()
