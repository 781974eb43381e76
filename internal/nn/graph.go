package nn

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

	"compactv4/internal/model"
)

// GraphNet is a compiled network of any shape the model package describes (residual additions,
// pooling, padding), for inference: the ImageNet trunks and the ensemble members of the teacher.
// Batchnorm is folded into the convolution it follows (in float64, stored as float32), a ReLU
// into the stage it follows, and a residual addition into the convolution that produces its last
// operand, whenever the intermediate output is read by nothing else.
//
// It computes image by image on NHWC buffers whose pixels are a multiple of 16 floats apart
// (the channel pitch; the network's input keeps its own). A 3×3 stride-1 convolution whose input
// pixels are a multiple of 16 floats apart (the ResNet50 trunk's eleven) is evaluated by
// Winograd's F(2×2, 3×3) (winograd.go): per block of tiles of 2×2 output pixels, an input
// transform, 16 GEMMs against filter transforms packed once at compile time, and an output
// transform that adds the bias and the residual operand and applies the ReLU. Every other
// convolution is one GEMM over the image's output pixels. Both run the micro-kernel of the chain
// engine (rowGemm, weights packed once at compile time; the direct convolution fuses bias, ReLU
// and the residual operand into the store). The direct GEMM's A operand is the input itself for
// a 1×1 stride-1 convolution, the depthwise output for a separable one, the input or a
// zero-padded copy of it read in place (one GEMM segment per kernel row, as Compile's
// convolutions) when its pixels are contiguous (channels a multiple of 16, or a zero-padded copy
// of few channels that only convolutions read), and otherwise an im2col copy (zeros for the
// padding). Each GEMM sweeps its output pixels once per block of output panels
// whose packed weights stay in L2 (rowGemm.panelBlock). Max pooling uses the maxInto kernel;
// depthwise convolutions, padding and additions are plain loops over channels. The chain
// engine (Compile) is faster on the compact models' layers, whose buffers it pads and whose
// stages it pipelines by rows; GraphNet serves the wide, deep networks where the GEMMs dominate.
//
// Winograd's transforms change the rounding, not the accuracy: against a float64 evaluation
// its results are as close as the direct convolution's (TestWinogradMatchesFloat64).
//
// Determinism: images are spread over the workers (for batches smaller than the number of
// workers, each GEMM's output pixels are, or a Winograd convolution's blocks of tiles), and
// every value is computed by the same instructions in the same order wherever it runs (a GEMM
// tile computes each pixel, or each Winograd tile, on its own; the transforms are elementwise
// over channels), so the results do not depend on the number of goroutines or on the batch an
// image is part of.
type GraphNet struct {
	name    string
	in      model.Shape
	vals    []gvalue
	nodes   []*gnode
	out     int               // value of the network's output
	layers  map[string]int    // Keras layer name → value holding its output
	fused   map[string]string // Keras layer fused into the middle of a node → the node's last layer
	shapes  map[string]model.Shape
	nslots  int
	slotCap []int
	col     int // im2col scratch (floats)
	padded  int // zero-padded input copy of an implicit convolution (floats)
	mid     int // depthwise output of a separable convolution (floats)
	workers int
	scratch freeList[*gscratch]
	// direct evaluates the convolutions that have a Winograd form (gnode.wino) directly, as
	// the tests' reference.
	direct bool
}

// gvalue is one buffer of one image's activations.
type gvalue struct {
	shape model.Shape
	pitch int // floats from one pixel to the next (the length of a flat value)
	slot  int // buffer the value lives in while it is live
	prod  int // node that computes it; -1 for the input
	last  int // last node that reads it
}

// size is the number of floats of the buffer, padding channels included.
func (v gvalue) size() int {
	if v.shape.Flat {
		return v.shape.C
	}
	return v.shape.H * v.shape.W * v.pitch
}

// geom is the part of a value's layout the loops need.
type geom struct{ h, w, c, pitch int }

func (v gvalue) geom() geom {
	if v.shape.Flat {
		return geom{1, 1, v.shape.C, v.shape.C}
	}
	return geom{v.shape.H, v.shape.W, v.shape.C, v.pitch}
}

// gnode is one compiled stage.
type gnode struct {
	kind   model.Class // Conv2D, SeparableConv2D, DepthwiseConv2D, Dense, MaxPooling2D, ZeroPadding2D, Add, BatchNormalization (affine), Activation (ReLU)
	names  []string    // Keras layers fused into the node, in order
	in     []int       // values read (a fused residual operand last)
	out    int
	res    bool // in[len(in)-1] is a residual operand added to the GEMM's result
	rpitch int  // its pixel pitch
	relu   bool
	kh, kw int
	sh, sw int
	pt, pl int // zeros before the first row and column ('same' padding)
	// implicit: a convolution reading its input through a zero-padded copy of hp×wp pixels, one
	// GEMM segment per kernel row (no im2col).
	implicit bool
	hp, wp   int
	pad      [4]int
	// unpadded: an implicit convolution whose windows all lie inside the input (a strided 1×1
	// 'valid' convolution), which reads the input in place instead of a padded copy.
	unpadded bool
	// resInPlace: the fused residual operand is no longer read after this node and the output
	// takes its buffer, so the GEMM accumulates onto it where it lies.
	resInPlace bool
	// A layout of an implicit convolution's GEMM chosen when the row-by-row one would waste
	// work (rows of C narrower than a few tiles of six pixels recompute the pixels of their
	// overlapping last tile): subsample gathers the pixels a strided 1×1 convolution reads into a
	// contiguous copy (one flat GEMM over all output pixels); flat computes a stride-1
	// convolution over the padded width (pixel y·wp + x reads A at that index times the pixel
	// pitch) into a scratch C, whose first out.w pixels of each row are the output.
	subsample, flat bool

	// float64 weights while compiling (batchnorm folded), float32 after.
	w64, dw64, bias64, scale64 []float64
	w, dw, bias, scale         []float32
	gemm                       rowGemm // Conv2D, SeparableConv2D (pointwise)
	// wino is the Winograd form of a 3×3 stride-1 Conv2D whose input channels are a multiple
	// of 16 floats apart, which GraphNet evaluates instead of gemm unless direct is set.
	wino *winograd
}

