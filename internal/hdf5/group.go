package hdf5

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// LinkType is the kind of a link.
type LinkType int

// Link types (the numbering of the file format).
const (
	HardLink     LinkType = 0
	SoftLink     LinkType = 1
	ExternalLink LinkType = 64
)

// String returns "hard", "soft", "external" or "user-defined(N)".
func (t LinkType) String() string {
	switch t {
	case HardLink:
		return "hard"
	case SoftLink:
		return "soft"
	case ExternalLink:
		return "external"
	}
	return fmt.Sprintf("user-defined(%d)", int(t))
}

// Link is a named member of a group.
type Link struct {
	Name   string
	Type   LinkType
	Target string // soft link: the path it holds; external link: the object's path in File
	File   string // external link: the name of the other file

	addr   uint64 // hard link: object header address
	crt    int64  // creation order
	hasCrt bool
}

// maxSoftLinks bounds the soft links followed while resolving one path (H5L_NUM_LINKS).
const maxSoftLinks = 16

// Object is a group, dataset or committed datatype reached through a hard link.
type Object interface {
	// Name returns the last element of the path.
	Name() string
	// Path returns the absolute path by which the object was reached.
	Path() string
	// Attrs returns the object's attributes.
	Attrs() ([]*Attribute, error)
	headerAddr() uint64
}

// Group is an HDF5 group: a set of named links to other objects.
type Group struct {
	f     *File
	path  string
	oh    *objectHeader
	links []Link // in Members order
	byCrt bool   // links are in creation order
	index map[string]int
}

// NamedDatatype is a committed datatype: a datatype stored as an object of its own.
type NamedDatatype struct {
	f     *File
	path  string
	oh    *objectHeader
	dtype *Datatype
}

// Name returns the last element of the path.
func (t *NamedDatatype) Name() string { return path.Base(t.path) }

// Path returns the absolute path by which the datatype was reached.
func (t *NamedDatatype) Path() string { return t.path }

// Type returns the datatype.
func (t *NamedDatatype) Type() Datatype { return *t.dtype }

// Attrs returns the datatype's attributes.
func (t *NamedDatatype) Attrs() ([]*Attribute, error) { return t.f.attributes(t.oh, t.path) }

func (t *NamedDatatype) headerAddr() uint64 { return t.oh.addr }
func (g *Group) headerAddr() uint64         { return g.oh.addr }
func (d *Dataset) headerAddr() uint64       { return d.oh.addr }

// object opens the object whose header is at addr, naming it p.
func (f *File) object(addr uint64, p string) (Object, error) {
	oh, err := f.objectHeader(addr)
	if err != nil {
		return nil, err
	}
	switch {
	case oh.has(msgLayout):
		return f.newDataset(oh, p)
	case oh.has(msgSymbolTable) || oh.has(msgLinkInfo) || oh.has(msgLink) || oh.has(msgGroupInfo):
		return f.newGroup(oh, p)
	case oh.has(msgDatatype):
		m := oh.first(msgDatatype)
		data, off, err := f.messageData(m)
		if err != nil {
			return nil, err
		}
		t, err := f.parseDatatype(data, off)
		if err != nil {
			return nil, err
		}
		return &NamedDatatype{f: f, path: p, oh: oh, dtype: t}, nil
	}
	return nil, formatErr("object header", -1, "object at address %d (%s) is neither a group, a dataset nor a datatype", addr, p)
}

func byName(a, b Link) int { return strings.Compare(a.Name, b.Name) }

func (f *File) newGroup(oh *objectHeader, p string) (*Group, error) {
	f.mu.Lock()
	t, ok := f.linkTables[oh.addr]
	f.mu.Unlock()
	if !ok {
		var err error
		if t, err = f.readLinkTable(oh); err != nil {
			return nil, fmt.Errorf("hdf5: group %s: %w", p, err)
		}
		f.mu.Lock()
		f.linkTables[oh.addr] = t
		f.mu.Unlock()
	}
	return &Group{f: f, path: p, oh: oh, links: t.links, byCrt: t.byCrt, index: t.index}, nil
}

