"""Writes small pickles in the layout of Cadena et al. 2019's cadena_ploscb_data.pkl.

The real file (GIN, DOI 10.12751/g-node.2e31e3, data_binned_responses/cadena_ploscb_data.pkl) is a
pickled dict of numpy arrays: responses (4 repeats, 7250 images, 166 neurons) with NaN where a
neuron was not recorded, images (7250, 140, 140) grey levels, image_types, image_ids,
image_numbers, subject_id, session_id, unit_id and repetitions. The dtypes of the real arrays are
not recorded where we could read them: here responses are float64, images float32 (and only
8 x 8 pixels, to keep the seeds small), image_types a numpy unicode array, and the ids integers.
Nothing here is derived from the real data (its licence forbids redistribution).

Usage: python3 gen_cadena.py OUTDIR. Writes cadena_small.pkl and cadena_small.json (numpy's
nanmean over repeats of each neuron that has a response to every image, and those neurons).
"""
import json
import os
import pickle
import sys
import warnings

import numpy as np


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(3)
    reps, m, n = 4, 5, 3
    responses = rng.gamma(2.0, 1.0, size=(reps, m, n))
    responses[2:, :, 1] = np.nan  # a neuron recorded with two repeats only
    responses[:, 3, 2] = np.nan  # a neuron that did not see image 3
    responses[3, 0, 0] = np.nan  # one missing repeat
    data = {
        "responses": responses,
        "images": rng.uniform(0, 255, size=(m, 8, 8)).astype(np.float32),
        "image_types": np.array(["original", "conv1", "conv2", "conv3", "conv4"]),
        "image_ids": np.arange(m, dtype=np.int64) + 1,
        "image_numbers": np.arange(m, dtype=np.int64),
        "subject_id": np.array([1, 1, 2], dtype=np.int64),
        "session_id": np.array([1, 2, 3], dtype=np.int64),
        "unit_id": np.array([5, 7, 2], dtype=np.int64),
        "repetitions": np.array([4, 2, 4], dtype=np.int64),
    }
    with open(os.path.join(out, "cadena_small.pkl"), "wb") as f:
        pickle.dump(data, f, protocol=4)
    complete = [j for j in range(n) if np.all(np.any(~np.isnan(responses[:, :, j]), axis=0))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the mean of an image a neuron did not see is NaN
        avg = np.nanmean(responses, axis=0)  # (m, n)
    with open(os.path.join(out, "cadena_small.json"), "w") as f:
        json.dump({"complete": complete,
                   "averaged": [[None if np.isnan(v) else float(v) for v in avg[:, j]] for j in range(n)]}, f, indent=1)
        f.write("\n")
    with open(os.path.join(out, "versions.json"), "w") as f:
        json.dump({"numpy": np.__version__, "python": "%d.%d" % sys.version_info[:2]}, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
