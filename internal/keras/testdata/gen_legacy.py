#!/usr/bin/python3
"""Writes the Keras 2 weights files (the layout of Model.save_weights in Keras 2 and of the
keras.applications ImageNet files) that legacy_test.go reads, for the tiny graph network of
legacyNet: c1 Conv2D 3x3 (2 -> 3), b1 BatchNormalization, r1 ReLU, s2 SeparableConv2D 3x3
(3 -> 3), a Add(r1, s2), f Flatten, d Dense (108 -> 2).

    /usr/bin/python3 internal/keras/testdata/gen_legacy.py [OUT_DIR]

  legacy_tiny.h5            the network's weights (also FuzzLoadLegacyWeights' seed)
  legacy_split.h5           layer_names split into layer_names0 and layer_names1, as Keras does
                            with attributes too large for an object header
  legacy_missing.h5         s2 absent from layer_names and from the file
  legacy_wrong_shape.h5     c1's kernel of shape (3, 3, 2, 4)
  legacy_wrong_var.h5       b1's weight_names in another order (beta before gamma)
  legacy_float64.h5         d's kernel stored as float64
"""
import os
import sys

import h5py
import numpy as np

LAYERS = ["input_1", "c1", "b1", "r1", "s2", "a", "f", "d"]


def weights(rng):
    return {
        "c1": [("kernel", rng.normal(0, 0.3, (3, 3, 2, 3))), ("bias", rng.normal(0, 0.1, 3))],
        "b1": [("gamma", rng.uniform(0.5, 1.5, 3)), ("beta", rng.normal(0, 0.1, 3)),
               ("moving_mean", rng.normal(0, 0.5, 3)), ("moving_variance", rng.uniform(0.5, 2, 3))],
        "s2": [("depthwise_kernel", rng.normal(0, 0.3, (3, 3, 3, 1))), ("pointwise_kernel", rng.normal(0, 0.5, (1, 1, 3, 3))),
               ("bias", rng.normal(0, 0.1, 3))],
        "d": [("kernel", rng.normal(0, 0.1, (108, 2))), ("bias", rng.normal(0, 0.1, 2))],
    }


def write(path, ws, layers=LAYERS, split=False, dtype=None):
    with h5py.File(path, "w") as f:
        names = np.array([n.encode() for n in layers])
        if split:
            f.attrs["layer_names0"] = names[:4]
            f.attrs["layer_names1"] = names[4:]
        else:
            f.attrs["layer_names"] = names
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.2.4"
        for n in layers:
            g = f.create_group(n)
            vs = ws.get(n, [])
            g.attrs["weight_names"] = np.array([("%s/%s:0" % (n, v)).encode() for v, _ in vs], dtype="S") if vs else np.array([], dtype="S1")
            for v, a in vs:
                g.create_dataset("%s/%s:0" % (n, v), data=a.astype((dtype or {}).get((n, v), np.float32)))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    ws = weights(np.random.RandomState(7))
    write(os.path.join(out, "legacy_tiny.h5"), ws)
    write(os.path.join(out, "legacy_split.h5"), ws, split=True)
    write(os.path.join(out, "legacy_missing.h5"), {k: v for k, v in ws.items() if k != "s2"}, layers=[n for n in LAYERS if n != "s2"])
    bad = dict(ws)
    bad["c1"] = [("kernel", np.zeros((3, 3, 2, 4))), ws["c1"][1]]
    write(os.path.join(out, "legacy_wrong_shape.h5"), bad)
    bad = dict(ws)
    bad["b1"] = [ws["b1"][1], ws["b1"][0]] + ws["b1"][2:]
    write(os.path.join(out, "legacy_wrong_var.h5"), bad)
    write(os.path.join(out, "legacy_float64.h5"), ws, dtype={("d", "kernel"): np.float64})
    # the expected values, for the test: the first value of every array
    with open(os.path.join(out, "legacy_tiny.txt"), "w") as f:
        for n in LAYERS:
            for v, a in ws.get(n, []):
                f.write("%s/%s %r\n" % (n, v, float(np.float32(a.ravel()[0]))))


if __name__ == "__main__":
    main()
