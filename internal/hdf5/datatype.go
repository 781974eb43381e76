package hdf5

import (
	"encoding/binary"
	"fmt"
)

// Class is the class of a datatype.
type Class int

// Datatype classes (the numbering of the file format).
const (
	ClassFixedPoint Class = 0
	ClassFloat      Class = 1
	ClassTime       Class = 2
	ClassString     Class = 3
	ClassBitfield   Class = 4
	ClassOpaque     Class = 5
	ClassCompound   Class = 6
	ClassReference  Class = 7
	ClassEnum       Class = 8
	ClassVarLen     Class = 9
	ClassArray      Class = 10
)

var classNames = [...]string{"fixed-point", "floating-point", "time", "string", "bitfield", "opaque",
	"compound", "reference", "enum", "variable-length", "array"}

// String returns the class name used by the HDF5 documentation, e.g. "fixed-point".
func (c Class) String() string {
	if c >= 0 && int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// StringPadding says how a fixed-length string fills its storage.
type StringPadding int

// String paddings.
const (
	NullTerminated StringPadding = 0 // a NUL ends the string
	NullPadded     StringPadding = 1 // NULs pad the string to its size
	SpacePadded    StringPadding = 2 // spaces pad the string to its size
)

// Charset is the character set of a string.
type Charset int

// Character sets.
const (
	ASCII Charset = 0
	UTF8  Charset = 1
)

// Datatype describes the type of the elements of a dataset or attribute.
type Datatype struct {
	Class     Class
	Size      int              // bytes per element in the file
	ByteOrder binary.ByteOrder // byte order of fixed-point, floating-point, bitfield and enum types; nil otherwise
	Signed    bool             // fixed-point (and enum base): two's complement signed

	// Strings (Class == ClassString, or ClassVarLen with VarString).
	Padding   StringPadding
	Charset   Charset
	VarString bool // a variable-length string (Class == ClassVarLen)

	// Base is the base type of an enum or of a variable-length sequence or string.
	Base *Datatype

	bitOffset, precision int // fixed-point and bitfield
	float                floatLayout
}

// floatLayout is the bit layout of a floating-point type.
type floatLayout struct {
	signLoc, expLoc, expSize, mantLoc, mantSize int
	bias                                        uint32
	vax                                         bool
}

// String describes t in numpy's notation where one exists ("<f4", ">i8", "|S10", "|u1").
func (t Datatype) String() string {
	order := func() string {
		if t.Size == 1 {
			return "|"
		}
		if t.ByteOrder == binary.BigEndian {
			return ">"
		}
		return "<"
	}
	switch t.Class {
	case ClassFixedPoint:
		if t.Signed {
			return fmt.Sprintf("%si%d", order(), t.Size)
		}
		return fmt.Sprintf("%su%d", order(), t.Size)
	case ClassFloat:
		return fmt.Sprintf("%sf%d", order(), t.Size)
	case ClassString:
		return fmt.Sprintf("|S%d", t.Size)
	case ClassVarLen:
		if t.VarString {
			return "vlen-str"
		}
		return "vlen"
	case ClassEnum:
		if t.Base != nil {
			return "enum(" + t.Base.String() + ")"
		}
		return "enum"
	}
	return fmt.Sprintf("%s(%d bytes)", t.Class, t.Size)
}

// maxTypeDepth bounds the nesting of datatypes (enum and vlen base types).
const maxTypeDepth = 8

// parseDatatype decodes a datatype message body.
func (f *File) parseDatatype(data []byte, off int64) (*Datatype, error) {
	d := f.newDecoder(data, off, "datatype message")
	t := parseType(d, 0)
	if d.err != nil {
		return nil, d.err
	}
	return t, nil
}

func parseType(d *decoder, depth int) *Datatype {
	if depth > maxTypeDepth {
		d.fail("datatype nested more than %d levels", maxTypeDepth)
		return nil
	}
	start := d.pos()
	b0 := d.u8()
	bf := uint32(d.u8()) | uint32(d.u8())<<8 | uint32(d.u8())<<16
	size := d.u32()
	if d.err != nil {
		return nil
	}
	version := b0 >> 4
	t := &Datatype{Class: Class(b0 & 0x0f), Size: int(size)}
	if version < 1 || version > 5 {
		d.fail("datatype version %d", version)
		return nil
	}
	if size == 0 || size > 1<<30 {
		d.fail("datatype size %d", size)
		return nil
	}
	order := func() binary.ByteOrder {
		if bf&1 != 0 {
			return binary.BigEndian
		}
		return binary.LittleEndian
	}
	switch t.Class {
	case ClassFixedPoint, ClassBitfield:
		t.ByteOrder = order()
		t.Signed = t.Class == ClassFixedPoint && bf&0x08 != 0
		t.bitOffset = int(d.u16())
		t.precision = int(d.u16())
		if d.err == nil && (t.precision == 0 || t.bitOffset+t.precision > 8*t.Size) {
			d.fail("integer bit offset %d and precision %d do not fit %d bytes", t.bitOffset, t.precision, t.Size)
		}
	case ClassFloat:
		t.ByteOrder = order()
		t.float.vax = bf&0x01 != 0 && bf&0x40 != 0
		if bf&0x40 != 0 && bf&0x01 == 0 {
			d.fail("reserved floating-point byte order")
		}
		t.float.signLoc = int(bf >> 8 & 0xff)
		t.bitOffset = int(d.u16())
		t.precision = int(d.u16())
		t.float.expLoc = int(d.u8())
		t.float.expSize = int(d.u8())
		t.float.mantLoc = int(d.u8())
		t.float.mantSize = int(d.u8())
		t.float.bias = d.u32()
	case ClassString:
		t.Padding = StringPadding(bf & 0x0f)
		t.Charset = Charset(bf >> 4 & 0x0f)
	case ClassVarLen:
		t.VarString = bf&0x0f == 1
		t.Padding = StringPadding(bf >> 4 & 0x0f)
		t.Charset = Charset(bf >> 8 & 0x0f)
		t.Base = parseType(d, depth+1)
	case ClassEnum:
		t.Base = parseType(d, depth+1)
		if t.Base != nil {
			t.ByteOrder = t.Base.ByteOrder
			t.Signed = t.Base.Signed
		}
		// Names and values follow; they are not needed to read the integer values.
	case ClassTime, ClassOpaque, ClassCompound, ClassReference, ClassArray:
		// Reported as unsupported when read; their properties are not needed to know the size.
	default:
		d.fail("unknown datatype class %d at offset %d", t.Class, start)
	}
	if d.err != nil {
		return nil
	}
	return t
}

// integerLike reports whether values of t can be decoded as integers.
func (t *Datatype) integerLike() bool {
	switch t.Class {
	case ClassFixedPoint, ClassBitfield:
		return t.Size >= 1 && t.Size <= 8
	case ClassEnum:
		return t.Base != nil && t.Base.integerLike()
	}
	return false
}

// intType returns the fixed-point type that holds the values of an integer-like type.
func (t *Datatype) intType() *Datatype {
	if t.Class == ClassEnum {
		return t.Base.intType()
	}
	return t
}

// floatKind returns 2, 4 or 8 when t is an IEEE 754 binary16/32/64 type this package decodes, else 0.
func (t *Datatype) floatKind() int {
	if t.Class != ClassFloat || t.float.vax || t.bitOffset != 0 {
		return 0
	}
	fl := t.float
	switch {
	case t.Size == 2 && t.precision == 16 && fl.signLoc == 15 && fl.expLoc == 10 && fl.expSize == 5 &&
		fl.mantLoc == 0 && fl.mantSize == 10 && fl.bias == 15:
		return 2
	case t.Size == 4 && t.precision == 32 && fl.signLoc == 31 && fl.expLoc == 23 && fl.expSize == 8 &&
		fl.mantLoc == 0 && fl.mantSize == 23 && fl.bias == 127:
		return 4
	case t.Size == 8 && t.precision == 64 && fl.signLoc == 63 && fl.expLoc == 52 && fl.expSize == 11 &&
		fl.mantLoc == 0 && fl.mantSize == 52 && fl.bias == 1023:
		return 8
	}
	return 0
}