// linkTable is the parsed, ordered, read-only set of links of a group.
type linkTable struct {
	links []Link
	byCrt bool
	index map[string]int
}

func (f *File) readLinkTable(oh *objectHeader) (*linkTable, error) {
	t := &linkTable{}
	var err error
	if m := oh.first(msgSymbolTable); m != nil {
		t.links, err = f.symbolTableLinks(m)
	} else if m := oh.first(msgLinkInfo); m != nil {
		t.links, t.byCrt, err = f.newStyleLinks(oh, m)
	} else {
		t.links, err = f.compactLinks(oh)
	}
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(t.links, byName)
	if t.byCrt {
		slices.SortStableFunc(t.links, func(a, b Link) int { return cmp.Compare(a.crt, b.crt) })
	}
	t.index = make(map[string]int, len(t.links))
	for i, l := range t.links {
		if _, dup := t.index[l.Name]; dup {
			return nil, formatErr("group", -1, "two links named %q", l.Name)
		}
		t.index[l.Name] = i
	}
	return t, nil
}

// symbolTableLinks reads the links of an old-style group (v1 B-tree of symbol table nodes).
func (f *File) symbolTableLinks(m *message) ([]Link, error) {
	d := f.newDecoder(m.data, m.off, "symbol table message")
	btree := d.addr()
	heapAddr := d.addr()
	if d.err != nil {
		return nil, d.err
	}
	heap, err := f.readLocalHeap(heapAddr)
	if err != nil {
		return nil, err
	}
	var links []Link
	entrySize := f.lenSize + f.offSize + 24
	err = f.btree1Walk(btree, 0, f.lenSize, func(_ []byte, _ int64, snod uint64) error {
		const what = "symbol table node"
		hdr, off, err := f.readAt(snod, 8, what)
		if err != nil {
			return err
		}
		hd := f.newDecoder(hdr, off, what)
		hd.signature("SNOD")
		if v := hd.u8(); hd.err == nil && v != 1 {
			hd.fail("version %d, want 1", v)
		}
		hd.u8()
		n := uint64(hd.u16())
		if hd.err != nil {
			return hd.err
		}
		body, boff, err := f.readAt(snod+8, n*uint64(entrySize), what)
		if err != nil {
			return err
		}
		bd := f.newDecoder(body, boff, what)
		for range n {
			nameOff := bd.length()
			addr := bd.addr()
			cache := bd.u32()
			bd.u32()
			scratch := bd.bytes(16)
			if bd.err != nil {
				return bd.err
			}
			name, err := heap.name(nameOff)
			if err != nil {
				return err
			}
			l := Link{Name: name, Type: HardLink, addr: addr}
			if cache == 2 { // symbolic link: scratch pad holds the offset of its value
				l.Type = SoftLink
				off := uint64(scratch[0]) | uint64(scratch[1])<<8 | uint64(scratch[2])<<16 | uint64(scratch[3])<<24
				if l.Target, err = heap.name(off); err != nil {
					return err
				}
			} else if addr == undefAddr {
				return formatErr(what, boff, "link %q has an undefined address", name)
			}
			links = append(links, l)
		}
		return nil
	})
	return links, err
}

// newStyleLinks reads the links of a group with a link info message; byCrt reports whether the
// group tracks creation order.
func (f *File) newStyleLinks(oh *objectHeader, m *message) ([]Link, bool, error) {
	d := f.newDecoder(m.data, m.off, "link info message")
	if v := d.u8(); d.err == nil && v != 0 {
		d.fail("version %d, want 0", v)
	}
	flags := d.u8()
	if flags&1 != 0 {
		d.u64() // maximum creation index
	}
	heapAddr := d.addr()
	nameIndex := d.addr()
	if d.err != nil {
		return nil, false, d.err
	}
	byCrt := flags&1 != 0
	if heapAddr == undefAddr {
		links, err := f.compactLinks(oh)
		return links, byCrt, err
	}
	heap, err := f.openFractalHeap(heapAddr)
	if err != nil {
		return nil, false, err
	}
	bt, err := f.readBTree2(nameIndex, 5)
	if err != nil {
		return nil, false, err
	}
	var links []Link
	err = bt.walk(func(rec []byte, off int64) error {
		if len(rec) < 5 {
			return formatErr("link name index record", off, "record of %d bytes", len(rec))
		}
		obj, err := heap.object(rec[4:], off+4)
		if err != nil {
			return err
		}
		l, err := f.parseLink(obj, -1)
		if err != nil {
			return err
		}
		links = append(links, l)
		return nil
	})
	return links, byCrt, err
}

