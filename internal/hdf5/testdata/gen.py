#!/usr/bin/python3
"""Writes the synthetic HDF5 files that test package hdf5, and expected.json.

Run from anywhere with the Debian Python (h5py 3.7 on HDF5 1.10.8, numpy, netCDF4, h5netcdf):

    /usr/bin/python3 internal/hdf5/testdata/gen.py

Each file covers a group of features:

  earliest.h5            superblock 0, version 1 object headers, symbol-table groups, v1 B-tree
                         chunk indexes, every numeric type in both byte orders, strings, shapes,
                         filters, fill values, links, a committed datatype, unsupported types
  latest.h5              superblock 3, version 2 object headers, link messages, dense links
                         (fractal heap with indirect blocks, v2 B-trees), creation order, dense
                         and huge attributes, every version 4 chunk index
  v108_small_offsets.h5  superblock 2 with 4-byte offsets and lengths
  sb1_deep_btrees.h5     superblock 1 (non-default B-tree K values: deep v1 B-trees)
  userblock_latest.h5    a 1024-byte user block before a version 3 superblock
  farray_paged.h5        a paged fixed-array chunk index (more than 1024 chunks)
  netcdf4.nc, h5netcdf.nc  NetCDF-4 files as netCDF4-python and h5netcdf write them

expected.json records, for every file,
what h5py reads back from it (superblock version, visit order, members, links, every dataset's
type, shape, values and attributes), plus what each dataset was meant to exercise ("intent":
layout class and chunk index), so that the Go test checks both the values and that the intended
on-disk structure was really produced and parsed.

The files are deterministic in content but not byte-for-byte (HDF5 stores object timestamps).
"""
import ctypes
import json
import math
import os
import re
import sys

import h5py
import numpy as np

OUT = os.path.dirname(os.path.abspath(__file__))
RNG = np.random.default_rng(20260101)
INTENT = {}  # file -> dataset path -> {"layout": ..., "index": ...}

lib = ctypes.CDLL("libhdf5_serial.so.103")  # the library h5py is linked with
lib.H5Pset_istore_k.argtypes = [ctypes.c_int64, ctypes.c_uint]
lib.H5Pset_sym_k.argtypes = [ctypes.c_int64, ctypes.c_uint, ctypes.c_uint]
lib.H5Pset_chunk_opts.argtypes = [ctypes.c_int64, ctypes.c_uint]
lib.H5Pset_meta_block_size.argtypes = [ctypes.c_int64, ctypes.c_uint64]
lib.H5Pset_small_data_block_size.argtypes = [ctypes.c_int64, ctypes.c_uint64]
lib.H5Pset_dset_no_attrs_hint.argtypes = [ctypes.c_int64, ctypes.c_uint]


def path_of(fname):
    return os.path.join(OUT, fname)


def note(fname, dpath, **kw):
    INTENT.setdefault(fname, {}).setdefault(dpath, {}).update(kw)


def new_file(fname, libver, fcpl=None, userblock=0, times=True):
    p = path_of(fname)
    if os.path.exists(p):
        os.remove(p)
    if fcpl is None:
        fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    if not times:  # no timestamps in the root group's object header
        fcpl.set_obj_track_times(False)
    if userblock:
        fcpl.set_userblock(userblock)
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    low, high = libver if isinstance(libver, tuple) else (libver, "latest")
    bounds = {"earliest": h5py.h5f.LIBVER_EARLIEST, "v108": h5py.h5f.LIBVER_V18,
              "v110": h5py.h5f.LIBVER_V110, "latest": h5py.h5f.LIBVER_LATEST}
    fapl.set_libver_bounds(bounds[low], bounds[high])
    # No metadata or small raw data aggregation: keeps the files small.
    assert lib.H5Pset_meta_block_size(fapl.id, 0) >= 0
    assert lib.H5Pset_small_data_block_size(fapl.id, 0) >= 0
    fid = h5py.h5f.create(p.encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl, fapl=fapl)
    return h5py.File(fid)


