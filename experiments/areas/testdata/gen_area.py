"""Writes a small V1 area in the layout of Cadena et al. 2019's cadena_ploscb_data.pkl, for the
end-to-end test of the real-area path of experiment areas.

The layout (a pickled dict of numpy arrays: responses (repeats, images, neurons) with NaN where a
neuron was not recorded, images (images, height, width) of grey levels, and the id arrays) is
that of internal/areadata/testdata/gen_cadena.py. Here there are 60 images of 12 x 12 pixels,
each a random texture around its own mean level, and 5 neurons whose Poisson counts (4 repeats)
grow with the mean level of one quadrant; the fifth neuron misses image 7 in every repeat, so
that 4 neurons are complete. Nothing here is derived from the real data.

Usage: python3 gen_area.py OUTDIR. Writes cadena_ploscb_data.pkl and versions.json.
"""
import json
import os
import pickle
import sys

import numpy as np


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(12)
    reps, m, n, side = 4, 60, 5, 12
    level = rng.uniform(20, 235, size=(m, 1, 1))
    images = np.clip(np.round(level + rng.normal(0, 40, size=(m, side, side))), 0, 255).astype(np.float32)
    h = side // 2
    quads = [images[:, :h, :h], images[:, :h, h:], images[:, h:, :h], images[:, h:, h:], images[:, :h, :]]
    responses = np.empty((reps, m, n))
    for j in range(n):
        rate = 0.5 + 6 * (quads[j].mean(axis=(1, 2)) / 255) ** 2
        responses[:, :, j] = rng.poisson(rate, size=(reps, m))
    responses[:, 7, 4] = np.nan
    data = {
        "responses": responses,
        "images": images,
        "image_types": np.array(["original"] * m),
        "image_ids": np.arange(m, dtype=np.int64) + 1,
        "image_numbers": np.arange(m, dtype=np.int64),
        "subject_id": np.ones(n, dtype=np.int64),
        "session_id": np.arange(n, dtype=np.int64),
        "unit_id": np.arange(n, dtype=np.int64),
        "repetitions": np.full(n, reps, dtype=np.int64),
    }
    with open(os.path.join(out, "cadena_ploscb_data.pkl"), "wb") as f:
        pickle.dump(data, f, protocol=4)
    with open(os.path.join(out, "versions.json"), "w") as f:
        json.dump({"numpy": np.__version__, "python": "%d.%d" % sys.version_info[:2]}, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