type gscratch struct {
	bufs [][]float32
	col  []float32
	pad  []float32
	mid  []float32
	sc   []*scratch  // one per goroutine splitting a GEMM
	ws   []*wscratch // one per goroutine splitting a Winograd convolution
}

// CompileGraph validates n (model.Network.Validate) and compiles it for inference. It accepts the
// layers of Compile (Conv2D, SeparableConv2D, DepthwiseConv2D with depth multiplier 1, 'same' or
// 'valid', any kernel and stride; BatchNormalization; Activation relu or linear; Flatten; Dense)
// and Add, MaxPooling2D ('same' or 'valid') and ZeroPadding2D, connected as any graph with one
// input and one output.
func CompileGraph(n *model.Network) (*GraphNet, error) {
	if n == nil {
		return nil, errors.New("compile graph: nil network")
	}
	if err := n.Validate(); err != nil {
		return nil, fmt.Errorf("compile graph: %w", err)
	}
	shapes, err := n.Shapes()
	if err != nil {
		return nil, fmt.Errorf("compile graph: %w", err)
	}
	src, err := n.Sources()
	if err != nil {
		return nil, fmt.Errorf("compile graph: %w", err)
	}
	g := &GraphNet{name: n.Name, in: shapes[0], layers: map[string]int{}, fused: map[string]string{}, shapes: map[string]model.Shape{}}
	if err := g.build(n, shapes, src); err != nil {
		return nil, fmt.Errorf("compile graph %q: %w", n.Name, err)
	}
	g.finish()
	return g, nil
}

// isAlias tells whether layer l passes its input through unchanged.
func isAlias(l *model.Layer) bool {
	return l.Class == model.InputLayer || (l.Class == model.Activation && l.Activation == model.Linear)
}