def lowlevel_dataset(parent, name, data, chunks=None, layout=None, alloc_early=False, filters=(),
                     maxshape=None, dont_filter_partial=False, fill=None, write=True, times=True,
                     min_header=False):
    """Creates a dataset through the low-level API (for properties h5py.File cannot set)."""
    data = np.asarray(data)
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    if not times:
        dcpl.set_obj_track_times(False)
    if min_header:  # an object header just large enough (instead of at least 256 bytes)
        assert lib.H5Pset_dset_no_attrs_hint(dcpl.id, 1) >= 0
    if layout == "compact":
        dcpl.set_layout(h5py.h5d.COMPACT)
    if chunks is not None:
        dcpl.set_chunk(chunks)
    for flt in filters:
        if flt == "shuffle":
            dcpl.set_shuffle()
        elif flt == "deflate":
            dcpl.set_deflate(6)
        elif flt == "fletcher32":
            dcpl.set_fletcher32()
    if alloc_early:
        dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
    if dont_filter_partial:
        assert lib.H5Pset_chunk_opts(dcpl.id, 0x0002) >= 0
    if fill is not None:
        dcpl.set_fill_value(np.array(fill, dtype=data.dtype))
    maxshape = tuple(h5py.h5s.UNLIMITED if m is None else m for m in (maxshape or data.shape))
    space = h5py.h5s.create_simple(data.shape, maxshape)
    tid = h5py.h5t.py_create(data.dtype)
    dsid = h5py.h5d.create(parent.id, name.encode(), tid, space, dcpl=dcpl)
    if write:
        dsid.write(h5py.h5s.ALL, h5py.h5s.ALL, np.ascontiguousarray(data))
    return parent[name]


def fixed_string_dataset(parent, name, values, size, pad):
    """A fixed-length ASCII string dataset with the given padding (h5py always writes NULLPAD)."""
    tid = h5py.h5t.C_S1.copy()
    tid.set_size(size)
    tid.set_strpad({"nullterm": h5py.h5t.STR_NULLTERM, "nullpad": h5py.h5t.STR_NULLPAD,
                    "spacepad": h5py.h5t.STR_SPACEPAD}[pad])
    arr = np.array(values, dtype="S%d" % size)
    if pad == "spacepad":
        arr = np.array([v.ljust(size) for v in values], dtype="S%d" % size)
    space = h5py.h5s.create_simple(arr.shape)
    dsid = h5py.h5d.create(parent.id, name.encode(), tid, space)
    dsid.write(h5py.h5s.ALL, h5py.h5s.ALL, arr, mtype=tid)


NUMERIC = {
    "i1": [-128, -1, 0, 1, 127],
    "i2": [-32768, -2, 0, 3, 32767],
    "i4": [-2147483648, -5, 0, 7, 2147483647],
    "i8": [-9223372036854775808, -9, 0, 11, 9223372036854775807],
    "u1": [0, 1, 128, 254, 255],
    "u2": [0, 1, 32768, 65534, 65535],
    "u4": [0, 1, 2147483648, 4294967294, 4294967295],
    "u8": [0, 1, 9223372036854775807, 9007199254740993, 2**63 + 5],
    "f2": [0.0, -0.0, 1.5, -65504.0, 6e-08, float("inf"), float("nan")],
    "f4": [0.0, -0.0, 1.25, -3.4028234663852886e38, 1.401298464324817e-45, 0.1, float("-inf"), float("nan")],
    "f8": [0.0, -0.0, 1.0 / 3.0, -1.7976931348623157e308, 5e-324, 0.1, float("inf"), float("nan")],
}


def write_numeric(grp, fname, big_endian=True):
    for code, vals in NUMERIC.items():
        grp.create_dataset(code, data=np.array(vals, dtype="<" + code))
        note(fname, grp.name + "/" + code, layout="contiguous")
        if big_endian and code not in ("i1", "u1"):
            grp.create_dataset("be_" + code, data=np.array(vals, dtype=">" + code))
    # A 3-D float32 array of random values and a 2-D int16 one.
    grp.create_dataset("f4_3d", data=RNG.standard_normal((2, 3, 4)).astype("<f4"))
    grp.create_dataset("i2_2d", data=RNG.integers(-1000, 1000, (3, 5)).astype(">i2"))


def write_strings(grp):
    grp.create_dataset("fixed_ascii", data=np.array([b"a", b"bc", b"defghijk"], dtype="S8"))
    ds = grp.create_dataset("fixed_utf8", shape=(2,), dtype=h5py.string_dtype("utf-8", 12))
    ds.id.write(h5py.h5s.ALL, h5py.h5s.ALL, np.array(["h\u00e9".encode(), "\u65e5\u672c".encode()], dtype="S12"),
                mtype=ds.id.get_type())
    grp.create_dataset("vlen_utf8", data=["", "x", "h\u00e9llo w\u00f6rld", "\u65e5\u672c\u8a9e"], dtype=h5py.string_dtype("utf-8"))
    grp.create_dataset("vlen_ascii", data=[b"alpha", b"beta"], dtype=h5py.string_dtype("ascii"))
    grp.create_dataset("vlen_scalar", data="just one", dtype=h5py.string_dtype())
    fixed_string_dataset(grp, "fixed_nullterm", [b"ab", b"cdef", b""], 6, "nullterm")
    fixed_string_dataset(grp, "fixed_spacepad", [b"ab", b"cdef"], 6, "spacepad")


