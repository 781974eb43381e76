// Package npy reads and writes NumPy .npy files: plain numeric arrays (the V4 responses, the
// filter counts, prediction files written by users) and pickled object arrays of numeric arrays
// (the model_weights_npy files of the compact models, reference/upstream.md §2.2).
//
// Reading takes an io.Reader and never trusts the header: the magic, version, header dict
// (exactly the keys descr, fortran_order and shape, as numpy.lib.format requires), dimensions and
// dtype are validated, and the data is read in chunks so that a header claiming a huge shape
// cannot make the reader allocate more than the input holds. A file that ends early gives an
// error naming the expected and actual sizes; every error about the file's contents wraps
// ErrFormat. Supported dtypes are float32, float64, (u)int8-64 and bool in either byte order;
// Fortran-order data is transposed into C order.
//
// Writing (WriteFloat64, WriteFloat32, WriteInt64) produces exactly the bytes of NumPy's np.save:
// format 1.0, the header dict padded to a multiple of 64 bytes with NumPy's growth padding, C
// order. WriteTensors writes a list of float32 arrays as np.save writes a Keras get_weights()
// list with NumPy 1.x: a pickled object array (protocol 3, CPython's opcodes and memo), the
// layout of the published model_weights_npy files, every one of which it reproduces byte for
// byte.
//
// Pickled object arrays are unpickled with github.com/nlpodyssey/gopickle behind the checks of
// package safepickle; the only Python names they may use are numpy's _reconstruct, ndarray and
// dtype, implemented here. Nothing in a pickle is executed.
//
// The module also provides codeberg.org/sbinet/npyio, which this package does not use for
// reading: on malformed headers npyio panics (a header without a trailing newline, keys in
// another order) or runs out of memory (a huge shape), and it writes format 2.0 headers aligned
// to 16 bytes, not np.save's bytes. The tests use it as an independent check on well-formed files.
package npy