func (g *GraphNet) build(n *model.Network, shapes []model.Shape, src [][]int) error {
	// root[s] is the shapes index whose data shapes index s shares (through aliases); readers
	// counts the layers that read each root.
	root := make([]int, len(shapes))
	readers := make([]int, len(shapes))
	for s := range root {
		root[s] = s
		if s > 0 && isAlias(&n.Layers[s-1]) {
			root[s] = root[src[s-1][0]]
		}
	}
	for i := range n.Layers {
		if isAlias(&n.Layers[i]) {
			continue
		}
		for _, s := range src[i] {
			readers[root[s]]++
		}
	}
	readers[root[len(shapes)-1]]++ // the network's output

	valOf := make([]int, len(shapes)) // shapes index → value
	g.vals = []gvalue{{shape: shapes[0], pitch: shapes[0].C, prod: -1}}
	newNode := func(nd *gnode, out model.Shape) {
		nd.out = len(g.vals)
		g.vals = append(g.vals, gvalue{shape: out, pitch: roundUp(out.C, nr), prod: len(g.nodes)})
		g.nodes = append(g.nodes, nd)
	}
	// producer returns the node computing the data of shapes index s when nothing else reads it,
	// so that the layer reading it may be fused into that node.
	producer := func(s int) *gnode {
		if readers[root[s]] != 1 {
			return nil
		}
		p := g.vals[valOf[s]].prod
		if p < 0 {
			return nil
		}
		return g.nodes[p]
	}
	absorb := func(nd *gnode, l *model.Layer) {
		g.fused[nd.names[len(nd.names)-1]] = l.Name
		nd.names = append(nd.names, l.Name)
	}
	for i := range n.Layers {
		l := &n.Layers[i]
		in, out := shapes[src[i][0]], shapes[i+1]
		g.shapes[l.Name] = out
		if isAlias(l) {
			valOf[i+1] = valOf[src[i][0]]
			continue
		}
		s0 := src[i][0]
		switch l.Class {
		case model.BatchNormalization:
			inv, shift := bnCoefficients(l)
			if p := producer(s0); p != nil && !p.relu && !p.res && (p.kind == model.Conv2D || p.kind == model.SeparableConv2D || p.kind == model.DepthwiseConv2D || p.kind == model.Dense) {
				p.fold(inv, shift)
				absorb(p, l)
				valOf[i+1] = p.out
				continue
			}
			newNode(&gnode{kind: model.BatchNormalization, names: []string{l.Name}, in: []int{valOf[s0]}, scale64: inv, bias64: shift}, out)
		case model.Activation:
			if l.Activation != model.ReLU {
				return fmt.Errorf("layer %q: unsupported activation %q", l.Name, l.Activation)
			}
			if p := producer(s0); p != nil && !p.relu && p.kind != model.MaxPooling2D && p.kind != model.ZeroPadding2D {
				p.relu = true
				absorb(p, l)
				valOf[i+1] = p.out
				continue
			}
			newNode(&gnode{kind: model.Activation, names: []string{l.Name}, in: []int{valOf[s0]}, relu: true}, out)
		case model.Add:
			ins := make([]int, len(src[i]))
			for k, s := range src[i] {
				ins[k] = valOf[s]
			}
			last := src[i][len(src[i])-1]
			if p := producer(last); len(ins) == 2 && p != nil && p.kind == model.Conv2D && !p.relu && !p.res && g.vals[ins[0]].prod < g.vals[p.out].prod {
				p.res = true
				p.in = append(p.in, ins[0])
				absorb(p, l)
				valOf[i+1] = p.out
				continue
			}
			newNode(&gnode{kind: model.Add, names: []string{l.Name}, in: ins}, out)
		case model.Conv2D, model.SeparableConv2D, model.DepthwiseConv2D:
			if l.Class != model.Conv2D && l.DepthMultiplier > 1 {
				return fmt.Errorf("layer %q: depth multiplier %d is not supported (only 1)", l.Name, l.DepthMultiplier)
			}
			nd := &gnode{kind: l.Class, names: []string{l.Name}, in: []int{valOf[s0]},
				kh: l.Kernel[0], kw: l.Kernel[1], sh: l.Strides[0], sw: l.Strides[1]}
			if l.Padding == model.PaddingSame {
				_, nd.pt, _ = model.SamePadding(in.H, nd.kh, nd.sh)
				_, nd.pl, _ = model.SamePadding(in.W, nd.kw, nd.sw)
			}
			switch l.Class {
			case model.Conv2D:
				nd.w64 = f64(l.Weights[0])
			case model.SeparableConv2D:
				nd.dw64, nd.w64 = f64(l.Weights[0]), f64(l.Weights[1])
			case model.DepthwiseConv2D:
				nd.dw64 = f64(l.Weights[0])
			}
			nd.bias64 = make([]float64, out.C)
			if l.UseBias {
				copy(nd.bias64, f64(l.Weights[len(l.Weights)-1]))
			}
			newNode(nd, out)
		case model.Dense:
			nd := &gnode{kind: model.Dense, names: []string{l.Name}, in: []int{valOf[s0]}, w64: f64(l.Weights[0]), bias64: make([]float64, out.C)}
			if l.UseBias {
				copy(nd.bias64, f64(l.Weights[1]))
			}
			newNode(nd, out)
		case model.MaxPooling2D:
			nd := &gnode{kind: model.MaxPooling2D, names: []string{l.Name}, in: []int{valOf[s0]},
				kh: l.Kernel[0], kw: l.Kernel[1], sh: l.Strides[0], sw: l.Strides[1]}
			if l.Padding == model.PaddingSame {
				_, nd.pt, _ = model.SamePadding(in.H, nd.kh, nd.sh)
				_, nd.pl, _ = model.SamePadding(in.W, nd.kw, nd.sw)
			}
			newNode(nd, out)
		case model.ZeroPadding2D:
			newNode(&gnode{kind: model.ZeroPadding2D, names: []string{l.Name}, in: []int{valOf[s0]}, pad: l.Pad}, out)
		case model.Flatten:
			newNode(&gnode{kind: model.Flatten, names: []string{l.Name}, in: []int{valOf[s0]}}, out)
		default:
			return fmt.Errorf("layer %q: unsupported class %q", l.Name, l.Class)
		}
		valOf[i+1] = len(g.vals) - 1
	}
	for i := range n.Layers {
		name := n.Layers[i].Name
		if r := root[i+1]; r != i+1 && r > 0 {
			// An alias of a layer fused into the middle of a node is no longer computed either.
			if next, inner := g.fused[n.Layers[r-1].Name]; inner {
				g.fused[name] = next
			}
		}
		if _, inner := g.fused[name]; !inner {
			g.layers[name] = valOf[i+1]
		}
	}
	g.out = valOf[len(shapes)-1]
	if len(g.nodes) == 0 {
		return errors.New("no layer to evaluate")
	}
	return nil
}

// fold applies y = x·inv + shift (per output channel) to the node's weights and bias.
func (nd *gnode) fold(inv, shift []float64) {
	if nd.kind == model.DepthwiseConv2D {
		for i := range nd.dw64 {
			nd.dw64[i] *= inv[i%len(inv)]
		}
	} else {
		for i := range nd.w64 {
			nd.w64[i] *= inv[i%len(inv)]
		}
	}
	for c := range nd.bias64 {
		nd.bias64[c] = nd.bias64[c]*inv[c] + shift[c]
	}
}