def write_shapes(grp):
    grp.create_dataset("scalar_f8", data=np.float64(3.5))
    grp.create_dataset("scalar_i4", data=np.int32(-7))
    grp.create_dataset("null_f4", data=h5py.Empty("<f4"))
    grp.create_dataset("zero_len", data=np.zeros((0,), dtype="<f8"))
    grp.create_dataset("zero_2d", data=np.zeros((2, 0), dtype="<i4"))
    grp.create_dataset("rank5", data=np.arange(2 * 1 * 3 * 1 * 2, dtype="<u2").reshape(2, 1, 3, 1, 2))


def write_attrs(obj, many=0):
    obj.attrs["a_int"] = np.int64(-42)
    obj.attrs["a_uint8"] = np.uint8(200)
    obj.attrs["a_float"] = 2.5
    obj.attrs["a_f4_array"] = np.array([1.5, -2.25, 1e-3], dtype="<f4")
    obj.attrs["a_be_i4_2d"] = np.array([[1, -2], [3, -4]], dtype=">i4")
    obj.attrs["a_str"] = "h\u00e9llo"
    obj.attrs["a_bytes"] = np.bytes_(b"fixed")
    obj.attrs["a_str_list"] = ["one", "two", "three"]
    obj.attrs["a_empty"] = h5py.Empty("<f8")
    for i in range(many):
        obj.attrs["many_%02d" % i] = np.float64(i) * 1.5


def write_unsupported(grp):
    grp.create_dataset("compound", data=np.array([(1, 2.0), (3, 4.0)], dtype=[("a", "<i4"), ("b", "<f8")]))
    grp.create_dataset("array_type", data=np.zeros((2,), dtype=np.dtype(("<f4", (3,)))))
    grp.create_dataset("bool_enum", data=np.array([True, False, True]))
    grp.create_dataset("opaque", data=np.void(b"\x01\x02\x03"))
    grp.create_dataset("refs", data=[grp.file["/"].ref, grp.ref], dtype=h5py.ref_dtype)
    # Filters this package does not implement: reading must fail with an error naming them.
    fname = os.path.basename(grp.file.filename)
    grp.create_dataset("lzf", data=np.arange(20, dtype="<f4"), chunks=(5,), compression="lzf")
    note(fname, grp.name + "/lzf", layout="chunked", error="lzf")
    grp.create_dataset("scaleoffset", data=np.arange(20, dtype="<i4"), chunks=(5,), scaleoffset=0)
    note(fname, grp.name + "/scaleoffset", layout="chunked", error="scaleoffset")


def write_links(f):
    f["soft_to_i4"] = h5py.SoftLink("/types/i4")
    f["soft_relative"] = h5py.SoftLink("types/f8")
    f["dangling"] = h5py.SoftLink("/does/not/exist")
    f["external"] = h5py.ExternalLink("other.h5", "/some/path")
    f["alias_f8"] = f["types/f8"]  # a second hard link to the same dataset


def write_committed(f):
    f["committed_f4"] = np.dtype("<f4")
    f.create_dataset("uses_committed", data=np.array([1.0, 2.0, 3.0], dtype="<f4"), dtype=f["committed_f4"])
    ds = f.create_dataset("attr_committed_host", data=np.int8(1))
    ds.attrs.create("a_committed", np.array([7.5], dtype="<f4"), dtype=f["committed_f4"])


