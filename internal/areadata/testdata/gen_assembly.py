"""Writes small NetCDF-4 assemblies in the layout of Brain-Score's assy_dicarlo_MajajHong2015_public.nc.

The real file is one DataArray named 'dicarlo.MajajHong2015.public', float32, of dimensions
(neuroid: 256, presentation: 148480, time_bin: 1), saved by xarray through netCDF4 with its
MultiIndex levels reset to plain coordinates: neuroid_id, animal and region (strings) along neuroid,
image_id (strings) and repetition (int64) along presentation, time_bin_start and time_bin_end
(int64, 70 and 170) along time_bin, and the attribute stimulus_set_identifier = 'dicarlo.hvm-public'
(brainio's README shows this repr). The real file has more coordinates (array position, electrode,
image metadata); they are left out here because their dtypes are not recorded where we could read
them, and the reader ignores coordinates it does not use.

Usage: python3 gen_assembly.py OUTDIR. Writes assembly_1bin.nc, assembly_2bins.nc and, for each, a
.json of what xarray computes for region IT (Brain-Score's average_repetition: groupby image_id,
mean; the time bins averaged first), which the Go test compares with a tolerance.
"""
import json
import os
import sys

import numpy as np
import xarray as xr

NAME = "dicarlo.MajajHong2015.public"


def assembly(bins, seed):
    rng = np.random.default_rng(seed)
    regions = ["V4", "IT", "IT", "V4", "IT"]
    animals = ["Chabo", "Chabo", "Tito", "Tito", "Tito"]
    ids = ["%s_L_M_%d_%d" % (a, i, i + 3) for i, a in enumerate(animals)]
    # Images shown a different number of times, in an interleaved order, as in the real sessions.
    shown = {"img_c": 3, "img_a": 2, "img_b": 3, "img_d": 1}
    pres_img, pres_rep = [], []
    for rep in range(max(shown.values())):
        for img, k in shown.items():
            if rep < k:
                pres_img.append(img)
                pres_rep.append(rep)
    data = rng.normal(size=(len(ids), len(pres_img), len(bins))).astype(np.float32)
    data[1, 4, 0] = np.nan  # one unrecorded response
    starts = np.array([b[0] for b in bins], dtype=np.int64)
    ends = np.array([b[1] for b in bins], dtype=np.int64)
    da = xr.DataArray(
        data,
        dims=("neuroid", "presentation", "time_bin"),
        coords={
            "neuroid_id": ("neuroid", np.array(ids, dtype=object)),
            "animal": ("neuroid", np.array(animals, dtype=object)),
            "region": ("neuroid", np.array(regions, dtype=object)),
            "image_id": ("presentation", np.array(pres_img, dtype=object)),
            "repetition": ("presentation", np.array(pres_rep, dtype=np.int64)),
            "time_bin_start": ("time_bin", starts),
            "time_bin_end": ("time_bin", ends),
        },
        name=NAME,
        attrs={"stimulus_set_identifier": "dicarlo.hvm-public"},
    )
    return da


def expected(da):
    it = da.where(da.region == "IT", drop=True).mean("time_bin")
    avg = it.groupby("image_id").mean("presentation")  # NaN-skipping, as Brain-Score's average_repetition
    images = list(dict.fromkeys(da.image_id.values.tolist()))
    avg = avg.sel(image_id=images).transpose("neuroid", "image_id")
    return {"images": images, "averaged": [[None if np.isnan(v) else float(v) for v in row] for row in avg.values]}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    versions = {}
    for name, bins, seed in (("assembly_1bin", [(70, 170)], 1), ("assembly_2bins", [(70, 120), (120, 170)], 2)):
        da = assembly(bins, seed)
        da.to_netcdf(os.path.join(out, name + ".nc"), engine="netcdf4", format="NETCDF4")
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump(expected(da), f, indent=1)
            f.write("\n")
    import netCDF4
    versions = {"xarray": xr.__version__, "netCDF4": netCDF4.__version__, "libnetcdf": netCDF4.__netcdf4libversion__, "libhdf5": netCDF4.__hdf5libversion__}
    with open(os.path.join(out, "versions.json"), "w") as f:
        json.dump(versions, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    # xarray lists the non-index coordinates in the "coordinates" attribute in set order, which
    # depends on string hashing: fix the hash seed so that the bytes reproduce.
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, PYTHONHASHSEED="0"))
    main()
