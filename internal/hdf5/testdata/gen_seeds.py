#!/usr/bin/python3
"""Writes the fuzz seeds of package hdf5: tiny HDF5 files, one feature group each.

    /usr/bin/python3 internal/hdf5/testdata/gen_seeds.py [OUT_DIR]

OUT_DIR defaults to testdata/seeds. The fuzz targets (FuzzOpen, FuzzOpenNoChecksums) add every
seeds/*.h5 to their corpus. The go fuzzer mutates, executes and minimises an input in time that
grows with its size, so a seed must be small: each file here holds one or two structures (a few
hundred bytes to a few kilobytes) instead of everything at once as the files of gen.py do (those,
and the real weight files, are regression tests, not seeds). Together the seeds cover every
superblock version, object header version, group storage, layout, chunk index, filter, dataspace
and datatype the reader handles, and the unsupported ones it must reject cleanly.

The files are byte-for-byte reproducible for a given h5py and libhdf5: no object stores a
timestamp (track_times off everywhere, including the root group), values are fixed, and metadata
aggregation is off (gen.new_file). versions.json records the versions that wrote them;
TestSeedsReproduce reruns this script and compares bytes when the versions match, and skips
otherwise (another libhdf5 lays files out differently).
"""
import json
import os
import sys

import h5py
import numpy as np

import gen  # the helpers of the regression-file generator, in this directory
from gen import lib

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")  # main: argv[1] if given
lib.H5Pset_link_phase_change.argtypes = [gen.ctypes.c_int64, gen.ctypes.c_uint, gen.ctypes.c_uint]
lib.H5Pset_est_link_info.argtypes = [gen.ctypes.c_int64, gen.ctypes.c_uint, gen.ctypes.c_uint]


def new_file(name, libver, fcpl=None, small_btrees=False, **kw):
    """A file OUT/name without timestamps. small_btrees sets the B-tree K values to 2 (superblock
    version 1), which shrinks symbol-table and chunk B-tree nodes from kilobytes to bytes."""
    gen.OUT = OUT
    if small_btrees:
        fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
        assert lib.H5Pset_istore_k(fcpl.id, 2) >= 0
        assert lib.H5Pset_sym_k(fcpl.id, 2, 2) >= 0
    return gen.new_file(name, libver, fcpl=fcpl, times=False, **kw)


def dataset(parent, name, data, **kw):
    """A dataset without timestamps in an object header of minimal size (attributes added later
    go to continuation blocks)."""
    return gen.lowlevel_dataset(parent, name, data, times=False, min_header=True, **kw)


def group(parent, name, order=False, dense=False, dense_attrs=False):
    """A group without timestamps; order tracks and indexes link creation order, dense stores
    its links in a fractal heap from the first one, dense_attrs does the same for attributes."""
    gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
    gcpl.set_obj_track_times(False)
    # Room for one short link in the new header instead of four of 8 bytes: headers grow on demand.
    assert lib.H5Pset_est_link_info(gcpl.id, 1, 1) >= 0
    if order:
        gcpl.set_link_creation_order(h5py.h5p.CRT_ORDER_TRACKED | h5py.h5p.CRT_ORDER_INDEXED)
        gcpl.set_attr_creation_order(h5py.h5p.CRT_ORDER_TRACKED | h5py.h5p.CRT_ORDER_INDEXED)
    if dense:
        assert lib.H5Pset_link_phase_change(gcpl.id, 0, 0) >= 0
    if dense_attrs:
        gcpl.set_attr_phase_change(0, 0)
    h5py.h5g.create(parent.id, name.encode(), gcpl=gcpl)
    return parent[name]


def string_dataset(parent, name, values, size=None, pad="nullpad", utf8=False):
    """A string dataset: fixed-length (size) with the given padding, or variable-length."""
    if size is None:
        tid = h5py.h5t.py_create(h5py.string_dtype("utf-8" if utf8 else "ascii"), logical=True)
        arr = np.array(values, dtype=object)
    else:
        tid = h5py.h5t.C_S1.copy()
        tid.set_size(size)
        tid.set_strpad({"nullterm": h5py.h5t.STR_NULLTERM, "nullpad": h5py.h5t.STR_NULLPAD,
                        "spacepad": h5py.h5t.STR_SPACEPAD}[pad])
        if utf8:
            tid.set_cset(h5py.h5t.CSET_UTF8)
        arr = np.array([v.encode() for v in values], dtype="S%d" % size)
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_obj_track_times(False)
    space = h5py.h5s.create_simple(arr.shape) if arr.shape else h5py.h5s.create(h5py.h5s.SCALAR)
    dsid = h5py.h5d.create(parent.id, name.encode(), tid, space, dcpl=dcpl)
    dsid.write(h5py.h5s.ALL, h5py.h5s.ALL, arr, mtype=tid)