// compactLinks returns the links stored as link messages in the object header.
func (f *File) compactLinks(oh *objectHeader) ([]Link, error) {
	var links []Link
	for i := range oh.msgs {
		m := &oh.msgs[i]
		if m.typ != msgLink {
			continue
		}
		l, err := f.parseLink(m.data, m.off)
		if err != nil {
			return nil, err
		}
		links = append(links, l)
	}
	return links, nil
}

// parseLink decodes a link message body.
func (f *File) parseLink(data []byte, off int64) (Link, error) {
	d := f.newDecoder(data, off, "link message")
	var l Link
	if v := d.u8(); d.err == nil && v != 1 {
		d.fail("version %d, want 1", v)
	}
	flags := d.u8()
	if flags&^0x1f != 0 {
		d.fail("unknown flags %#x", flags)
	}
	if flags&0x08 != 0 {
		l.Type = LinkType(d.u8())
	}
	if flags&0x04 != 0 {
		l.crt = int64(d.u64())
		l.hasCrt = true
	}
	if flags&0x10 != 0 {
		d.u8() // character set of the name
	}
	n := d.uvar(1 << (flags & 3))
	if d.err == nil && (n == 0 || n > uint64(d.remaining())) {
		d.fail("link name of %d bytes", n)
	}
	if d.err != nil {
		return l, d.err
	}
	l.Name = string(d.bytes(int(n)))
	switch {
	case l.Type == HardLink:
		l.addr = d.addr()
		if d.err == nil && l.addr == undefAddr {
			d.fail("hard link %q with an undefined address", l.Name)
		}
	case l.Type == SoftLink:
		n := int(d.u16())
		l.Target = string(d.bytes(n))
	case l.Type == ExternalLink:
		n := int(d.u16())
		ud := d.bytes(n)
		if d.err == nil {
			if len(ud) < 1 || ud[0]>>4 != 0 {
				d.fail("external link %q: bad value", l.Name)
				break
			}
			parts := bytes.SplitN(ud[1:], []byte{0}, 3)
			if len(parts) < 2 {
				d.fail("external link %q: value not NUL-terminated", l.Name)
				break
			}
			l.File, l.Target = string(parts[0]), string(parts[1])
		}
	case l.Type < 64:
		d.fail("link %q of reserved type %d", l.Name, l.Type)
	}
	if d.err != nil {
		return Link{}, d.err
	}
	return l, nil
}

// Name returns the last element of the group's path ("/" for the root group).
func (g *Group) Name() string {
	if g.path == "/" {
		return "/"
	}
	return path.Base(g.path)
}

// Path returns the absolute path by which the group was reached.
func (g *Group) Path() string { return g.path }

// Members returns the names of the group's links: by name, or by creation order when the group
// tracks it (the order in which h5py iterates).
func (g *Group) Members() []string {
	out := make([]string, len(g.links))
	for i, l := range g.links {
		out[i] = l.Name
	}
	return out
}

// Links returns the group's links in Members order.
func (g *Group) Links() []Link { return append([]Link(nil), g.links...) }

// Link returns the link called name.
func (g *Group) Link(name string) (Link, bool) {
	i, ok := g.index[name]
	if !ok {
		return Link{}, false
	}
	return g.links[i], true
}

// Attrs returns the group's attributes.
func (g *Group) Attrs() ([]*Attribute, error) { return g.f.attributes(g.oh, g.path) }

// Attr returns the attribute called name.
func (g *Group) Attr(name string) (*Attribute, error) { return findAttr(g.f, g.oh, g.path, name) }

// Object returns the object at path, absolute or relative to g. Soft links are followed;
// external links are not (the error matches errors.ErrUnsupported).
func (g *Group) Object(p string) (Object, error) {
	hops := 0
	return g.lookup(p, &hops)
}

