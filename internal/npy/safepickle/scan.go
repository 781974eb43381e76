package safepickle

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// kind is what the scanner knows about a stack item: enough to check the operations gopickle
// would otherwise perform unchecked (hashing a dict key, calling a value, appending to it).
type kind uint8

const (
	kOther  kind = iota // result of REDUCE or BINPERSID: a Go value built by a trusted callable
	kStr                // Python str (Go string)
	kBytes              // Python bytes (Go []byte: not hashable, never a dict key)
	kInt                // int or *big.Int
	kFloat              // float64
	kBool               // bool
	kNone               // nil
	kTuple              // *types.Tuple
	kList               // *types.List
	kDict               // *types.Dict
	kGlobal             // a value resolved from an allowed global
)

var kindNames = [...]string{
	kOther: "object", kStr: "str", kBytes: "bytes", kInt: "int", kFloat: "float", kBool: "bool",
	kNone: "None", kTuple: "tuple", kList: "list", kDict: "dict", kGlobal: "global",
}

func (k kind) String() string { return kindNames[k] }

// hashable reports whether a value of this kind can key a dict: gopickle's OrderedDict is a Go
// map, so a []byte key would make it panic.
func (k kind) hashable() bool {
	switch k {
	case kStr, kInt, kFloat, kBool, kNone:
		return true
	}
	return false
}

type item struct {
	kind kind
	str  string // value of a kStr item, for STACK_GLOBAL
}

// scanner walks a pickle opcode by opcode without building anything, mirroring gopickle's
// stack and mark (meta) stack, so that the real unpickler only ever sees a stream whose every
// length fits in the data, whose every stack operation has its operands, and whose globals are
// allowed.
type scanner struct {
	data       []byte
	pos        int
	frameEnd   int // end of the current protocol-4 frame, or -1
	stack      []item
	meta       [][]item
	memo       map[uint64]item
	allow      func(module, name string) bool
	persistent bool
}

// opNames names the opcodes this package accepts (protocols 2-4, binary forms only); an empty
// name marks every other opcode.
var opNames = [256]string{
	'(': "MARK", '.': "STOP", '0': "POP", '1': "POP_MARK", '2': "DUP", 'J': "BININT", 'K': "BININT1",
	'M': "BININT2", 'N': "NONE", 'Q': "BINPERSID", 'R': "REDUCE", 'X': "BINUNICODE", 'a': "APPEND",
	'b': "BUILD", 'c': "GLOBAL", 'd': "DICT", '}': "EMPTY_DICT", 'e': "APPENDS", 'h': "BINGET",
	'j': "LONG_BINGET", 'l': "LIST", ']': "EMPTY_LIST", 'q': "BINPUT", 'r': "LONG_BINPUT",
	's': "SETITEM", 't': "TUPLE", ')': "EMPTY_TUPLE", 'u': "SETITEMS", 'G': "BINFLOAT",
	0x80: "PROTO", 0x85: "TUPLE1", 0x86: "TUPLE2", 0x87: "TUPLE3", 0x88: "NEWTRUE", 0x89: "NEWFALSE",
	0x8a: "LONG1", 0x8b: "LONG4", 'B': "BINBYTES", 'C': "SHORT_BINBYTES", 0x8c: "SHORT_BINUNICODE",
	0x8d: "BINUNICODE8", 0x8e: "BINBYTES8", 0x93: "STACK_GLOBAL", 0x94: "MEMOIZE", 0x95: "FRAME",
}

// refusedNames names opcodes that are valid pickle but never needed by the formats read here;
// they are refused with their name so the error says what was found.
var refusedNames = map[byte]string{
	'F': "FLOAT", 'I': "INT", 'L': "LONG", 'P': "PERSID", 'S': "STRING", 'T': "BINSTRING",
	'U': "SHORT_BINSTRING", 'V': "UNICODE", 'g': "GET", 'i': "INST", 'o': "OBJ", 'p': "PUT",
	0x81: "NEWOBJ", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4", 0x8f: "EMPTY_SET", 0x90: "ADDITEMS",
	0x91: "FROZENSET", 0x92: "NEWOBJ_EX", 0x96: "BYTEARRAY8", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
}

// scan validates the whole pickle and returns the offset just past its STOP opcode.
func (s *scanner) scan() (int, error) {
	s.frameEnd = -1
	s.memo = make(map[uint64]item)
	for {
		if s.frameEnd >= 0 && s.pos == s.frameEnd {
			s.frameEnd = -1
		}
		if s.pos >= len(s.data) {
			return 0, fmt.Errorf("pickle ends at byte %d without a STOP opcode", s.pos)
		}
		start := s.pos
		op := s.data[s.pos]
		s.pos++
		name := opNames[op]
		if name == "" {
			if n, refused := refusedNames[op]; refused {
				return 0, fmt.Errorf("pickle opcode %s (0x%02x) at byte %d is not supported", n, op, start)
			}
			return 0, fmt.Errorf("unknown pickle opcode 0x%02x at byte %d", op, start)
		}
		stop, err := s.step(op)
		if err != nil {
			return 0, fmt.Errorf("pickle opcode %s at byte %d: %w", name, start, err)
		}
		if s.frameEnd >= 0 && op != 0x95 && s.pos > s.frameEnd {
			return 0, fmt.Errorf("pickle opcode %s at byte %d straddles the end of its frame (byte %d)", name, start, s.frameEnd)
		}
		if stop {
			return s.pos, nil
		}
	}
}

