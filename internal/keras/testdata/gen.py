#!/usr/bin/python3
"""Writes the synthetic Keras 3 weight files of internal/keras's tests (run from this folder with
/usr/bin/python3 and h5py; the Go tests never run it).

The files mimic what Keras 3.1 writes for a model (keras.src.saving.saving_lib, H5IOStore): a group
layers/<auto-name>/vars per layer of the model, in layer order, whose auto-name is the snake-case
class name plus _1, _2, ... (input_layer, conv2d, batch_normalization, activation, ...); datasets
vars/0, vars/1, ... in get_weights() order; an optimizer/vars group (iterations, learning rate)
and an empty top-level vars group. Values come from numpy's default_rng with fixed seeds, so a
rerun writes the same numbers (HDF5 may still stamp different bytes into object headers).

  compact_tiny.weights.h5    compact model, filters (2, 3, 2, 2, 1), random values, contiguous
                             datasets like Keras'; expected.json records every dataset's shape and
                             correctly rounded sum (math.fsum) of its values
  shared_relu.weights.h5     shared model K=2 with 3 outputs, ReLU variant (activation groups),
                             gzip-compressed chunked datasets of patterned values (small file)
  shared_linear.weights.h5   the same without activation groups (linear variant)
  shared_bare.weights.h5     the same with no weightless groups at all (variant unknown)
  compact_missing_group.weights.h5   compact_tiny without layers/dense
  compact_extra_group.weights.h5     compact_tiny plus a weighted layers/dense_1
  compact_wrong_shape.weights.h5     batch_normalization_2/vars/0 of shape (3,) instead of (2,)
  compact_float64.weights.h5         conv2d/vars/1 stored as float64
  compact_nested.weights.h5          conv2d holds a nested group next to vars
  legacy_keras2.h5                   a Keras 2 layout (model_weights/<layer>/<layer>_1/kernel:0)
"""
import json
import math

import h5py
import numpy as np

FILTERS = (2, 3, 2, 2, 1)


def compact_layers(filters, rng):
    """(group name, [arrays]) of a compact model, weightless layers included, in layer order."""
    f = filters
    out = [("input_layer", [])]
    cin = 3
    for l in range(5):
        if l == 0:
            out.append(("conv2d", [rng.normal(0, 0.1, (5, 5, 3, f[0])), rng.normal(0, 0.1, (f[0],))]))
        else:
            name = "separable_conv2d" + ("" if l == 1 else "_%d" % (l - 1))
            out.append((name, [rng.normal(0, 0.1, (5, 5, cin, 1)), rng.normal(0, 0.1, (1, 1, cin, f[l])),
                               rng.normal(0, 0.1, (f[l],))]))
        bn = "batch_normalization" + ("" if l == 0 else "_%d" % l)
        out.append((bn, [rng.uniform(0.5, 1.5, f[l]), rng.normal(0, 0.1, f[l]), rng.normal(0, 0.5, f[l]),
                         rng.uniform(0.1, 2.0, f[l])]))
        out.append(("activation" + ("" if l == 0 else "_%d" % l), []))
        cin = f[l]
    out.append(("flatten", []))
    out.append(("dense", [rng.normal(0, 0.01, (784 * f[4], 1)), rng.normal(0, 0.1, (1,))]))
    return [(n, [np.asarray(a, dtype=np.float32) for a in arrs]) for n, arrs in out]


def shared_layers(k, outputs, relu):
    """Layers of a shared model with patterned values (they compress to almost nothing)."""
    def pat(shape, seed):
        n = int(np.prod(shape))
        return ((np.arange(n) * 7 + seed) % 13 / 16.0 - 0.375).reshape(shape).astype(np.float32)

    widths = (k, k, k, 100, 100)
    out = [("input_layer", [])]
    cin = 3
    for l in range(5):
        w = widths[l]
        if l == 0:
            out.append(("conv2d", [pat((5, 5, 3, w), 1), pat((w,), 2)]))
        else:
            name = "separable_conv2d" + ("" if l == 1 else "_%d" % (l - 1))
            out.append((name, [pat((5, 5, cin, 1), 3 * l), pat((1, 1, cin, w), 3 * l + 1), pat((w,), 3 * l + 2)]))
        bn = "batch_normalization" + ("" if l == 0 else "_%d" % l)
        out.append((bn, [pat((w,), 5) + 1, pat((w,), 6), pat((w,), 7), pat((w,), 8) + 1]))
        if relu:
            out.append(("activation" + ("" if l == 0 else "_%d" % l), []))
        cin = w
    out.append(("conv2d_1", [pat((1, 1, 100, outputs), 9), pat((outputs,), 10)]))
    out.append(("depthwise_conv2d", [pat((28, 28, outputs, 1), 11), pat((outputs,), 12)]))
    out.append(("flatten", []))
    return out


def write(path, layers, compress=False, weightless=True, libver="latest"):
    with h5py.File(path, "w", libver=libver) as f:
        g = f.create_group("layers")
        for name, arrs in layers:
            if not arrs and not weightless:
                continue
            v = g.create_group(name).create_group("vars")
            for i, a in enumerate(arrs):
                if compress:
                    v.create_dataset(str(i), data=a, compression="gzip", compression_opts=9, shuffle=True)
                else:
                    v.create_dataset(str(i), data=a)
        o = f.create_group("optimizer").create_group("vars")
        o.create_dataset("0", data=np.int64(1234))
        o.create_dataset("1", data=np.float32(1e-4))
        f.create_group("vars")


def main():
    base = compact_layers(FILTERS, np.random.default_rng(20260101))
    write("compact_tiny.weights.h5", base, libver="earliest")  # the format of the published files
    expected = {"filters": list(FILTERS), "datasets": {}}
    for name, arrs in base:
        for i, a in enumerate(arrs):
            expected["datasets"]["%s/%d" % (name, i)] = {"shape": list(a.shape), "sum": math.fsum(a.astype(np.float64).ravel())}
    with open("expected.json", "w") as fh:
        json.dump(expected, fh, indent=1, sort_keys=True)
        fh.write("\n")

    write("shared_relu.weights.h5", shared_layers(2, 3, True), compress=True)
    write("shared_linear.weights.h5", shared_layers(2, 3, False), compress=True)
    write("shared_bare.weights.h5", shared_layers(2, 3, True), compress=True, weightless=False)

    write("compact_missing_group.weights.h5", [l for l in base if l[0] != "dense"])
    write("compact_extra_group.weights.h5", base + [("dense_1", [np.zeros((3, 1), np.float32)])])
    wrong = [(n, [np.zeros(3, np.float32)] + a[1:] if n == "batch_normalization_2" else a) for n, a in base]
    write("compact_wrong_shape.weights.h5", wrong)
    f64 = [(n, [a[0], a[1].astype(np.float64)] if n == "conv2d" else a) for n, a in base]
    write("compact_float64.weights.h5", f64)
    write("compact_nested.weights.h5", base)
    with h5py.File("compact_nested.weights.h5", "a") as f:
        f["layers/conv2d"].create_group("layers")

    with h5py.File("legacy_keras2.h5", "w") as f:
        f.attrs["keras_version"] = "2.2.4-tf"
        g = f.create_group("model_weights/layer0_conv/layer0_conv_1")
        g.create_dataset("kernel:0", data=base[1][1][0])
        g.create_dataset("bias:0", data=base[1][1][1])


if __name__ == "__main__":
    main()
