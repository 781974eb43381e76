#!/usr/bin/env python3
"""Float32 GEMM throughput of numpy's BLAS (the SGEMM peer of the speed table).

Times C = A·B for n×n float32 matrices (n = argv[1], default 1024) with np.dot into a preallocated
C, repeated for about 3 s after one warm-up product, and prints JSON: the best and median GFLOP/s
(2n³ per product), numpy's version and the OpenBLAS library it loaded. The number of BLAS threads is
the caller's (OPENBLAS_NUM_THREADS).
"""
import json, sys, time
import numpy as np

def blas_name():
    try:
        with open("/proc/self/maps") as f:
            libs = {l.split()[-1].rsplit("/", 1)[-1] for l in f if "/" in l}
        return ", ".join(sorted(n for n in libs if "openblas" in n.lower())) or "no OpenBLAS"
    except OSError:
        return "unknown"

def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    c = np.empty((n, n), dtype=np.float32)
    np.dot(a, b, out=c)
    times, t_end = [], time.perf_counter() + 3
    while time.perf_counter() < t_end or len(times) < 5:
        t0 = time.perf_counter()
        np.dot(a, b, out=c)
        times.append(time.perf_counter() - t0)
    times.sort()
    flop = 2.0 * n ** 3
    print(json.dumps({"n": n, "gflops_best": round(flop / times[0] / 1e9, 1),
                      "gflops_median": round(flop / times[len(times) // 2] / 1e9, 1),
                      "products": len(times), "numpy": np.__version__, "blas": blas_name()}))

if __name__ == "__main__":
    main()
