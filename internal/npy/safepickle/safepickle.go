// Package safepickle unpickles untrusted Python pickles with github.com/nlpodyssey/gopickle,
// but only after checking the whole opcode stream first.
//
// gopickle builds Python objects as Go values and never runs code, but it trusts its input: a
// length field is allocated before it is checked against the data, an odd number of dict items
// or an empty LONG1 indexes out of range, and a bytes object used as a dict key makes Go's map
// panic. Load therefore scans the pickle opcode by opcode (as Python's pickletools does) and
// refuses, with an error naming the opcode and its byte offset:
//
//   - any length that runs past the end of the data, any frame that is not closed properly;
//   - any operation whose operands are not on the stack, any memo key read before it is written;
//   - any global (GLOBAL or STACK_GLOBAL) not in the caller's allow-list, any call (REDUCE) of
//     something other than an allowed global, persistent ids unless the caller handles them;
//   - opcodes the formats read here never need: the text opcodes of protocols 0-1, NEWOBJ,
//     NEWOBJ_EX, INST, OBJ, extension codes, sets and the out-of-band buffers of protocol 5;
//   - dict keys that are not str, int, float, bool or None.
//
// Only then is the data handed to gopickle, whose resolution of globals is restricted to the
// allow-list. A recover in Load remains as a last resort, turning a panic that the scan failed to
// foresee into an error; the fuzz tests of this package and of its callers check that it is not
// needed.
package safepickle

import (
	"bytes"
	"errors"
	"fmt"
	"sort"

	"github.com/nlpodyssey/gopickle/pickle"
)

// Global is a module-level Python name, as a pickle's GLOBAL opcode refers to it.
type Global struct {
	Module, Name string
}

// String returns the dotted name, e.g. "collections.OrderedDict".
func (g Global) String() string { return g.Module + "." + g.Name }

// OrderedDict is collections.OrderedDict. gopickle resolves it itself, to *types.OrderedDict, so
// it is allowed by listing it in Options.Globals with a nil value.
var OrderedDict = Global{"collections", "OrderedDict"}

// builtin lists the names gopickle resolves before consulting FindClass.
var builtin = map[Global]bool{
	OrderedDict:                       true,
	{"builtins", "list"}:              true,
	{"builtins", "dict"}:              true,
	{"__builtin__", "object"}:         true,
	{"array", "_array_reconstructor"}: true,
	{"copy_reg", "_reconstructor"}:    true,
}

// Options say which globals a pickle may use and how persistent ids are resolved.
type Options struct {
	// Globals maps every allowed global to the Go value that stands for it: usually a value
	// implementing gopickle's types.Callable (for REDUCE) or types.PyNewable. Names that gopickle
	// resolves itself (OrderedDict) are listed with a nil value. Any other global is refused.
	Globals map[Global]any
	// PersistentLoad resolves the persistent ids of BINPERSID opcodes; nil refuses them.
	PersistentLoad func(pid any) (any, error)
}

// ErrMalformed is wrapped by every error that is due to the pickle data, as opposed to a
// programming error in the Options.
var ErrMalformed = errors.New("malformed or unsupported pickle")

// Load checks data and unpickles it. It returns the unpickled object and the number of bytes the
// pickle occupied (through its STOP opcode); bytes after STOP are ignored, as Python ignores them.
func Load(data []byte, opts Options) (obj any, n int, err error) {
	for g, v := range opts.Globals {
		if builtin[g] != (v == nil) {
			return nil, 0, fmt.Errorf("safepickle: global %s: gopickle's own resolution is used exactly for %v", g, builtinNames())
		}
	}
	s := scanner{
		data:       data,
		persistent: opts.PersistentLoad != nil,
		allow: func(module, name string) bool {
			_, ok := opts.Globals[Global{module, name}]
			return ok
		},
	}
	n, err = s.scan()
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	defer func() {
		// Last resort: the scan above is meant to make this unreachable.
		if r := recover(); r != nil {
			obj, n, err = nil, 0, fmt.Errorf("%w: unpickler failed: %v", ErrMalformed, r)
		}
	}()
	u := pickle.NewUnpickler(bytes.NewReader(data[:n]))
	u.FindClass = func(module, name string) (any, error) {
		v, ok := opts.Globals[Global{module, name}]
		if !ok || v == nil {
			return nil, fmt.Errorf("global %s.%s is not allowed", module, name)
		}
		return v, nil
	}
	if opts.PersistentLoad != nil {
		u.PersistentLoad = opts.PersistentLoad
	}
	obj, err = u.Load()
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return obj, n, nil
}

func builtinNames() []string {
	var names []string
	for g := range builtin {
		names = append(names, g.String())
	}
	sort.Strings(names)
	return names
}
