"""Writes a small IT area in the layout of Brain-Score's MajajHong2015 public assembly, its
stimulus set CSV and its image zip, for the end-to-end test of the real-area path of experiment
areas.

The assembly's layout (one float32 DataArray of dimensions neuroid, presentation, time_bin saved
through netCDF4, with the coordinates the reader uses) is that of
internal/areadata/testdata/gen_assembly.py. Here there are 40 images (4 objects of 10 images),
each shown 3 times in an interleaved order, one 70-170 ms time bin, and 5 sites (3 IT, 2 V4)
whose responses grow with the mean level of one quadrant of the image, plus Gaussian noise. The
images are 16 x 16 grey PNGs, each a random texture around its own level, stored in a folder of
the zip under the names the CSV gives. Nothing here is derived from the real data.

Usage: python3 gen_it.py OUTDIR. Writes assembly.nc, stimuli.csv, images.zip and versions.json.
"""
import csv
import io
import json
import os
import sys
import zipfile

import numpy as np
import xarray as xr
from PIL import Image

NAME = "dicarlo.MajajHong2015.public"


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(21)
    m, side, reps = 40, 16, 3
    level = rng.uniform(20, 235, size=(m, 1, 1))
    images = np.clip(np.round(level + rng.normal(0, 40, size=(m, side, side))), 0, 255).astype(np.uint8)
    ids = ["im%03d" % i for i in range(m)]
    files = ["im%03d_16x16.png" % i for i in range(m)]
    objects = ["obj_%s" % "abcd"[i % 4] for i in range(m)]
    regions = ["IT", "V4", "IT", "V4", "IT"]
    h = side // 2
    quads = [images[:, :h, :h], images[:, :h, h:], images[:, h:, :h], images[:, h:, h:], images[:, :, :h]]
    pres_img, pres_rep = [], []
    for rep in range(reps):
        for i in rng.permutation(m):
            pres_img.append(ids[i])
            pres_rep.append(rep)
    index = {im: i for i, im in enumerate(ids)}
    data = np.empty((len(regions), len(pres_img), 1), dtype=np.float32)
    for j in range(len(regions)):
        mean = 4 * quads[j].mean(axis=(1, 2)) / 255
        for p, im in enumerate(pres_img):
            data[j, p, 0] = mean[index[im]] + rng.normal(0, 0.5)
    da = xr.DataArray(
        data,
        dims=("neuroid", "presentation", "time_bin"),
        coords={
            "neuroid_id": ("neuroid", np.array(["site%d" % j for j in range(len(regions))], dtype=object)),
            "animal": ("neuroid", np.array(["Chabo"] * len(regions), dtype=object)),
            "region": ("neuroid", np.array(regions, dtype=object)),
            "image_id": ("presentation", np.array(pres_img, dtype=object)),
            "repetition": ("presentation", np.array(pres_rep, dtype=np.int64)),
            "time_bin_start": ("time_bin", np.array([70], dtype=np.int64)),
            "time_bin_end": ("time_bin", np.array([170], dtype=np.int64)),
        },
        name=NAME,
        attrs={"stimulus_set_identifier": "dicarlo.hvm-public"},
    )
    da.to_netcdf(os.path.join(out, "assembly.nc"), engine="netcdf4", format="NETCDF4")
    with open(os.path.join(out, "stimuli.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["image_id", "image_file_name", "object_name"])
        for row in zip(ids, files, objects):
            w.writerow(row)
    with zipfile.ZipFile(os.path.join(out, "images.zip"), "w") as z:
        for i, name in enumerate(files):
            b = io.BytesIO()
            Image.fromarray(images[i], mode="L").save(b, format="PNG")
            z.writestr(zipfile.ZipInfo("hvm/" + name, date_time=(2020, 1, 1, 0, 0, 0)), b.getvalue())
    import netCDF4
    import PIL
    versions = {"xarray": xr.__version__, "netCDF4": netCDF4.__version__, "libnetcdf": netCDF4.__netcdf4libversion__,
                "libhdf5": netCDF4.__hdf5libversion__, "numpy": np.__version__, "PIL": PIL.__version__}
    with open(os.path.join(out, "versions.json"), "w") as f:
        json.dump(versions, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    # xarray lists the non-index coordinates in the "coordinates" attribute in set order, which
    # depends on string hashing: fix the hash seed so that the bytes reproduce.
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, PYTHONHASHSEED="0"))
    main()
