#!/usr/bin/python3
"""Reference outputs for internal/gauss's float64 tests, computed with numpy and scipy.

Writes gaussian.json: scipy.ndimage.gaussian_filter over the two spatial axes of small HWC images
(as the preferred-stimulus synthesis calls it), scipy's 1-D Gaussian weights, and numpy's sums.

Usage: /usr/bin/python3 testdata/gen_gaussian.py OUTDIR

The Go tests run it into a temporary directory when Python (/usr/bin/python3, or $V4PYTHON) has
numpy and scipy, twice: with numpy's baseline code (NPY_DISABLE_CPU_FEATURES set to every feature
numpy dispatches at run time) and with the SIMD code numpy picks for the CPU. Each output must
match the committed file within the tolerance stated in the test (numpy's AVX-512 exp differs from
glibc's in the last bits). `go test -run TestReferenceScripts -update` rewrites the file from the
baseline run, which is the one the Go code reproduces bit for bit; to run the script by hand, set
NPY_DISABLE_CPU_FEATURES likewise.
"""
import json
import os
import sys

import numpy as np
import scipy
from scipy import ndimage
from scipy.ndimage import _filters


def gaussian_cases():
    rng = np.random.default_rng(20260412)
    cases = []
    for (h, w, c) in [(1, 1, 1), (2, 3, 1), (3, 5, 2), (7, 4, 3), (12, 16, 3)]:
        for (sigma, truncate) in [(1.0, 4.0), (0.5, 4.0), (2.3, 4.0), (1.0, 2.0)]:
            x = rng.normal(size=(1, h, w, c)) * 30.0
            y = ndimage.gaussian_filter(x, (0.0, sigma, sigma, 0.0), mode='reflect', truncate=truncate)
            cases.append({"h": h, "w": w, "c": c, "sigma": sigma, "truncate": truncate,
                          "x": x.ravel().tolist(), "y": y.ravel().tolist()})
    kernels = []
    for (sigma, truncate) in [(1.0, 4.0), (0.5, 4.0), (2.3, 4.0), (1.0, 2.0), (3.7, 4.0), (20.0, 4.0)]:
        r = int(truncate * sigma + 0.5)
        kernels.append({"sigma": sigma, "truncate": truncate,
                        "weights": _filters._gaussian_kernel1d(sigma, 0, r).tolist()})
    sums = []
    for n in [1, 2, 5, 7, 8, 9, 16, 19, 127, 128, 129, 130, 576, 1000, 1025, 2100, 8192, 8193, 9000, 20000, 37632]:
        # exact in any IEEE arithmetic: integers mod a prime, one correctly rounded division
        x = ((np.arange(n, dtype=np.int64) * 7919) % 10007).astype(np.float64) / 97.0
        sums.append({"n": n, "sum": float(np.sum(x)), "mean_sq": float(np.mean(np.square(x)))})
    return {"scipy": scipy.__version__, "numpy": np.__version__, "cases": cases, "kernels": kernels, "sums": sums}



def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(out, "gaussian.json"), "w") as f:
        json.dump(gaussian_cases(), f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