// need returns the next n bytes of argument.
func (s *scanner) need(n uint64) ([]byte, error) {
	if n > uint64(len(s.data)-s.pos) {
		return nil, fmt.Errorf("argument of %d bytes, only %d left", n, len(s.data)-s.pos)
	}
	b := s.data[s.pos : s.pos+int(n)]
	s.pos += int(n)
	return b, nil
}

func (s *scanner) uint(size int) (uint64, error) {
	b, err := s.need(uint64(size))
	if err != nil {
		return 0, err
	}
	switch size {
	case 1:
		return uint64(b[0]), nil
	case 2:
		return uint64(binary.LittleEndian.Uint16(b)), nil
	case 4:
		return uint64(binary.LittleEndian.Uint32(b)), nil
	}
	return binary.LittleEndian.Uint64(b), nil
}

// counted reads a length of lenSize bytes and then that many bytes.
func (s *scanner) counted(lenSize int) ([]byte, error) {
	n, err := s.uint(lenSize)
	if err != nil {
		return nil, err
	}
	return s.need(n)
}

func (s *scanner) line() (string, error) {
	i := bytes.IndexByte(s.data[s.pos:], '\n')
	if i < 0 {
		return "", fmt.Errorf("unterminated line")
	}
	l := string(s.data[s.pos : s.pos+i])
	s.pos += i + 1
	return l, nil
}

func (s *scanner) push(k kind) { s.stack = append(s.stack, item{kind: k}) }

func (s *scanner) pop() (item, error) {
	if len(s.stack) == 0 {
		return item{}, fmt.Errorf("stack is empty")
	}
	it := s.stack[len(s.stack)-1]
	s.stack = s.stack[:len(s.stack)-1]
	return it, nil
}

func (s *scanner) top() (item, error) {
	if len(s.stack) == 0 {
		return item{}, fmt.Errorf("stack is empty")
	}
	return s.stack[len(s.stack)-1], nil
}

func (s *scanner) popMark() ([]item, error) {
	if len(s.meta) == 0 {
		return nil, fmt.Errorf("no MARK on the stack")
	}
	items := s.stack
	s.stack = s.meta[len(s.meta)-1]
	s.meta = s.meta[:len(s.meta)-1]
	return items, nil
}

func (s *scanner) global(module, name string) error {
	if !s.allow(module, name) {
		return fmt.Errorf("global %s.%s is not allowed", module, name)
	}
	s.push(kGlobal)
	return nil
}

func checkKeys(items []item) error {
	if len(items)%2 != 0 {
		return fmt.Errorf("odd number (%d) of keys and values", len(items))
	}
	for i := 0; i < len(items); i += 2 {
		if !items[i].kind.hashable() {
			return fmt.Errorf("dict key of type %s is not supported", items[i].kind)
		}
	}
	return nil
}