def write_chunked_common(grp, fname, btree_only):
    """Chunked datasets valid under any format: filters, partial edges, fill values."""
    data = RNG.standard_normal((7, 5)).astype("<f4")
    for name, kw in [("plain", {}), ("deflate", {"compression": "gzip", "compression_opts": 4}),
                     ("shuffle_deflate", {"compression": "gzip", "shuffle": True}),
                     ("fletcher32", {"fletcher32": True}),
                     ("all_filters", {"compression": "gzip", "shuffle": True, "fletcher32": True})]:
        grp.create_dataset(name, data=data, chunks=(3, 2), **kw)  # 7x5 in 3x2 chunks: partial edges
        note(fname, grp.name + "/" + name, layout="chunked", index="btree1" if btree_only else "fixed-array")
    ds = grp.create_dataset("sparse_fill", shape=(6, 6), chunks=(2, 3), dtype="<i4", fillvalue=-99)
    ds[0:2, 0:3] = np.arange(6).reshape(2, 3)
    ds[4:6, 3:6] = np.arange(6).reshape(2, 3) + 100
    note(fname, grp.name + "/sparse_fill", layout="chunked", index="btree1" if btree_only else "fixed-array")
    ds = grp.create_dataset("sparse_fill_deflate", shape=(10,), chunks=(4,), dtype="<f8", fillvalue=2.5, compression="gzip")
    ds[4:8] = [1, 2, 3, 4]
    note(fname, grp.name + "/sparse_fill_deflate", layout="chunked", index="btree1" if btree_only else "fixed-array")
    ds = grp.create_dataset("never_written", shape=(3, 4), chunks=(2, 2), dtype="<u2", fillvalue=7)
    note(fname, grp.name + "/never_written", layout="chunked")
    ds = grp.create_dataset("resizable", shape=(3, 4), maxshape=(None, 4), chunks=(2, 2), dtype="<i8")
    ds[...] = np.arange(12).reshape(3, 4)
    ds.resize((5, 4))
    ds[3:5] = -np.arange(8).reshape(2, 4)
    note(fname, grp.name + "/resizable", layout="chunked", index="btree1" if btree_only else "extensible-array")
    ds = grp.create_dataset("many_chunks", data=np.arange(70, dtype="<i1"), chunks=(1,))
    note(fname, grp.name + "/many_chunks", layout="chunked", index="btree1" if btree_only else "fixed-array")


def write_layouts(grp, fname):
    lowlevel_dataset(grp, "compact", np.arange(10, dtype="<i2"), layout="compact")
    note(fname, grp.name + "/compact", layout="compact")
    grp.create_dataset("contiguous", data=np.linspace(0, 1, 9).reshape(3, 3))
    note(fname, grp.name + "/contiguous", layout="contiguous")
    grp.create_dataset("contiguous_unwritten", shape=(4,), dtype="<f4", fillvalue=1.5)
    note(fname, grp.name + "/contiguous_unwritten", layout="contiguous")
    grp.create_dataset("contiguous_unwritten_nofill", shape=(2, 2), dtype="<i4")
    note(fname, grp.name + "/contiguous_unwritten_nofill", layout="contiguous")