// finish converts the weights to float32, finds each value's last reader and assigns the values
// to as few buffers as their lifetimes allow.
func (g *GraphNet) finish() {
	f32 := func(x []float64) []float32 {
		if x == nil {
			return nil
		}
		y := make([]float32, len(x))
		for i, v := range x {
			y[i] = float32(v)
		}
		return y
	}
	// A zero-padded copy with few channels that only convolutions read keeps its pixels
	// contiguous (pitch = channels), so that a convolution reads its kernel rows in place
	// (implicit) instead of through im2col: the 7×7 stem of ResNet50 on 3 channels.
	convOnly := make([]bool, len(g.vals))
	for _, nd := range g.nodes {
		convOnly[nd.out] = nd.kind == model.ZeroPadding2D
	}
	for _, nd := range g.nodes {
		for _, v := range nd.in {
			convOnly[v] = convOnly[v] && nd.kind == model.Conv2D && !nd.res && len(nd.in) == 1
		}
	}
	convOnly[g.out] = false
	for v := range g.vals {
		if convOnly[v] {
			g.vals[v].pitch = g.vals[v].shape.C
		}
	}
	for k, nd := range g.nodes {
		for _, v := range nd.in {
			g.vals[v].last = k
		}
		in, out := g.vals[nd.in[0]], g.vals[nd.out].shape
		switch nd.kind {
		case model.Conv2D, model.SeparableConv2D:
			// The GEMM's A rows: the input's pixels (pitch apart), the depthwise output's, or
			// im2col rows of kh·kw·C values.
			cin, rs := in.shape.C, in.pitch
			kh, kw, segStride := 1, 1, 0
			switch {
			case nd.kind == model.Conv2D && !nd.direct() && in.pitch == in.shape.C:
				// Channels a multiple of 16: kernel rows read in place from a padded copy.
				nd.implicit = true
				nd.hp = max(in.shape.H+nd.pt, (out.H-1)*nd.sh+nd.kh)
				nd.wp = max(in.shape.W+nd.pl, (out.W-1)*nd.sw+nd.kw)
				nd.unpadded = nd.pt == 0 && nd.pl == 0 && nd.hp == in.shape.H && nd.wp == in.shape.W
				if !nd.unpadded {
					g.padded = max(g.padded, nd.hp*nd.wp*in.pitch)
				}
				kh, kw, rs, segStride = nd.kh, nd.kw, nd.sw*in.pitch, nd.wp*in.pitch
				rowWise := out.H * rowTiles(out.W)
				switch {
				case nd.unpadded && nd.kh == 1 && nd.kw == 1 && 20*rowTiles(out.H*out.W) < 19*rowWise:
					nd.subsample = true
					rs = in.pitch
					g.col = max(g.col, out.H*out.W*in.pitch)
				case nd.sh == 1 && nd.sw == 1 && !nd.res && 20*rowTiles((out.H-1)*nd.wp+out.W) < 19*rowWise:
					nd.flat = true
					g.col = max(g.col, ((out.H-1)*nd.wp+out.W)*roundUp(out.C, nr))
				}
			case nd.kind == model.Conv2D && !nd.direct():
				cin = nd.kh * nd.kw * in.shape.C
				rs = cin
				g.col = max(g.col, out.H*out.W*cin)
			case nd.kind == model.SeparableConv2D:
				g.mid = max(g.mid, out.H*out.W*in.pitch)
			}
			b, seglen, np := packConv(nd.w64, kh, kw, cin, out.C, in.pitch)
			if !nd.implicit {
				b, seglen, np = packConv(nd.w64, 1, 1, cin, out.C, rs)
			}
			// A fused residual operand is copied into C first and accumulated by the kernel.
			nd.gemm = rowGemm{rs: rs, nseg: kh, seglen: seglen, segStride: segStride, np: np, b: b, bias: padBias(nd.bias64, np*nr), flags: flagBias}
			if nd.relu {
				nd.gemm.flags |= flagReLU
			}
			if nd.res {
				nd.gemm.flags |= flagAcc
				nd.rpitch = g.vals[nd.in[len(nd.in)-1]].pitch
			}
			if nd.kind == model.Conv2D && nd.kh == 3 && nd.kw == 3 && nd.sh == 1 && nd.sw == 1 && in.pitch%nr == 0 && !in.shape.Flat {
				nd.wino = newWinograd(nd.w64, nd.bias64, in.shape.C, out.C, in.pitch, out.H, out.W, nd.pt, nd.pl, nd.relu, nd.res)
			}
			nd.w64 = nil
		}
		nd.w, nd.dw, nd.bias, nd.scale = f32(nd.w64), f32(nd.dw64), f32(nd.bias64), f32(nd.scale64)
		nd.w64, nd.dw64, nd.bias64, nd.scale64 = nil, nil, nil, nil
	}
	g.vals[g.out].last = len(g.nodes)
	// Greedy slot assignment in node order: a value takes a buffer whose value is no longer read.
	var owner []int // slot → value occupying it
	alloc := func(v int, k int) {
		for s, o := range owner {
			if g.vals[o].last < k {
				owner[s] = v
				g.vals[v].slot = s
				g.slotCap[s] = max(g.slotCap[s], g.vals[v].size())
				return
			}
		}
		owner = append(owner, v)
		g.slotCap = append(g.slotCap, g.vals[v].size())
		g.vals[v].slot = len(owner) - 1
	}
	alloc(0, -1)
	for k, nd := range g.nodes {
		if r := nd.in[len(nd.in)-1]; nd.res && g.vals[r].last == k && r != nd.in[0] && g.vals[r].pitch == g.vals[nd.out].pitch && g.vals[r].size() == g.vals[nd.out].size() {
			nd.resInPlace = true
			g.vals[nd.out].slot = g.vals[r].slot
			owner[g.vals[r].slot] = nd.out
			continue
		}
		alloc(nd.out, k)
	}
	g.nslots = len(owner)
	g.scratch.New = func() *gscratch {
		sc := &gscratch{bufs: make([][]float32, g.nslots), col: make([]float32, g.col), pad: make([]float32, g.padded), mid: make([]float32, g.mid)}
		for s, c := range g.slotCap {
			sc.bufs[s] = make([]float32, c)
		}
		sc.sc = []*scratch{new(scratch)}
		sc.ws = []*wscratch{new(wscratch)}
		return sc
	}
}