def empty_dataset(parent, name, dtype):
    """A dataset with a null dataspace."""
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_obj_track_times(False)
    h5py.h5d.create(parent.id, name.encode(), h5py.h5t.py_create(np.dtype(dtype)), h5py.h5s.create(h5py.h5s.NULL), dcpl=dcpl)


def numeric(parent, codes, order):
    for code in codes:
        dataset(parent, code, np.array(gen.NUMERIC[code][:3], dtype=order + code))


def attrs(obj):
    obj.attrs["i"] = np.int64(-42)
    obj.attrs["f4s"] = np.array([1.5, -2.25], dtype=">f4")
    obj.attrs["b"] = np.bytes_(b"fx")
    obj.attrs["e"] = h5py.Empty("<f8")


def sb0_types():
    f = new_file("sb0_types.h5", "earliest")
    numeric(f, ["i1", "u2", "i4", "u8", "f2", "f8"], "<")
    f.close()


def sb0_types_be():
    f = new_file("sb0_types_be.h5", "earliest")
    numeric(f, ["i2", "u4", "i8", "f4"], ">")
    dataset(f, "m", np.arange(6, dtype="<i2").reshape(1, 2, 1, 3, 1))  # rank 5
    f.close()


def sb3_types():
    f = new_file("sb3_types.h5", "latest")
    numeric(f, ["i1", "u1", "i2", "u4", "i8", "f2", "f4"], ">")
    numeric(f, ["u2", "i4", "u8", "f8"], "<")
    f.close()


def sb0_strings():
    f = new_file("sb0_strings.h5", "earliest")
    string_dataset(f, "nt", ["ab", ""], 3, "nullterm")
    string_dataset(f, "np", ["ab", "c"], 2, "nullpad")
    string_dataset(f, "sp", ["a"], 3, "spacepad")
    string_dataset(f, "u8", ["\u65e5"], 4, utf8=True)
    string_dataset(f, "vl", ["", "h\u00e9"], utf8=True)
    string_dataset(f, "va", "one")
    f.close()


def sb3_strings():
    f = new_file("sb3_strings.h5", "latest")
    string_dataset(f, "nt", ["ab", ""], 3, "nullterm")
    string_dataset(f, "vl", ["x", "h\u00e9"], utf8=True)
    f.close()


def sb0_shapes_attrs():
    f = new_file("sb0_shapes_attrs.h5", "earliest")
    dataset(f, "scalar", np.float64(3.5))
    empty_dataset(f, "null", "<f4")
    dataset(f, "zero", np.zeros((2, 0), dtype="<i4"))
    attrs(f)
    attrs(f["scalar"])  # enough messages to need a continuation block
    f.close()


def sb3_attrs():
    f = new_file("sb3_attrs.h5", "latest")
    dataset(f, "x", np.int8(1))
    attrs(f["x"])
    empty_dataset(f, "null", "<f4")
    f.close()


def sb3_dense_attrs():
    f = new_file("sb3_dense_attrs.h5", "latest")
    g = group(f, "g", order=True, dense_attrs=True)
    g.attrs["b"] = np.int32(1)
    g.attrs["a"] = "v"
    g.attrs["c"] = np.array([1.0, 2.0])
    f.close()


def sb3_huge_attr():
    # An attribute larger than the attribute heap's largest managed object (4 KiB): a "huge"
    # object of the fractal heap, reached through the heap's own v2 B-tree.
    f = new_file("sb3_huge_attr.h5", "latest")
    g = group(f, "g", dense_attrs=True)
    g.attrs["h"] = np.zeros(520, dtype="<f8")
    f.close()