def write_latest_indexes(grp, fname):
    """Chunked datasets that select each version 4 chunk index."""
    d = RNG.integers(-50, 50, (4, 5)).astype("<i4")
    grp.create_dataset("single", data=d, chunks=(4, 5))
    note(fname, grp.name + "/single", layout="chunked", index="single")
    grp.create_dataset("single_deflate", data=d, chunks=(4, 5), compression="gzip")
    note(fname, grp.name + "/single_deflate", layout="chunked", index="single")
    lowlevel_dataset(grp, "implicit", np.arange(24, dtype="<f8").reshape(6, 4), chunks=(2, 2), alloc_early=True)
    note(fname, grp.name + "/implicit", layout="chunked", index="implicit")
    lowlevel_dataset(grp, "implicit_partial", np.arange(5 * 7, dtype="<i2").reshape(5, 7), chunks=(2, 3), alloc_early=True)
    note(fname, grp.name + "/implicit_partial", layout="chunked", index="implicit")
    # Fixed array whose current extent is smaller than its (fixed) maximum extent.
    ds = lowlevel_dataset(grp, "farray_maxdims", np.arange(30, dtype="<i4").reshape(5, 6), chunks=(2, 5), maxshape=(10, 12))
    note(fname, grp.name + "/farray_maxdims", layout="chunked", index="fixed-array")
    # Extensible arrays: unlimited first dimension, unlimited second dimension, many chunks.
    ds = grp.create_dataset("earray", shape=(10,), maxshape=(None,), chunks=(3,), dtype="<f4")
    ds[...] = np.arange(10) * 0.5
    ds.resize((40,))
    ds[20:40] = np.arange(20) + 100
    note(fname, grp.name + "/earray", layout="chunked", index="extensible-array")
    ds = grp.create_dataset("earray_deflate", data=np.arange(50, dtype="<i8"), maxshape=(None,), chunks=(4,), compression="gzip", shuffle=True)
    note(fname, grp.name + "/earray_deflate", layout="chunked", index="extensible-array")
    ds = grp.create_dataset("earray_dim1", data=np.arange(30, dtype="<i2").reshape(3, 10), maxshape=(3, None), chunks=(2, 3))
    note(fname, grp.name + "/earray_dim1", layout="chunked", index="extensible-array")
    ds = grp.create_dataset("earray_super", data=(np.arange(300) % 251).astype("<u1"), maxshape=(None,), chunks=(1,))
    note(fname, grp.name + "/earray_super", layout="chunked", index="extensible-array")
    ds = grp.create_dataset("earray_sparse", shape=(300,), maxshape=(None,), chunks=(1,), dtype="<i2", fillvalue=-1)
    ds[5] = 5
    ds[150] = 150
    ds[299] = 299
    note(fname, grp.name + "/earray_sparse", layout="chunked", index="extensible-array")
    # Version 2 B-trees: two unlimited dimensions.
    ds = grp.create_dataset("btree2", data=np.arange(35, dtype="<f8").reshape(5, 7), maxshape=(None, None), chunks=(2, 3))
    note(fname, grp.name + "/btree2", layout="chunked", index="btree2")
    ds = grp.create_dataset("btree2_deflate", data=np.arange(35, dtype="<u4").reshape(5, 7), maxshape=(None, None), chunks=(2, 3), compression="gzip")
    note(fname, grp.name + "/btree2_deflate", layout="chunked", index="btree2")
    ds = grp.create_dataset("btree2_many", data=np.arange(400, dtype="<i2").reshape(20, 20), maxshape=(None, None), chunks=(1, 2))
    note(fname, grp.name + "/btree2_many", layout="chunked", index="btree2")
    # Partial edge chunks stored unfiltered (H5D_CHUNK_DONT_FILTER_PARTIAL_CHUNKS).
    lowlevel_dataset(grp, "dont_filter_partial", RNG.standard_normal((7, 5)).astype("<f8"), chunks=(3, 2),
                     filters=("shuffle", "deflate"), dont_filter_partial=True)
    note(fname, grp.name + "/dont_filter_partial", layout="chunked", index="fixed-array")
    lowlevel_dataset(grp, "dont_filter_partial_earray", np.arange(11, dtype="<i4"), chunks=(4,), maxshape=(None,),
                     filters=("deflate",), dont_filter_partial=True)
    note(fname, grp.name + "/dont_filter_partial_earray", layout="chunked", index="extensible-array")


def write_dense_groups(f, fname):
    g = f.create_group("dense")
    for i in range(20):
        if i % 3 == 0:
            g.create_group("sub_%02d" % i)
        else:
            g.create_dataset("ds_%02d" % i, data=np.array([i], dtype="<i4"))
    g = f.create_group("bigdense")
    for i in range(150):
        g["link_%03d" % (149 - i)] = h5py.SoftLink("/dense/ds_%02d" % (1 + (i % 2)))
    g = f.create_group("ordered", track_order=True)
    for name in ["zeta", "alpha", "mu", "beta", "omega", "gamma", "delta", "epsilon", "eta", "theta", "iota", "kappa"]:
        g.create_dataset(name, data=np.array([len(name)], dtype="<i1"))
    g = f.create_group("ordered_small", track_order=True)
    for name in ["c", "a", "b"]:
        g.create_group(name)
    ds = f.create_dataset("dense_attrs", data=np.int8(0))
    write_attrs(ds, many=12)
    # Larger than the attribute heap's largest managed object (4 KiB): stored as a "huge" object.
    ds.attrs["huge"] = np.arange(600, dtype="<f8") / 8
    ds = f.create_dataset("ordered_attrs", data=np.int8(0), track_order=True)
    for name in ["z", "y", "x", "w"]:
        ds.attrs[name] = name
    ds = f.create_dataset("ordered_dense_attrs", data=np.int8(0), track_order=True)
    for i in range(14):
        ds.attrs["attr_%c" % "nmlkjihgfedcba"[i]] = np.int32(i)
    g = f.create_group("group_dense_attrs")
    write_attrs(g, many=10)


def make_earliest():
    fname = "earliest.h5"
    f = new_file(fname, "earliest")
    write_attrs(f)
    t = f.create_group("types")
    write_numeric(t, fname)
    write_attrs(t["i4"])
    write_strings(f.create_group("strings"))
    write_shapes(f.create_group("shapes"))
    write_layouts(f.create_group("layouts"), fname)
    write_chunked_common(f.create_group("chunked"), fname, btree_only=True)
    f.create_group("g1").create_group("g2").create_group("g3").attrs["depth"] = np.int32(3)
    f["g1"].attrs["name"] = "first"
    f.create_group("empty_group")
    write_links(f)
    write_committed(f)
    write_unsupported(f.create_group("unsupported"))
    f.close()