// direct tells whether a convolution reads its input as the GEMM's A operand in place.
func (nd *gnode) direct() bool {
	return nd.kh == 1 && nd.kw == 1 && nd.sh == 1 && nd.sw == 1 && nd.pt == 0 && nd.pl == 0
}

// Name is the compiled network's name.
func (g *GraphNet) Name() string { return g.name }

// InputShape is the shape of one input image (height, width, channels).
func (g *GraphNet) InputShape() model.Shape { return g.in }

// Outputs is the number of outputs per image (the last layer's output, flattened NHWC).
func (g *GraphNet) Outputs() int { return g.vals[g.out].shape.Size() }

// OutputShape is the shape of one image's output (the last layer's: height, width, channels).
func (g *GraphNet) OutputShape() model.Shape { return g.vals[g.out].shape }

// LayerShape returns the shape of one image's output of the named Keras layer, or an error when
// the layer does not exist or its output is not computed (fused into the middle of a stage, as a
// convolution followed by batchnorm).
func (g *GraphNet) LayerShape(layer string) (model.Shape, error) {
	if _, err := g.value(layer); err != nil {
		return model.Shape{}, err
	}
	return g.shapes[layer], nil
}

func (g *GraphNet) value(layer string) (int, error) {
	if v, ok := g.layers[layer]; ok {
		return v, nil
	}
	if next, ok := g.fused[layer]; ok {
		return 0, fmt.Errorf("network %q: layer %q is fused with %q; its own output is not computed", g.name, layer, next)
	}
	return 0, fmt.Errorf("network %q: no layer %q", g.name, layer)
}

// SetWorkers sets the number of goroutines the evaluation uses (0: runtime.GOMAXPROCS). The
// results do not depend on it. Call it before using the GraphNet concurrently.
func (g *GraphNet) SetWorkers(n int) { g.workers = max(n, 0) }

// Forward evaluates the network on batch NHWC images x (length batch·H·W·C, preprocessed as the
// network expects) and writes batch·Outputs() values to out, image after image. It returns an
// error wrapping ErrInput when the lengths are wrong or x holds a NaN or an infinity.
func (g *GraphNet) Forward(x []float32, batch int, out []float32) error {
	if len(out) != batch*g.Outputs() {
		return fmt.Errorf("forward %s: output has %d values for %d images × %d outputs: %w", g.name, len(out), batch, g.Outputs(), ErrInput)
	}
	return g.run(x, batch, []int{g.out}, [][]float32{out})
}

// Activations evaluates the network on batch images x (as Forward) and copies the output of the
// named Keras layers (NHWC, one image after another) into dst[i], which must hold
// batch·LayerShape(layers[i]).Size() values. Only the stages the layers depend on are computed.
func (g *GraphNet) Activations(x []float32, batch int, layers []string, dst [][]float32) error {
	if len(layers) != len(dst) {
		return fmt.Errorf("activations %s: %d layers but %d destinations", g.name, len(layers), len(dst))
	}
	vs := make([]int, len(layers))
	for i, name := range layers {
		v, err := g.value(name)
		if err != nil {
			return fmt.Errorf("activations: %w", err)
		}
		if want := batch * g.shapes[name].Size(); len(dst[i]) != want {
			return fmt.Errorf("activations %s: destination %d has %d values, layer %q needs %d", g.name, i, len(dst[i]), name, want)
		}
		vs[i] = v
	}
	return g.run(x, batch, vs, dst)
}

func (g *GraphNet) workerCount() int {
	if g.workers > 0 {
		return g.workers
	}
	return runtime.GOMAXPROCS(0)
}

// run evaluates the nodes up to the last one a requested value needs and copies the values vs
// of every image into dst.
func (g *GraphNet) run(x []float32, batch int, vs []int, dst [][]float32) error {
	per := g.in.Size()
	if batch < 0 || len(x) != batch*per {
		return fmt.Errorf("forward %s: input has %d values for %d images of %v: %w", g.name, len(x), batch, g.in, ErrInput)
	}
	for i, f := range x {
		if f != f || f > math.MaxFloat32 || f < -math.MaxFloat32 {
			return fmt.Errorf("forward %s: image %d value %d is %v: %w", g.name, i/per, i%per, f, ErrInput)
		}
	}
	upto := 0
	for _, v := range vs {
		upto = max(upto, g.vals[v].prod+1)
	}
	nw := g.workerCount()
	if batch < nw {
		// Few images: one after another, each GEMM split over the workers.
		g.scratch.reserve(1)
		sc := g.scratch.Get()
		defer g.scratch.Put(sc)
		for len(sc.sc) < nw {
			sc.sc = append(sc.sc, new(scratch))
		}
		for len(sc.ws) < nw {
			sc.ws = append(sc.ws, new(wscratch))
		}
		for i := 0; i < batch; i++ {
			g.image(x[i*per:(i+1)*per], i, sc, upto, nw, vs, dst)
		}
		return nil
	}
	return forEachImage(&g.scratch, batch, nw, func(sc *gscratch, i int) error {
		g.image(x[i*per:(i+1)*per], i, sc, upto, 1, vs, dst)
		return nil
	})
}

