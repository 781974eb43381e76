#!/usr/bin/python3
"""Writes the fuzz seeds of package keras: the smallest Keras 3 weight files of each architecture.

    /usr/bin/python3 internal/keras/testdata/gen_seeds.py [OUT_DIR]

OUT_DIR defaults to testdata/seeds. The layer groups and datasets are those of gen.py (which
mimics Keras 3.1), for a compact model with one filter per layer and a shared model with K = 1
and one output, with patterned values; every array of more than 64 values is stored
gzip-compressed (it then takes a few bytes), and groups use the latest HDF5 format (link
messages), so that each file is a few kilobytes instead of the 20 to 60 of the regression
fixtures. FuzzReadWeightsH5 and FuzzLoadWeights add every seeds/*.weights.h5 to their corpus,
and FuzzReadModel zips them into .keras archives with the config of their network.

The bytes reproduce for a given h5py and libhdf5 (no timestamps, see the hdf5 seed generator,
whose helpers this script uses); versions.json records the versions, and TestSeedsReproduce
compares bytes when they match.
"""
import importlib.util
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# The hdf5 seed helpers (files and groups without timestamps; they import the hdf5 gen.py as
# "gen"), then this directory's gen.py (the layer lists) under another name.
sys.path.insert(0, os.path.join(HERE, "..", "..", "hdf5", "testdata"))
import gen_seeds as h5seeds  # noqa: E402
kgen = load("keras_gen", os.path.join(HERE, "gen.py"))


class Pattern:
    """Stands in for numpy's Generator in kgen.compact_layers: patterned values instead of random
    ones, so that large arrays compress to almost nothing."""

    def __init__(self):
        self.seed = 0

    def _pat(self, lo, hi, shape):
        self.seed += 1
        n = int(np.prod(shape))
        return (lo + (hi - lo) * ((np.arange(n) * 7 + self.seed) % 13) / 13.0).reshape(shape)

    def normal(self, loc, scale, shape):
        return self._pat(loc - scale, loc + scale, shape)

    def uniform(self, lo, hi, shape):
        return self._pat(lo, hi, shape)


def write(name, layers, weightless=True):
    f = h5seeds.new_file(name, "latest")
    g = h5seeds.group(f, "layers")
    for lname, arrs in layers:
        arrs = [np.asarray(a, dtype=np.float32) for a in arrs]
        if not arrs and not weightless:
            continue
        v = h5seeds.group(h5seeds.group(g, lname), "vars")
        for i, a in enumerate(arrs):
            big = a.size > 64
            h5seeds.dataset(v, str(i), a, chunks=a.shape if big else None, filters=("deflate",) if big else ())
    o = h5seeds.group(h5seeds.group(f, "optimizer"), "vars")
    h5seeds.dataset(o, "0", np.int64(1234))
    h5seeds.group(f, "vars")
    f.close()


def main():
    h5seeds.OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "seeds")
    os.makedirs(h5seeds.OUT, exist_ok=True)
    write("compact.weights.h5", kgen.compact_layers((1, 1, 1, 1, 1), Pattern()))
    write("shared_relu.weights.h5", kgen.shared_layers(1, 1, True))
    write("shared_linear.weights.h5", kgen.shared_layers(1, 1, False))
    write("shared_bare.weights.h5", kgen.shared_layers(1, 1, True), weightless=False)
    h5seeds.write_versions()


if __name__ == "__main__":
    main()