def make_latest():
    fname = "latest.h5"
    f = new_file(fname, "latest")
    write_attrs(f)
    t = f.create_group("types")
    write_numeric(t, fname, big_endian=True)
    write_strings(f.create_group("strings"))
    write_shapes(f.create_group("shapes"))
    write_layouts(f.create_group("layouts"), fname)
    write_chunked_common(f.create_group("chunked"), fname, btree_only=False)
    write_latest_indexes(f.create_group("indexes"), fname)
    f.create_group("g1").create_group("g2").create_group("g3").attrs["depth"] = np.int32(3)
    f.create_group("empty_group")
    write_links(f)
    write_committed(f)
    write_dense_groups(f, fname)
    write_unsupported(f.create_group("unsupported"))
    f.close()


def make_v108():
    """Superblock version 2 (object header v2, layout v3) with 4-byte offsets and lengths."""
    fname = "v108_small_offsets.h5"
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_sizes(4, 4)
    f = new_file(fname, ("v108", "v108"), fcpl=fcpl)
    write_attrs(f)
    t = f.create_group("types")
    for code in ("i4", "f8", "u8"):
        t.create_dataset(code, data=np.array(NUMERIC[code], dtype="<" + code))
    write_strings(f.create_group("strings"))
    write_chunked_common(f.create_group("chunked"), fname, btree_only=True)
    write_dense_groups(f, fname)
    f.close()


def make_sb1():
    """Superblock version 1 (non-default indexed storage K) with small B-tree K values."""
    fname = "sb1_deep_btrees.h5"
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    assert lib.H5Pset_istore_k(fcpl.id, 2) >= 0
    assert lib.H5Pset_sym_k(fcpl.id, 2, 2) >= 0
    f = new_file(fname, "earliest", fcpl=fcpl)
    g = f.create_group("many")
    for i in range(40):
        g.create_dataset("m%02d" % ((i * 17) % 40), data=np.array([i], dtype="<i2"))
    ds = f.create_dataset("deep_chunks", data=np.arange(60, dtype="<f4").reshape(6, 10), chunks=(1, 2))
    note(fname, "/deep_chunks", layout="chunked", index="btree1")
    ds = f.create_dataset("deep_chunks_deflate", data=np.arange(45, dtype="<i8"), chunks=(1,), compression="gzip")
    note(fname, "/deep_chunks_deflate", layout="chunked", index="btree1")
    f.close()


def make_userblock():
    fname = "userblock_latest.h5"
    f = new_file(fname, "latest", userblock=1024)
    f.create_dataset("x", data=np.arange(6, dtype="<i4").reshape(2, 3))
    f.create_group("g").attrs["k"] = "v"
    f.close()
    with open(path_of(fname), "r+b") as fh:  # a recognisable user block
        fh.write(b"user block: not HDF5 data\n")


def make_fapaged():
    """A fixed array index with more than 1024 chunks: its data block is paged."""
    fname = "farray_paged.h5"
    f = new_file(fname, "latest")
    ds = f.create_dataset("paged", shape=(1100,), chunks=(1,), dtype="<i1", fillvalue=-1)
    ds[0:10] = np.arange(10)
    ds[1095:1100] = np.arange(5) + 50
    note(fname, "/paged", layout="chunked", index="fixed-array")
    f.close()