// image evaluates nodes[:upto] on one image and copies the requested values out.
func (g *GraphNet) image(x []float32, i int, sc *gscratch, upto, gw int, vs []int, dst [][]float32) {
	buf := func(v int) []float32 { return sc.bufs[g.vals[v].slot][:g.vals[v].size()] }
	copyOut := func(v int) {
		for j, w := range vs {
			if w != v {
				continue
			}
			gm := g.vals[v].geom()
			n := gm.h * gm.w * gm.c
			out, src := dst[j][i*n:(i+1)*n], buf(v)
			if gm.pitch == gm.c {
				copy(out, src)
				continue
			}
			for p := 0; p < gm.h*gm.w; p++ {
				copy(out[p*gm.c:(p+1)*gm.c], src[p*gm.pitch:])
			}
		}
	}
	copy(buf(0), x)
	copyOut(0)
	var ins [][]float32
	for k := 0; k < upto; k++ {
		nd := g.nodes[k]
		ins = ins[:0]
		for _, v := range nd.in {
			ins = append(ins, buf(v))
		}
		in, out := g.vals[nd.in[0]].geom(), g.vals[nd.out].geom()
		if nd.wino != nil && !g.direct {
			nd.residual(out, ins, buf(nd.out))
			nd.wino.run(ins[0], in, out, buf(nd.out), sc.sc[:gw], sc.ws[:gw])
		} else {
			nd.run(in, out, ins, buf(nd.out), sc, gw)
		}
		copyOut(nd.out)
	}
}

// run computes the node's output y from its inputs for one image, splitting GEMMs over gw
// goroutines.
func (nd *gnode) run(in, out geom, xs [][]float32, y []float32, sc *gscratch, gw int) {
	x := xs[0]
	switch nd.kind {
	case model.Conv2D, model.SeparableConv2D:
		a := x
		switch {
		case nd.subsample:
			a = sc.col[:out.h*out.w*in.pitch]
			for oy := 0; oy < out.h; oy++ {
				for ox := 0; ox < out.w; ox++ {
					copy(a[(oy*out.w+ox)*in.pitch:][:in.pitch], x[(oy*nd.sh*in.w+ox*nd.sw)*in.pitch:][:in.pitch])
				}
			}
		case nd.implicit && nd.unpadded:
		case nd.implicit:
			a = sc.pad[:nd.hp*nd.wp*in.pitch]
			clear(a)
			for r := 0; r < in.h; r++ {
				copy(a[((r+nd.pt)*nd.wp+nd.pl)*in.pitch:][:in.w*in.pitch], x[r*in.w*in.pitch:(r+1)*in.w*in.pitch])
			}
		case nd.kind == model.SeparableConv2D:
			a = sc.mid[:out.h*out.w*in.pitch]
			depthwise(x, in, geom{out.h, out.w, in.c, in.pitch}, nd, nd.dw, a)
		case !nd.direct():
			a = sc.col[:out.h*out.w*nd.gemm.seglen]
			im2col(x, in, out, nd, a)
		}
		nd.residual(out, xs, y)
		switch {
		case nd.flat:
			n := (out.h-1)*nd.wp + out.w
			c := sc.col[:n*out.pitch]
			gemmPixels(&nd.gemm, a, c, out.pitch, n, sc.sc[:gw])
			for oy := 0; oy < out.h; oy++ {
				copy(y[oy*out.w*out.pitch:][:out.w*out.pitch], c[oy*nd.wp*out.pitch:])
			}
		case nd.implicit && !nd.subsample:
			gemmRows(&nd.gemm, a, nd.sh*nd.wp*in.pitch, y, out, sc.sc[:gw])
		default:
			gemmPixels(&nd.gemm, a, y, out.pitch, out.h*out.w, sc.sc[:gw])
		}
	case model.Dense:
		copy(y, nd.bias)
		Sgemm(false, false, 1, out.c, in.h*in.w*in.c, 1, x, in.h*in.w*in.c, nd.w, out.c, 1, y, out.c)
	case model.Flatten:
		for p := 0; p < in.h*in.w; p++ {
			copy(y[p*in.c:(p+1)*in.c], x[p*in.pitch:])
		}
	case model.DepthwiseConv2D:
		depthwise(x, in, out, nd, nd.dw, y)
		for p := 0; p < out.h*out.w; p++ {
			px := y[p*out.pitch:][:out.c]
			for c, b := range nd.bias {
				px[c] += b
			}
		}
	case model.BatchNormalization:
		for p := 0; p < out.h*out.w; p++ {
			px, src := y[p*out.pitch:][:out.c], x[p*in.pitch:][:in.c]
			for c, v := range src {
				px[c] = v*nd.scale[c] + nd.bias[c]
			}
		}
	case model.Activation:
		for p := 0; p < out.h*out.w; p++ {
			copy(y[p*out.pitch:][:out.c], x[p*in.pitch:][:in.c])
		}
	case model.Add:
		for p := 0; p < out.h*out.w; p++ {
			px := y[p*out.pitch:][:out.c]
			copy(px, x[p*in.pitch:][:in.c])
			for _, z := range xs[1:] {
				for c, v := range z[p*in.pitch:][:in.c] {
					px[c] += v
				}
			}
		}
	case model.MaxPooling2D:
		maxPool(x, in, out, nd, y)
	case model.ZeroPadding2D:
		zeroPad(x, in, out, nd.pad, y)
	}
	if nd.relu && nd.kind != model.Conv2D && nd.kind != model.SeparableConv2D {
		for p := 0; p < out.h*out.w; p++ {
			px := y[p*out.pitch:][:out.c]
			for c, v := range px {
				px[c] = max(v, 0) // a NaN stays NaN
			}
		}
	}
}

