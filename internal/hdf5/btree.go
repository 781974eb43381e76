package hdf5

// maxTreeDepth bounds the depth of v1 and v2 B-trees and of fractal heap indirect blocks.
const maxTreeDepth = 64

// btree1Walk visits the leaf-level entries of the version 1 B-tree at addr, of node type typ
// (0 = group nodes, 1 = raw data chunks). keySize is the size of one key. For every child of a
// leaf node fn gets the key before it and the child address.
func (f *File) btree1Walk(addr uint64, typ uint8, keySize int, fn func(key []byte, keyOff int64, child uint64) error) error {
	seen := map[uint64]bool{}
	var walk func(addr uint64, wantLevel int) error
	walk = func(addr uint64, wantLevel int) error {
		const what = "v1 B-tree node"
		if seen[addr] {
			return formatErr(what, -1, "node at address %d reached twice (cycle)", addr)
		}
		seen[addr] = true
		hdrSize := uint64(8 + 2*f.offSize)
		hdr, off, err := f.readAt(addr, hdrSize, what)
		if err != nil {
			return err
		}
		d := f.newDecoder(hdr, off, what)
		d.signature("TREE")
		if t := d.u8(); d.err == nil && t != typ {
			d.fail("node type %d, want %d", t, typ)
		}
		level := int(d.u8())
		entries := uint64(d.u16())
		if d.err != nil {
			return d.err
		}
		if wantLevel >= 0 && level != wantLevel {
			return formatErr(what, off, "level %d, want %d", level, wantLevel)
		}
		if level > maxTreeDepth {
			return formatErr(what, off, "level %d too deep", level)
		}
		bodySize := entries*uint64(keySize+f.offSize) + uint64(keySize)
		body, boff, err := f.readAt(addr+hdrSize, bodySize, what)
		if err != nil {
			return err
		}
		d = f.newDecoder(body, boff, what)
		for i := uint64(0); i < entries; i++ {
			kOff := d.pos()
			key := d.bytes(keySize)
			child := d.addr()
			if d.err != nil {
				return d.err
			}
			if level > 0 {
				if err := walk(child, level-1); err != nil {
					return err
				}
				continue
			}
			if err := fn(key, kOff, child); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(addr, -1)
}

// btree2 is the header of a version 2 B-tree.
type btree2 struct {
	f          *File
	addr       uint64
	off        int64
	typ        uint8
	nodeSize   uint64
	recSize    int
	depth      int
	root       uint64
	rootNrec   int
	maxNrec    []uint64 // per depth
	nrecSize   int      // bytes of a child's record count
	cumNrecSiz []int    // per depth: bytes of a child's total record count
}

// readBTree2 reads the header of the v2 B-tree at addr and checks its type.
func (f *File) readBTree2(addr uint64, typ uint8) (*btree2, error) {
	const what = "v2 B-tree header"
	size := uint64(4 + 1 + 1 + 4 + 2 + 2 + 1 + 1 + f.offSize + 2 + f.lenSize + 4)
	buf, off, err := f.readAt(addr, size, what)
	if err != nil {
		return nil, err
	}
	if err := f.verifyChecksum(buf, what, off); err != nil {
		return nil, err
	}
	d := f.newDecoder(buf, off, what)
	d.signature("BTHD")
	if v := d.u8(); d.err == nil && v != 0 {
		d.fail("version %d, want 0", v)
	}
	bt := &btree2{f: f, addr: addr, off: off}
	bt.typ = d.u8()
	bt.nodeSize = uint64(d.u32())
	bt.recSize = int(d.u16())
	bt.depth = int(d.u16())
	d.u8() // split percent
	d.u8() // merge percent
	bt.root = d.addr()
	bt.rootNrec = int(d.u16())
	d.length() // total number of records
	if d.err != nil {
		return nil, d.err
	}
	if bt.typ != typ {
		return nil, formatErr(what, off, "B-tree type %d, want %d", bt.typ, typ)
	}
	if bt.recSize == 0 || bt.nodeSize < 10+uint64(bt.recSize) || bt.nodeSize > uint64(f.size) {
		return nil, formatErr(what, off, "node size %d and record size %d are inconsistent", bt.nodeSize, bt.recSize)
	}
	if bt.depth > maxTreeDepth {
		return nil, formatErr(what, off, "depth %d too large", bt.depth)
	}
	// Node capacities (H5B2__hdr_init).
	bt.maxNrec = make([]uint64, bt.depth+1)
	bt.cumNrecSiz = make([]int, bt.depth+1)
	bt.maxNrec[0] = (bt.nodeSize - 10) / uint64(bt.recSize)
	bt.nrecSize = limitEncSize(bt.maxNrec[0])
	cum := bt.maxNrec[0]
	for u := 1; u <= bt.depth; u++ {
		ptr := uint64(f.offSize + bt.nrecSize + bt.cumNrecSiz[u-1])
		if bt.nodeSize < 10+ptr {
			return nil, formatErr(what, off, "node size %d too small for depth %d", bt.nodeSize, bt.depth)
		}
		bt.maxNrec[u] = (bt.nodeSize - (10 + ptr)) / (uint64(bt.recSize) + ptr)
		c, ok1 := mulOK(bt.maxNrec[u]+1, cum)
		c, ok2 := addOK(c, bt.maxNrec[u])
		if !ok1 || !ok2 {
			c = ^uint64(0)
		}
		cum = c
		bt.cumNrecSiz[u] = limitEncSize(cum)
	}
	if uint64(bt.rootNrec) > bt.maxNrec[bt.depth] {
		return nil, formatErr(what, off, "root node holds %d records, more than %d", bt.rootNrec, bt.maxNrec[bt.depth])
	}
	return bt, nil
}

// walk calls fn for every record, in key order.
func (bt *btree2) walk(fn func(rec []byte, off int64) error) error {
	if bt.root == undefAddr || bt.rootNrec == 0 {
		return nil
	}
	seen := map[uint64]bool{}
	return bt.walkNode(bt.root, bt.rootNrec, bt.depth, seen, fn)
}

func (bt *btree2) walkNode(addr uint64, nrec, depth int, seen map[uint64]bool, fn func(rec []byte, off int64) error) error {
	f := bt.f
	what := "v2 B-tree leaf node"
	sig := "BTLF"
	if depth > 0 {
		what, sig = "v2 B-tree internal node", "BTIN"
	}
	if seen[addr] {
		return formatErr(what, -1, "node at address %d reached twice (cycle)", addr)
	}
	seen[addr] = true
	if uint64(nrec) > bt.maxNrec[depth] {
		return formatErr(what, -1, "node at address %d holds %d records, more than %d", addr, nrec, bt.maxNrec[depth])
	}
	ptrSize := 0
	if depth > 0 {
		ptrSize = f.offSize + bt.nrecSize + bt.cumNrecSiz[depth-1]
	}
	size := uint64(6 + nrec*bt.recSize + 4)
	if depth > 0 {
		size += uint64((nrec + 1) * ptrSize)
	}
	buf, off, err := f.readAt(addr, size, what)
	if err != nil {
		return err
	}
	if err := f.verifyChecksum(buf, what, off); err != nil {
		return err
	}
	d := f.newDecoder(buf, off, what)
	d.signature(sig)
	if v := d.u8(); d.err == nil && v != 0 {
		d.fail("version %d, want 0", v)
	}
	if t := d.u8(); d.err == nil && t != bt.typ {
		d.fail("B-tree type %d, want %d", t, bt.typ)
	}
	if d.err != nil {
		return d.err
	}
	recs := make([][]byte, nrec)
	recOff := make([]int64, nrec)
	for i := range recs {
		recOff[i] = d.pos()
		recs[i] = d.bytes(bt.recSize)
	}
	if depth == 0 {
		for i, r := range recs {
			if err := fn(r, recOff[i]); err != nil {
				return err
			}
		}
		return nil
	}
	type child struct {
		addr uint64
		nrec int
	}
	children := make([]child, nrec+1)
	for i := range children {
		children[i].addr = d.addr()
		children[i].nrec = int(d.uvar(bt.nrecSize))
		d.uvar(bt.cumNrecSiz[depth-1])
	}
	if d.err != nil {
		return d.err
	}
	for i, c := range children {
		if err := bt.walkNode(c.addr, c.nrec, depth-1, seen, fn); err != nil {
			return err
		}
		if i < nrec {
			if err := fn(recs[i], recOff[i]); err != nil {
				return err
			}
		}
	}
	return nil
}