def sb0_links():
    f = new_file("sb0_links.h5", "earliest")
    dataset(f, "d", np.int16(5))
    f["soft"] = h5py.SoftLink("/d")
    f["rel"] = h5py.SoftLink("d")
    f["dangling"] = h5py.SoftLink("/no/such")
    f["ext"] = h5py.ExternalLink("o.h5", "/p")
    f["hard"] = f["d"]
    group(group(f, "g1"), "g2")
    f.close()


def sb3_links():
    f = new_file("sb3_links.h5", "latest")
    dataset(f, "d", np.int16(5))
    f["soft"] = h5py.SoftLink("/d")
    f["ext"] = h5py.ExternalLink("o.h5", "/p")
    f["hard"] = f["d"]
    group(f, "g")
    f.close()


def sb0_committed():
    f = new_file("sb0_committed.h5", "earliest")
    f["t"] = np.dtype("<f4")
    f.create_dataset("d", data=np.array([1.0, 2.0], dtype="<f4"), dtype=f["t"], track_times=False)
    f["d"].attrs.create("a", np.array([7.5], dtype="<f4"), dtype=f["t"])
    f.close()


def sb3_dense_group():
    f = new_file("sb3_dense_group.h5", "latest")
    g = group(f, "g", dense=True)
    dataset(g, "b", np.int8(1))
    group(g, "a")
    g["s"] = h5py.SoftLink("/g/b")
    f.close()


def sb3_ordered_groups():
    f = new_file("sb3_ordered_groups.h5", "latest")
    g = group(f, "d", order=True, dense=True)
    for name in ["z", "a", "m"]:
        group(g, name)
    g = group(f, "c", order=True)
    for name in ["y", "b"]:
        group(g, name)
    f.close()


def sb1_deep_btrees():
    # Superblock version 1 (non-default chunk B-tree K) with B-tree K values of 1: a few links
    # and chunks already make several levels of symbol-table and chunk B-trees.
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    assert lib.H5Pset_istore_k(fcpl.id, 1) >= 0
    assert lib.H5Pset_sym_k(fcpl.id, 1, 1) >= 0
    f = new_file("sb1_deep_btrees.h5", "earliest", fcpl=fcpl)
    for i in range(5):
        dataset(f, "m%d" % ((i * 3) % 5), np.array([i], dtype="<i1"))
    dataset(f, "c", np.arange(8, dtype="<i2"), chunks=(1,))
    f.close()


def sb2_small_offsets():
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_sizes(4, 4)
    f = new_file("sb2_small_offsets.h5", ("v108", "v108"), fcpl=fcpl)
    dataset(f, "x", np.array([1, 2], dtype="<i4"))
    dataset(f, "c", np.arange(6, dtype="<f4"), chunks=(4,), filters=("deflate",))
    string_dataset(f, "v", ["ab"], 2)
    g = group(f, "g", dense=True)
    group(g, "h")
    f.close()


def sb3_userblock():
    f = new_file("sb3_userblock.h5", "latest", userblock=512)
    dataset(f, "x", np.arange(3, dtype="<i4"))
    f.close()
    with open(os.path.join(OUT, "sb3_userblock.h5"), "r+b") as fh:
        fh.write(b"user block\n")


def sb1_layouts():
    f = new_file("sb1_layouts.h5", "earliest", small_btrees=True)
    dataset(f, "compact", np.arange(4, dtype="<i2"), layout="compact")
    dataset(f, "contig", np.arange(3, dtype="<f8"))
    dataset(f, "unwritten", np.zeros(3, dtype="<f4"), fill=1.5, write=False)
    dataset(f, "sparse", np.arange(6, dtype="<i4").reshape(2, 3), chunks=(1, 2), fill=-9, write=False)
    f["sparse"][0, 0:2] = [1, 2]
    f.close()


def sb1_filters():
    f = new_file("sb1_filters.h5", "earliest", small_btrees=True)
    d = np.arange(10, dtype="<f4").reshape(5, 2)
    dataset(f, "deflate", d, chunks=(2, 2), filters=("deflate",))
    dataset(f, "all", d, chunks=(3, 2), filters=("shuffle", "deflate", "fletcher32"))
    f.close()


def sb3_index_single():
    f = new_file("sb3_index_single.h5", "latest")
    d = np.arange(6, dtype="<i4").reshape(2, 3)
    dataset(f, "single", d, chunks=(2, 3))
    dataset(f, "filtered", d, chunks=(2, 3), filters=("shuffle", "deflate"))
    f.close()


