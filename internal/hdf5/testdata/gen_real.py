#!/usr/bin/python3
"""Records h5py's view of three real weight files of the data directory in real_checksums.json.

    /usr/bin/python3 internal/hdf5/testdata/gen_real.py [DATA_DIR]

DATA_DIR defaults to $V4DATA, else ../shared/v4data beside the project. For every dataset of each
file (a .weights.h5, and the model.weights.h5 inside a compact-model .keras and a shared-model
.keras) it records the shape, the numpy dtype, the SHA-256 of the raw bytes as h5py returns them
and math.fsum of the values. No data is copied: only these checksums, and the git blob SHA-1 of
each container file so that a test can tell a different file from a wrong reader.
"""
import hashlib
import io
import json
import math
import os
import sys
import zipfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = [
    "data_compact_models/model_weights_h5/compact_model_190923_neuron0.weights.h5",
    "data_compact_models/models_keras/compact_model_201025_neuron5.keras",
    "data_shared_compact_models/from_resnet50/shared_compact_model_100filters.keras",
]


def git_blob_sha1(b):
    return hashlib.sha1(b"blob %d\0" % len(b) + b).hexdigest()


def describe(h5bytes):
    out = {}
    with h5py.File(io.BytesIO(h5bytes), "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                arr = obj[()]
                arr = np.asarray(arr)
                out[name] = {
                    "shape": list(arr.shape),
                    "dtype": arr.dtype.str,
                    "sha256": hashlib.sha256(arr.tobytes()).hexdigest(),
                    "fsum": math.fsum(arr.astype(np.float64).reshape(-1).tolist()),
                }
        f.visititems(visit)
    return out


def main():
    data = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("V4DATA") or os.path.join(HERE, "../../../../shared/v4data")
    result = {}
    for rel in FILES:
        with open(os.path.join(data, rel), "rb") as fh:
            raw = fh.read()
        h5 = raw
        if rel.endswith(".keras"):
            with zipfile.ZipFile(io.BytesIO(raw)) as z:
                h5 = z.read("model.weights.h5")
        result[rel] = {"git_blob_sha1": git_blob_sha1(raw), "datasets": describe(h5)}
    with open(os.path.join(HERE, "real_checksums.json"), "w") as fh:
        json.dump(result, fh, indent=1, sort_keys=True)
        fh.write("\n")


if __name__ == "__main__":
    main()