def make_netcdf():
    """NetCDF-4 files as netCDF4-python and h5netcdf write them (dimension scales, unlimited
    dimensions, chunking, deflate, string and numeric attributes)."""
    import netCDF4
    fname = "netcdf4.nc"
    p = path_of(fname)
    if os.path.exists(p):
        os.remove(p)
    with netCDF4.Dataset(p, "w", format="NETCDF4") as nc:
        nc.title = "synthetic NetCDF-4 test file"
        nc.createDimension("presentation", None)
        nc.createDimension("neuroid", 6)
        pres = nc.createVariable("presentation", "i8", ("presentation",))
        neu = nc.createVariable("neuroid_id", str, ("neuroid",))
        resp = nc.createVariable("responses", "f4", ("presentation", "neuroid"), zlib=True, complevel=4,
                                 chunksizes=(4, 3), fill_value=np.float32(-1.0))
        resp.units = "spikes/s"
        resp.setncattr("scale_factor_test", np.float64(0.5))
        pres[:] = np.arange(10)
        neu[:] = np.array(["n%d" % i for i in range(6)], dtype=object)
        resp[:] = (np.arange(60).reshape(10, 6) * 0.25).astype("f4")
        note(fname, "/responses", layout="chunked")
        grp = nc.createGroup("meta")
        v = grp.createVariable("animal", "S1", ("neuroid",))
        v[:] = np.array(list(b"abcdef"), dtype="S1")
    import h5netcdf
    fname = "h5netcdf.nc"
    p = path_of(fname)
    if os.path.exists(p):
        os.remove(p)
    with h5netcdf.File(p, "w") as nc:
        nc.dimensions = {"x": 5, "t": None}
        v = nc.create_variable("x", ("x",), "f8", data=np.linspace(0, 1, 5))
        v = nc.create_variable("data", ("t", "x"), "i4", chunks=(2, 5), compression="gzip")
        nc.resize_dimension("t", 3)
        v[...] = np.arange(15).reshape(3, 5)
        v.attrs["long_name"] = "test data"
        note(fname, "/data", layout="chunked")


# ---------------------------------------------------------------------------------------------
# Expectations: what h5py reads back.


def jfloat(v):
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0 and math.copysign(1, v) < 0:
        return "-0"
    return v


def dtype_str(dt):
    if h5py.check_string_dtype(dt) is not None and h5py.check_string_dtype(dt).length is None:
        return "vlen-str"
    if dt.kind == "S":
        return "|S%d" % dt.itemsize
    if dt.kind in "iuf":
        order = "|" if dt.itemsize == 1 else (">" if dt.byteorder == ">" else "<")
        return "%s%s%d" % (order, dt.kind, dt.itemsize)
    return None


def describe_values(dt, arr, tid):
    """Returns the JSON form of values, or None when the type is not one this package reads."""
    flat = np.asarray(arr).reshape(-1)
    cls = tid.get_class()
    if cls == h5py.h5t.STRING:
        out = []
        for v in flat:
            if isinstance(v, bytes):
                v = v.decode("utf-8")
            out.append(v)
        if tid.is_variable_str():
            return {"strings": out}
        # numpy strips trailing NULs of fixed strings; HDF5 NULLTERM ends at the first NUL,
        # SPACEPAD strings are stripped of trailing spaces by this package.
        pad = tid.get_strpad()
        if pad == h5py.h5t.STR_SPACEPAD:
            out = [s.rstrip(" ") for s in out]
        if pad == h5py.h5t.STR_NULLTERM:
            out = [s.split("\x00")[0] for s in out]
        return {"strings": out}
    if cls in (h5py.h5t.INTEGER, h5py.h5t.ENUM):
        return {"ints": [int(v) for v in flat]}
    if cls == h5py.h5t.FLOAT:
        return {"floats": [jfloat(v) for v in flat]}
    return None


def class_name(tid):
    return {h5py.h5t.INTEGER: "fixed-point", h5py.h5t.FLOAT: "floating-point", h5py.h5t.STRING: "string",
            h5py.h5t.COMPOUND: "compound", h5py.h5t.ARRAY: "array", h5py.h5t.ENUM: "enum",
            h5py.h5t.OPAQUE: "opaque", h5py.h5t.REFERENCE: "reference", h5py.h5t.VLEN: "variable-length",
            h5py.h5t.BITFIELD: "bitfield", h5py.h5t.TIME: "time"}[tid.get_class()]


def attrs_of(obj):
    out = []
    for name in obj.attrs:  # h5py's order
        aid = h5py.h5a.open(obj.id, name.encode())
        tid = aid.get_type()
        space = aid.get_space()
        a = {"name": name, "class": class_name(tid), "size": tid.get_size()}
        if space.get_simple_extent_type() == h5py.h5s.NULL:
            a["space"] = "null"
            a["shape"] = []
        else:
            a["space"] = "scalar" if space.get_simple_extent_type() == h5py.h5s.SCALAR else "simple"
            a["shape"] = list(space.shape)
            val = obj.attrs[name]
            v = describe_values(val.dtype if hasattr(val, "dtype") else None, val, tid)
            if v is None and tid.get_class() == h5py.h5t.STRING:
                v = {"strings": [val]}
            if v:
                a.update(v)
        ds = dtype_str(aid.dtype)
        if ds and tid.get_class() in (h5py.h5t.INTEGER, h5py.h5t.FLOAT, h5py.h5t.STRING):
            a["dtype"] = ds
        out.append(a)
    return out