def sb3_index_implicit():
    f = new_file("sb3_index_implicit.h5", "latest")
    dataset(f, "implicit", np.arange(15, dtype="<i2").reshape(5, 3), chunks=(2, 2), alloc_early=True)
    f.close()


def sb3_index_farray():
    f = new_file("sb3_index_farray.h5", "latest")
    d = np.arange(10, dtype="<f8").reshape(5, 2)
    dataset(f, "fa", d, chunks=(2, 2), maxshape=(6, 2))
    dataset(f, "fa_partial", d, chunks=(2, 2), filters=("deflate", "fletcher32"), dont_filter_partial=True)
    f.close()


def sb3_index_farray_paged():
    # More than 1024 chunks: the fixed array's data block is paged. Offsets of 4 bytes halve
    # the size of the index.
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_sizes(4, 4)
    f = new_file("sb3_index_farray_paged.h5", "latest", fcpl=fcpl)
    dataset(f, "p", np.zeros(1030, dtype="<i1"), chunks=(1,), fill=-1, write=False)
    f["p"][1025:1027] = [5, 6]
    f.close()


def sb3_index_earray():
    f = new_file("sb3_index_earray.h5", "latest")
    dataset(f, "ea", np.arange(5, dtype="<f4"), chunks=(2,), maxshape=(None,), filters=("deflate",), dont_filter_partial=True)
    # Enough chunks for the extensible array's super blocks, most of them never written.
    dataset(f, "sup", np.zeros(140, dtype="<i1"), chunks=(1,), maxshape=(None,), fill=-1, write=False)
    f["sup"][130:133] = [1, 2, 3]
    f.close()


def sb3_index_btree2():
    f = new_file("sb3_index_btree2.h5", "latest")
    dataset(f, "bt", np.arange(12, dtype="<u2").reshape(3, 4), chunks=(2, 2), maxshape=(None, None))
    dataset(f, "btz", np.arange(6, dtype="<i4").reshape(2, 3), chunks=(1, 3), maxshape=(None, None), filters=("deflate",))
    f.close()


def sb3_unsupported():
    f = new_file("sb3_unsupported.h5", "latest")
    kw = dict(track_times=False)
    f.create_dataset("compound", data=np.array([(1, 2.0)], dtype=[("a", "<i4"), ("b", "<f8")]), **kw)
    f.create_dataset("array", data=np.zeros((1,), dtype=np.dtype(("<f4", (2,)))), **kw)
    f.create_dataset("enum", data=np.array([True, False]), **kw)
    f.create_dataset("opaque", data=np.void(b"\x01\x02"), **kw)
    f.create_dataset("ref", data=[f.ref], dtype=h5py.ref_dtype, **kw)
    f.create_dataset("lzf", data=np.arange(4, dtype="<i2"), chunks=(2,), compression="lzf", **kw)
    f.create_dataset("scaleoffset", data=np.arange(4, dtype="<i4"), chunks=(2,), scaleoffset=0, **kw)
    f.close()


SEEDS = [sb0_types, sb0_types_be, sb3_types, sb0_strings, sb3_strings, sb0_shapes_attrs, sb3_attrs,
         sb3_dense_attrs, sb3_huge_attr, sb0_links, sb3_links, sb0_committed, sb3_dense_group,
         sb3_ordered_groups, sb1_deep_btrees, sb2_small_offsets, sb3_userblock, sb1_layouts,
         sb1_filters, sb3_index_single, sb3_index_implicit, sb3_index_farray, sb3_index_farray_paged,
         sb3_index_earray, sb3_index_btree2, sb3_unsupported]


def write_versions(**extra):
    """Writes OUT/versions.json: the versions of the libraries the bytes depend on."""
    v = {"h5py": h5py.version.version, "hdf5": h5py.version.hdf5_version, "numpy": np.__version__, **extra}
    with open(os.path.join(OUT, "versions.json"), "w") as fh:
        json.dump(v, fh, indent=1, sort_keys=True)
        fh.write("\n")


def main():
    global OUT
    if len(sys.argv) > 1:
        OUT = sys.argv[1]
    os.makedirs(OUT, exist_ok=True)
    for make in SEEDS:
        make()
    write_versions()


if __name__ == "__main__":
    main()
