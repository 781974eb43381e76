#!/usr/bin/python3
"""Reference draws of numpy's legacy global random state for internal/nprand.

Writes nprand.json: for a few integer seeds, the first 10 outputs of np.random.randint(0, 2**32)
(the raw MT19937 words) and np.random.permutation(n) for several n after a fresh np.random.seed.

Usage: /usr/bin/python3 testdata/gen_nprand.py OUTDIR
"""
import json
import os
import sys

import numpy as np


def main():
    out = {"numpy": np.__version__, "cases": []}
    for seed in [0, 1, 314159, 31490, 4294967295]:
        np.random.seed(seed)
        words = [int(v) for v in np.random.randint(0, 2**32, size=10, dtype=np.uint64)]
        perms = []
        for n in [1, 2, 5, 44, 600, 1200]:
            np.random.seed(seed)
            perms.append({"n": n, "perm": [int(v) for v in np.random.permutation(n)]})
        out["cases"].append({"seed": seed, "words": words, "perms": perms})
    with open(os.path.join(sys.argv[1], "nprand.json"), "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