// Group returns the group at path, absolute or relative to g.
func (g *Group) Group(p string) (*Group, error) {
	obj, err := g.Object(p)
	if err != nil {
		return nil, err
	}
	sub, ok := obj.(*Group)
	if !ok {
		return nil, fmt.Errorf("hdf5: %s is not a group", obj.Path())
	}
	return sub, nil
}

// Dataset returns the dataset at path, absolute or relative to g.
func (g *Group) Dataset(p string) (*Dataset, error) {
	obj, err := g.Object(p)
	if err != nil {
		return nil, err
	}
	ds, ok := obj.(*Dataset)
	if !ok {
		return nil, fmt.Errorf("hdf5: %s is not a dataset", obj.Path())
	}
	return ds, nil
}

func joinPath(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// lookup resolves p; hops counts the soft links followed by the whole resolution.
func (g *Group) lookup(p string, hops *int) (Object, error) {
	cur := g
	if strings.HasPrefix(p, "/") {
		cur = g.f.root
	}
	var parts []string
	for _, s := range strings.Split(p, "/") {
		if s != "" && s != "." {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return cur, nil
	}
	for i, name := range parts {
		full := joinPath(cur.path, name)
		l, ok := cur.Link(name)
		if !ok {
			return nil, fmt.Errorf("hdf5: %s: %w", full, ErrNotFound)
		}
		var obj Object
		var err error
		switch l.Type {
		case HardLink:
			obj, err = g.f.object(l.addr, full)
		case SoftLink:
			if *hops >= maxSoftLinks {
				return nil, fmt.Errorf("hdf5: %s: more than %d soft links", full, maxSoftLinks)
			}
			*hops++
			if obj, err = cur.lookup(l.Target, hops); err != nil {
				return nil, fmt.Errorf("hdf5: %s: soft link to %s: %w", full, l.Target, err)
			}
			obj, err = g.f.object(obj.headerAddr(), full)
		case ExternalLink:
			return nil, unsupported("%s is an external link to %s:%s, which is not followed", full, l.File, l.Target)
		default:
			return nil, unsupported("%s is a user-defined link of type %d", full, l.Type)
		}
		if err != nil {
			return nil, err
		}
		if i == len(parts)-1 {
			return obj, nil
		}
		next, ok := obj.(*Group)
		if !ok {
			return nil, fmt.Errorf("hdf5: %s is not a group: %w", full, ErrNotFound)
		}
		cur = next
	}
	return cur, nil
}

// WalkFunc is called by Walk for every object; path is relative to the walked group.
// Returning fs.SkipDir from a group skips its members; returning fs.SkipAll stops the walk
// without error; any other error stops the walk and is returned.
type WalkFunc func(path string, obj Object) error

// Walk visits, depth first and by name at every level, every group, dataset and committed
// datatype reached from g through hard links, each object once: the order of h5py's visititems
// (H5Ovisit by name), whatever order the groups track. Soft and external links are not followed.
func (g *Group) Walk(fn WalkFunc) error {
	seen := map[uint64]bool{g.oh.addr: true}
	err := g.walk("", fn, seen)
	if errors.Is(err, fs.SkipAll) {
		return nil
	}
	return err
}

func (g *Group) walk(prefix string, fn WalkFunc, seen map[uint64]bool) error {
	links := g.links
	if g.byCrt {
		links = slices.Clone(links)
		slices.SortFunc(links, byName)
	}
	for _, l := range links {
		if l.Type != HardLink || seen[l.addr] {
			continue
		}
		seen[l.addr] = true
		rel := prefix + l.Name
		obj, err := g.f.object(l.addr, joinPath(g.path, l.Name))
		if err != nil {
			return fmt.Errorf("hdf5: walk %s: %w", rel, err)
		}
		err = fn(rel, obj)
		sub, isGroup := obj.(*Group)
		if errors.Is(err, fs.SkipDir) {
			if isGroup {
				continue
			}
			return nil // skip the remaining members of g
		}
		if err != nil {
			return err
		}
		if isGroup {
			if err := sub.walk(rel+"/", fn, seen); err != nil {
				return err
			}
		}
	}
	return nil
}
