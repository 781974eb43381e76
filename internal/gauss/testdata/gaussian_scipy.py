#!/usr/bin/env python3
"""Writes the golden of TestFilter2DScipy (gaussian_scipy.json) to stdout.

Seeded float32 arrays filtered by scipy.ndimage.gaussian_filter over their first two axes
(sigma=[s, s, 0, ...], mode='reflect', truncate=t), as upstream smooth_weights (sigma 0.5) and
the preferred-stimulus synthesis (sigma 1) call it; values as float32 bit patterns in hex.
Run: /usr/bin/python3 testdata/gaussian_scipy.py > testdata/gaussian_scipy.json
(`go test -run TestFilter2DScipy -update` does it, with numpy's baseline code: see
gen_gaussian.py). The Go test reruns it, with numpy's baseline and native code, and compares the
values with the committed ones within one float32 ulp.
"""
import json
import numpy as np
import scipy
from scipy import ndimage

CASES = [  # shape, sigma, truncate
    ((5, 5, 7, 1), 0.5, 4.0),    # a depthwise kernel of layers 1-4
    ((28, 28, 4), 0.5, 4.0),     # the Beta readout reshaped (28,28,F4)
    ((28, 28, 3, 1), 0.5, 4.0),  # the shared model's spatial pool kernel
    ((2, 3, 2), 0.5, 4.0),       # lines shorter than the kernel
    ((1, 4, 1), 0.5, 4.0),
    ((3, 1, 2), 0.5, 4.0),
    ((6, 5, 3), 1.0, 4.0),       # sigma 1: 9 taps, longer than the lines
    ((4, 4, 1), 2.0, 4.0),       # radius 8: reflections of reflections
    ((9, 7), 0.7, 3.0),
]

def hexs(a):
    return a.astype("<f4").view("<u4").tobytes().hex()

rng = np.random.default_rng(20240611)
out = {"scipy": scipy.__version__, "numpy": np.__version__, "cases": []}
for shape, sigma, truncate in CASES:
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    sig = [sigma, sigma] + [0.0] * (len(shape) - 2)
    y = ndimage.gaussian_filter(x, sigma=sig, mode="reflect", truncate=truncate)
    assert y.dtype == np.float32
    out["cases"].append({"shape": list(shape), "sigma": sigma, "truncate": truncate,
                         "in": hexs(x), "out": hexs(y)})
print(json.dumps(out, indent=1))