def expectations(fname):
    f = h5py.File(path_of(fname), "r")
    exp = {"superblock": f.id.get_create_plist().get_version()[0], "walk": [], "groups": {},
           "datasets": {}, "links": {}, "datatypes": {}}
    f.visit(exp["walk"].append)

    def group(g):
        exp["groups"][g.name] = {"members": list(g.keys()), "attrs": attrs_of(g)}
        for name in g:
            lk = g.get(name, getlink=True)
            full = (g.name.rstrip("/") + "/" + name)
            if isinstance(lk, h5py.SoftLink):
                exp["links"][full] = {"type": "soft", "target": lk.path}
            elif isinstance(lk, h5py.ExternalLink):
                exp["links"][full] = {"type": "external", "file": lk.filename, "target": lk.path}

    def visit(name, obj):
        if isinstance(obj, h5py.Group):
            group(obj)
        elif isinstance(obj, h5py.Datatype):
            exp["datatypes"][obj.name] = {"class": class_name(obj.id), "size": obj.id.get_size(), "attrs": attrs_of(obj)}
        elif isinstance(obj, h5py.Dataset):
            tid = obj.id.get_type()
            space = obj.id.get_space()
            d = {"class": class_name(tid), "size": tid.get_size(), "attrs": attrs_of(obj)}
            kind = space.get_simple_extent_type()
            d["space"] = {h5py.h5s.NULL: "null", h5py.h5s.SCALAR: "scalar", h5py.h5s.SIMPLE: "simple"}[kind]
            d["shape"] = list(obj.shape) if obj.shape is not None else []
            # HDF5 1.10 decodes an unlimited maximum stored in 4-byte lengths as 2**32-1 instead of
            # H5S_UNLIMITED; this package reads both as unlimited.
            d["maxshape"] = [(-1 if m is None or (m == 2**32 - 1 and f.id.get_create_plist().get_sizes()[1] == 4) else m)
                             for m in obj.maxshape] if obj.maxshape is not None else []
            ds = dtype_str(obj.dtype)
            if ds and tid.get_class() in (h5py.h5t.INTEGER, h5py.h5t.FLOAT, h5py.h5t.STRING):
                d["dtype"] = ds
            dcpl = obj.id.get_create_plist()
            d["layout"] = {h5py.h5d.COMPACT: "compact", h5py.h5d.CONTIGUOUS: "contiguous", h5py.h5d.CHUNKED: "chunked"}[dcpl.get_layout()]
            if d["layout"] == "chunked":
                d["chunks"] = list(obj.chunks)
                d["filters"] = [dcpl.get_filter(i)[0] for i in range(dcpl.get_nfilters())]
            if obj.name in INTENT.get(fname, {}):
                d["intent"] = INTENT[fname][obj.name]
            if kind != h5py.h5s.NULL:
                v = describe_values(obj.dtype, obj[()], tid)
                if v is not None:
                    d.update(v)
            exp["datasets"][obj.name] = d

    group(f["/"])  # not f itself: h5py.File iterates by name even when the root tracks creation order
    f.visititems(visit)
    f.close()
    return exp


FILES = {
    "earliest.h5": make_earliest,
    "latest.h5": make_latest,
    "v108_small_offsets.h5": make_v108,
    "sb1_deep_btrees.h5": make_sb1,
    "userblock_latest.h5": make_userblock,
    "farray_paged.h5": make_fapaged,
}


def main():
    for fn in FILES.values():
        fn()
    make_netcdf()
    names = list(FILES) + ["netcdf4.nc", "h5netcdf.nc"]
    exp = {"generator": "gen.py with h5py %s, HDF5 %s, numpy %s" % (h5py.version.version, h5py.version.hdf5_version, np.__version__),
           "files": {n: expectations(n) for n in names}}
    text = json.dumps(exp, indent=1, sort_keys=True, ensure_ascii=False)
    # Lists of scalars on one line each: a readable diff at a quarter of the size.
    text = re.sub(r"\[\s+([^\[\]{}]*?)\s+\]", lambda m: "[" + re.sub(r",\s*\n\s*", ", ", m.group(1)) + "]", text)
    with open(os.path.join(OUT, "expected.json"), "w") as fh:
        fh.write(text + "\n")
    for n in names:
        print("%-26s %7d bytes" % (n, os.path.getsize(path_of(n))))


if __name__ == "__main__":
    sys.exit(main())