// residual copies a fused residual operand (the last of xs) into the output y, where the
// convolution accumulates onto it, unless y already is its buffer.
func (nd *gnode) residual(out geom, xs [][]float32, y []float32) {
	if !nd.res || nd.resInPlace {
		return
	}
	r := xs[len(xs)-1]
	if nd.rpitch == out.pitch {
		copy(y, r)
		return
	}
	for p := 0; p < out.h*out.w; p++ {
		copy(y[p*out.pitch:][:out.c], r[p*nd.rpitch:][:out.c])
	}
}

// rowTiles is the number of pixels rowGemm.row computes for n output pixels: tiles of six, the
// last overlapping the one before it.
func rowTiles(n int) int {
	if n < mr {
		return mr
	}
	return roundUp(n, mr)
}

// gemmPixels computes n output pixels of a convolution (A rows g.rs apart from a[0]) into c
// (pixels ldc apart), split into contiguous ranges over the scratches' goroutines. Each pixel is
// computed by the same tile arithmetic whatever the split.
func gemmPixels(g *rowGemm, a, c []float32, ldc, n int, scs []*scratch) {
	pb := g.panelBlock()
	run := func(aoff, coff, n int, s *scratch) {
		for p0 := 0; p0 < g.np; p0 += pb {
			h := g.panels(p0, min(p0+pb, g.np))
			if h.flags&flagAcc != 0 {
				h.rowAcc(a, aoff, c, coff+p0*nr, ldc, n, s)
			} else {
				h.row(a, aoff, c, coff+p0*nr, ldc, n, s)
			}
		}
	}
	w := min(len(scs), n/(4*mr))
	if w <= 1 {
		run(0, 0, n, scs[0])
		return
	}
	var wg sync.WaitGroup
	for t := 1; t < w; t++ {
		lo, hi := n*t/w, n*(t+1)/w
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(lo*g.rs, lo*ldc, hi-lo, scs[t])
		}()
	}
	run(0, 0, n/w, scs[0])
	wg.Wait()
}

// gemmRows computes the output rows of an implicit convolution (output row oy reads A from
// a[oy·rowStep]), split into contiguous bands of rows over the scratches' goroutines.
func gemmRows(g *rowGemm, a []float32, rowStep int, c []float32, out geom, scs []*scratch) {
	pb := g.panelBlock()
	band := func(y0, y1 int, s *scratch) {
		for p0 := 0; p0 < g.np; p0 += pb {
			h := g.panels(p0, min(p0+pb, g.np))
			run := h.row
			if h.flags&flagAcc != 0 {
				run = h.rowAcc
			}
			for y := y0; y < y1; y++ {
				run(a, y*rowStep, c, y*out.w*out.pitch+p0*nr, out.pitch, out.w, s)
			}
		}
	}
	w := min(len(scs), out.h, out.h*out.w/(4*mr))
	if w <= 1 {
		band(0, out.h, scs[0])
		return
	}
	var wg sync.WaitGroup
	for t := 1; t < w; t++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			band(out.h*t/w, out.h*(t+1)/w, scs[t])
		}()
	}
	band(0, out.h/w, scs[0])
	wg.Wait()
}

// rowAcc is rowGemm.row for kernels that accumulate into C (flagAcc): whole tiles never overlap,
// and the last pixels (fewer than 6) go through a tile buffer loaded with their C values, so that
// every pixel's C is added exactly once. A pixel's bits are those of row's arithmetic.
func (g *rowGemm) rowAcc(a []float32, aoff int, c []float32, coff, ldc, wo int, s *scratch) {
	full := wo / mr * mr
	if full > 0 {
		g.row(a, aoff, c, coff, ldc, full, s)
	}
	rest := wo - full
	if rest == 0 {
		return
	}
	k := g.k()
	aoff += full * g.rs
	coff += full * ldc
	s.gather = grow(s.gather, mr*k)
	clear(s.gather)
	for r := 0; r < rest; r++ {
		for sg := 0; sg < g.nseg; sg++ {
			copy(s.gather[r*k+sg*g.seglen:][:g.seglen], a[aoff+r*g.rs+sg*g.segStride:][:g.seglen])
		}
	}
	t := s.tile[:]
	for p := 0; p < g.np; p++ {
		clear(t)
		for r := 0; r < rest; r++ {
			copy(t[r*nr:(r+1)*nr], c[coff+r*ldc+p*nr:][:nr])
		}
		gemmTile(s.gather, k, 1, 1, k, 0, g.b[p*k*nr:], t, nr, g.bias[p*nr:], g.flags, 1)
		for r := 0; r < rest; r++ {
			copy(c[coff+r*ldc+p*nr:][:nr], t[r*nr:(r+1)*nr])
		}
	}
}