// step checks one opcode whose byte has been consumed; it reports whether it was STOP.
func (s *scanner) step(op byte) (bool, error) {
	switch op {
	case 0x80: // PROTO
		v, err := s.uint(1)
		if err != nil {
			return false, err
		}
		if v > 5 {
			return false, fmt.Errorf("unsupported protocol %d", v)
		}
	case 0x95: // FRAME
		if s.frameEnd >= 0 && s.pos-1 < s.frameEnd {
			return false, fmt.Errorf("new frame before the end of the current one")
		}
		n, err := s.uint(8)
		if err != nil {
			return false, err
		}
		if n > uint64(len(s.data)-s.pos) {
			return false, fmt.Errorf("frame of %d bytes, only %d left", n, len(s.data)-s.pos)
		}
		s.frameEnd = s.pos + int(n)
	case '(': // MARK
		s.meta = append(s.meta, s.stack)
		s.stack = nil
	case '.': // STOP
		if _, err := s.pop(); err != nil {
			return false, err
		}
		return true, nil
	case '0': // POP: gopickle, like CPython, pops the mark when the stack is empty
		if len(s.stack) == 0 {
			_, err := s.popMark()
			return false, err
		}
		s.stack = s.stack[:len(s.stack)-1]
	case '1': // POP_MARK
		_, err := s.popMark()
		return false, err
	case '2': // DUP
		it, err := s.top()
		if err != nil {
			return false, err
		}
		s.stack = append(s.stack, it)
	case 'J':
		if _, err := s.need(4); err != nil {
			return false, err
		}
		s.push(kInt)
	case 'K':
		if _, err := s.need(1); err != nil {
			return false, err
		}
		s.push(kInt)
	case 'M':
		if _, err := s.need(2); err != nil {
			return false, err
		}
		s.push(kInt)
	case 0x8a, 0x8b: // LONG1, LONG4
		size := 1
		if op == 0x8b {
			size = 4
		}
		b, err := s.counted(size)
		if err != nil {
			return false, err
		}
		if len(b) == 0 {
			return false, fmt.Errorf("zero-length integer")
		}
		s.push(kInt)
	case 'G':
		if _, err := s.need(8); err != nil {
			return false, err
		}
		s.push(kFloat)
	case 'N':
		s.push(kNone)
	case 0x88, 0x89:
		s.push(kBool)
	case 'X', 0x8c, 0x8d: // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
		size := 4
		if op == 0x8c {
			size = 1
		} else if op == 0x8d {
			size = 8
		}
		b, err := s.counted(size)
		if err != nil {
			return false, err
		}
		s.stack = append(s.stack, item{kind: kStr, str: string(b)})
	case 'C', 'B', 0x8e: // SHORT_BINBYTES, BINBYTES, BINBYTES8
		size := 4
		if op == 'C' {
			size = 1
		} else if op == 0x8e {
			size = 8
		}
		if _, err := s.counted(size); err != nil {
			return false, err
		}
		s.push(kBytes)
	case ')':
		s.push(kTuple)
	case 't':
		if _, err := s.popMark(); err != nil {
			return false, err
		}
		s.push(kTuple)
	case 0x85, 0x86, 0x87: // TUPLE1..3
		for i := 0; i < int(op-0x84); i++ {
			if _, err := s.pop(); err != nil {
				return false, err
			}
		}
		s.push(kTuple)
	case ']':
		s.push(kList)
	case 'l':
		if _, err := s.popMark(); err != nil {
			return false, err
		}
		s.push(kList)
	case 'a', 'e': // APPEND, APPENDS
		if op == 'a' {
			if _, err := s.pop(); err != nil {
				return false, err
			}
		} else if _, err := s.popMark(); err != nil {
			return false, err
		}
		l, err := s.pop()
		if err != nil {
			return false, err
		}
		if l.kind != kList {
			return false, fmt.Errorf("append to a %s", l.kind)
		}
		s.push(kList)
	case '}':
		s.push(kDict)
	case 'd':
		items, err := s.popMark()
		if err != nil {
			return false, err
		}
		if err := checkKeys(items); err != nil {
			return false, err
		}
		s.push(kDict)
	case 's': // SETITEM
		if len(s.stack) < 3 {
			return false, fmt.Errorf("needs a dict, a key and a value, stack has %d items", len(s.stack))
		}
		if err := checkKeys(s.stack[len(s.stack)-2:]); err != nil {
			return false, err
		}
		s.stack = s.stack[:len(s.stack)-2]
	case 'u': // SETITEMS
		items, err := s.popMark()
		if err != nil {
			return false, err
		}
		if err := checkKeys(items); err != nil {
			return false, err
		}
		if _, err := s.top(); err != nil {
			return false, err
		}
	case 'c': // GLOBAL
		module, err := s.line()
		if err != nil {
			return false, err
		}
		name, err := s.line()
		if err != nil {
			return false, err
		}
		return false, s.global(module, name)
	case 0x93: // STACK_GLOBAL
		name, err := s.pop()
		if err != nil {
			return false, err
		}
		module, err := s.pop()
		if err != nil {
			return false, err
		}
		if name.kind != kStr || module.kind != kStr {
			return false, fmt.Errorf("module and name must be str, got %s and %s", module.kind, name.kind)
		}
		return false, s.global(module.str, name.str)
	case 'R': // REDUCE
		args, err := s.pop()
		if err != nil {
			return false, err
		}
		fn, err := s.pop()
		if err != nil {
			return false, err
		}
		if fn.kind != kGlobal || args.kind != kTuple {
			return false, fmt.Errorf("call of a %s with a %s; only allowed globals may be called, with a tuple", fn.kind, args.kind)
		}
		s.push(kOther)
	case 'b': // BUILD
		if _, err := s.pop(); err != nil {
			return false, err
		}
		if _, err := s.top(); err != nil {
			return false, err
		}
	case 'Q': // BINPERSID
		if !s.persistent {
			return false, fmt.Errorf("persistent ids are not expected in this pickle")
		}
		if _, err := s.pop(); err != nil {
			return false, err
		}
		s.push(kOther)
	case 'q', 'r', 0x94: // BINPUT, LONG_BINPUT, MEMOIZE
		var idx uint64
		var err error
		switch op {
		case 'q':
			idx, err = s.uint(1)
		case 'r':
			idx, err = s.uint(4)
		default:
			idx = uint64(len(s.memo))
		}
		if err != nil {
			return false, err
		}
		it, err := s.top()
		if err != nil {
			return false, err
		}
		s.memo[idx] = it
	case 'h', 'j': // BINGET, LONG_BINGET
		size := 1
		if op == 'j' {
			size = 4
		}
		idx, err := s.uint(size)
		if err != nil {
			return false, err
		}
		it, ok := s.memo[idx]
		if !ok {
			return false, fmt.Errorf("memo key %d was never stored", idx)
		}
		s.stack = append(s.stack, it)
	default:
		return false, fmt.Errorf("opcode 0x%02x has no checker", op)
	}
	return false, nil
}
