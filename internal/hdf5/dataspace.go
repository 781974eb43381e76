package hdf5

// SpaceKind is the kind of a dataspace.
type SpaceKind int

// Dataspace kinds.
const (
	Scalar SpaceKind = 0 // one element, no dimensions
	Simple SpaceKind = 1 // an array of any rank (possibly with zero-length dimensions)
	Null   SpaceKind = 2 // no elements at all (h5py.Empty)
)

// String returns "scalar", "simple" or "null".
func (k SpaceKind) String() string {
	switch k {
	case Scalar:
		return "scalar"
	case Simple:
		return "simple"
	case Null:
		return "null"
	}
	return "unknown"
}

// Unlimited marks an unlimited maximum dimension in Dataspace.MaxDims.
const Unlimited = -1

// maxRank is the largest rank HDF5 allows.
const maxRank = 32

// Dataspace is the shape of a dataset or attribute.
type Dataspace struct {
	Kind    SpaceKind
	Dims    []int // current dimensions (nil for scalar and null)
	MaxDims []int // maximum dimensions, Unlimited for unlimited ones (nil for scalar and null)
	n       uint64
}

// NumElements returns the number of elements (1 for scalar, 0 for null).
func (s Dataspace) NumElements() int { return int(s.n) }

// parseDataspace decodes a dataspace message body.
func (f *File) parseDataspace(data []byte, off int64) (Dataspace, error) {
	d := f.newDecoder(data, off, "dataspace message")
	var s Dataspace
	version := d.u8()
	rank := int(d.u8())
	flags := d.u8()
	switch version {
	case 1:
		d.skip(5)
		if rank == 0 {
			s.Kind = Scalar
		} else {
			s.Kind = Simple
		}
	case 2:
		s.Kind = SpaceKind(d.u8())
		if s.Kind > Null {
			d.fail("unknown dataspace type %d", s.Kind)
		}
	default:
		d.fail("unknown dataspace version %d", version)
	}
	if rank > maxRank {
		d.fail("rank %d exceeds %d", rank, maxRank)
	}
	if d.err != nil {
		return s, d.err
	}
	if s.Kind != Simple && rank != 0 {
		return s, formatErr("dataspace message", off, "%s dataspace with rank %d", s.Kind, rank)
	}
	s.n = 1
	if s.Kind == Null {
		s.n = 0
	}
	if s.Kind == Simple {
		s.Dims = make([]int, rank)
		s.MaxDims = make([]int, rank)
		for i := range s.Dims {
			v := d.length()
			if v > 1<<62 {
				d.fail("dimension %d is %d", i, v)
			}
			s.Dims[i] = int(v)
			var ok bool
			if s.n, ok = mulOK(s.n, v); !ok || s.n > 1<<62 {
				d.fail("number of elements overflows")
			}
		}
		for i := range s.MaxDims {
			if flags&1 == 0 {
				s.MaxDims[i] = s.Dims[i]
				continue
			}
			v := d.length()
			switch {
			case v == undefAddr || (d.lenSize < 8 && v == 1<<(8*uint(d.lenSize))-1):
				s.MaxDims[i] = Unlimited
			case v > 1<<62:
				d.fail("maximum dimension %d is %d", i, v)
			default:
				s.MaxDims[i] = int(v)
				if s.MaxDims[i] < s.Dims[i] {
					d.fail("dimension %d: size %d exceeds maximum %d", i, s.Dims[i], v)
				}
			}
		}
	}
	if d.err != nil {
		return s, d.err
	}
	return s, nil
}