// im2col writes, for every output pixel, the kh·kw·C input values its kernel meets (zeros
// outside the input) as one row of a.
func im2col(x []float32, in, out geom, nd *gnode, a []float32) {
	c := in.c
	k := nd.kh * nd.kw * c
	for oy := 0; oy < out.h; oy++ {
		for ox := 0; ox < out.w; ox++ {
			row := a[(oy*out.w+ox)*k:][:k]
			for i := 0; i < nd.kh; i++ {
				iy := oy*nd.sh + i - nd.pt
				seg := row[i*nd.kw*c:][:nd.kw*c]
				if iy < 0 || iy >= in.h {
					clear(seg)
					continue
				}
				for j := 0; j < nd.kw; j++ {
					ix := ox*nd.sw + j - nd.pl
					if ix < 0 || ix >= in.w {
						clear(seg[j*c : (j+1)*c])
						continue
					}
					copy(seg[j*c:(j+1)*c], x[(iy*in.w+ix)*in.pitch:][:c])
				}
			}
		}
	}
}

// depthwise writes the depthwise cross-correlation of x with w ((kh·kw)×C) to y, without bias.
func depthwise(x []float32, in, out geom, nd *gnode, w, y []float32) {
	c := in.c
	for oy := 0; oy < out.h; oy++ {
		for ox := 0; ox < out.w; ox++ {
			acc := y[(oy*out.w+ox)*out.pitch:][:c]
			clear(acc)
			for i := 0; i < nd.kh; i++ {
				iy := oy*nd.sh + i - nd.pt
				if iy < 0 || iy >= in.h {
					continue
				}
				for j := 0; j < nd.kw; j++ {
					ix := ox*nd.sw + j - nd.pl
					if ix < 0 || ix >= in.w {
						continue
					}
					px := x[(iy*in.w+ix)*in.pitch:][:c]
					wk := w[(i*nd.kw+j)*c:][:c]
					for q, v := range px {
						acc[q] += v * wk[q]
					}
				}
			}
		}
	}
}

// zeroPad copies x into the middle of y with pad = (top, bottom, left, right) pixels of zeros
// around it; padding channels between pixels are zero too.
func zeroPad(x []float32, in, out geom, pad [4]int, y []float32) {
	rowLen := out.w * out.pitch
	clear(y[:pad[0]*rowLen])
	clear(y[(pad[0]+in.h)*rowLen:])
	for r := 0; r < in.h; r++ {
		row := y[(r+pad[0])*rowLen:][:rowLen]
		clear(row[:pad[2]*out.pitch])
		clear(row[(pad[2]+in.w)*out.pitch:])
		mid := row[pad[2]*out.pitch : (pad[2]+in.w)*out.pitch]
		src := x[r*in.w*in.pitch:][:in.w*in.pitch]
		if in.pitch == out.pitch && in.c == in.pitch {
			copy(mid, src)
			continue
		}
		clear(mid)
		for q := 0; q < in.w; q++ {
			copy(mid[q*out.pitch:][:in.c], src[q*in.pitch:][:in.c])
		}
	}
}

// maxPool writes the maximum over each window's pixels inside the input.
func maxPool(x []float32, in, out geom, nd *gnode, y []float32) {
	c := in.c
	if nd.pt == 0 && nd.pl == 0 && (out.h-1)*nd.sh+nd.kh <= in.h && (out.w-1)*nd.sw+nd.kw <= in.w {
		// Every window inside the input.
		for oy := 0; oy < out.h; oy++ {
			for ox := 0; ox < out.w; ox++ {
				m := y[(oy*out.w+ox)*out.pitch:][:c]
				base := (oy*nd.sh*in.w + ox*nd.sw) * in.pitch
				copy(m, x[base:][:c])
				for i := 0; i < nd.kh; i++ {
					for j := 0; j < nd.kw; j++ {
						if i == 0 && j == 0 {
							continue
						}
						maxInto(m, x[base+(i*in.w+j)*in.pitch:][:c])
					}
				}
			}
		}
		return
	}
	for oy := 0; oy < out.h; oy++ {
		for ox := 0; ox < out.w; ox++ {
			m := y[(oy*out.w+ox)*out.pitch:][:c]
			first := true
			for i := 0; i < nd.kh; i++ {
				iy := oy*nd.sh + i - nd.pt
				if iy < 0 || iy >= in.h {
					continue
				}
				for j := 0; j < nd.kw; j++ {
					ix := ox*nd.sw + j - nd.pl
					if ix < 0 || ix >= in.w {
						continue
					}
					px := x[(iy*in.w+ix)*in.pitch:][:c]
					if first {
						copy(m, px)
						first = false
						continue
					}
					maxInto(m, px)
				}
			}
		}
	}
}
