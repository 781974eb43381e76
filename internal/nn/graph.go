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
// It computes image by image on unpadded NHWC buffers: every convolution is one GEMM (Sgemm),
// its A operand the input itself for a 1×1 stride-1 convolution and otherwise an im2col copy
// (zeros for the padding), its C operand initialised with the bias (plus the residual operand,
// when fused). Depthwise convolutions, pooling, padding and additions are plain loops over
// channels. The chain engine (Compile) is faster on the compact models' layers, whose buffers it
// pads and whose stages it pipelines by rows; GraphNet serves the wide, deep networks where the
// GEMMs dominate.
//
// Determinism: images are spread over the workers (for batches smaller than the number of
// workers, each GEMM's rows are: ParallelSgemm gives the bytes of Sgemm), and every value is
// computed by the same instructions in the same order wherever it runs, so the results do not
// depend on the number of goroutines or on the batch an image is part of.
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
	mid     int // depthwise output of a separable convolution (floats)
	workers int
	scratch freeList[*gscratch]
}

// gvalue is one buffer of one image's activations.
type gvalue struct {
	shape model.Shape
	slot  int // buffer the value lives in while it is live
	prod  int // node that computes it; -1 for the input
	last  int // last node that reads it
}

func (v gvalue) size() int { return v.shape.Size() }

// gnode is one compiled stage.
type gnode struct {
	kind   model.Class // Conv2D, SeparableConv2D, DepthwiseConv2D, Dense, MaxPooling2D, ZeroPadding2D, Add, BatchNormalization (affine), Activation (ReLU)
	names  []string    // Keras layers fused into the node, in order
	in     []int       // values read (a fused residual operand last)
	out    int
	res    bool // in[len(in)-1] is a residual operand added to the GEMM's result
	relu   bool
	kh, kw int
	sh, sw int
	pt, pl int // zeros before the first row and column ('same' padding)
	pad    [4]int

	// float64 weights while compiling (batchnorm folded), float32 after.
	w64, dw64, bias64, scale64 []float64
	w, dw, bias, scale         []float32
}

type gscratch struct {
	bufs [][]float32
	col  []float32
	mid  []float32
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

// isAlias tells whether layer l passes its input through unchanged (the bytes of NHWC data do
// not change when flattened).
func isAlias(l *model.Layer) bool {
	return l.Class == model.InputLayer || l.Class == model.Flatten || (l.Class == model.Activation && l.Activation == model.Linear)
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
	g.vals = []gvalue{{shape: shapes[0], prod: -1}}
	newNode := func(nd *gnode, out model.Shape) {
		nd.out = len(g.vals)
		g.vals = append(g.vals, gvalue{shape: out, prod: len(g.nodes)})
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
	for k, nd := range g.nodes {
		nd.w, nd.dw, nd.bias, nd.scale = f32(nd.w64), f32(nd.dw64), f32(nd.bias64), f32(nd.scale64)
		nd.w64, nd.dw64, nd.bias64, nd.scale64 = nil, nil, nil, nil
		for _, v := range nd.in {
			g.vals[v].last = k
		}
		in, out := g.vals[nd.in[0]].shape, g.vals[nd.out].shape
		switch nd.kind {
		case model.Conv2D:
			if !nd.direct(in) {
				g.col = max(g.col, out.H*out.W*nd.kh*nd.kw*in.C)
			}
		case model.SeparableConv2D:
			g.mid = max(g.mid, out.H*out.W*in.C)
		}
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
		alloc(nd.out, k)
	}
	g.nslots = len(owner)
	g.scratch.New = func() *gscratch {
		sc := &gscratch{bufs: make([][]float32, g.nslots), col: make([]float32, g.col), mid: make([]float32, g.mid)}
		for s, c := range g.slotCap {
			sc.bufs[s] = make([]float32, c)
		}
		return sc
	}
}

// direct tells whether a convolution reads its input as the GEMM's A operand in place.
func (nd *gnode) direct(in model.Shape) bool {
	return nd.kh == 1 && nd.kw == 1 && nd.sh == 1 && nd.sw == 1 && nd.pt == 0 && nd.pl == 0
}

// Name is the compiled network's name.
func (g *GraphNet) Name() string { return g.name }

// InputShape is the shape of one input image (height, width, channels).
func (g *GraphNet) InputShape() model.Shape { return g.in }

// Outputs is the number of outputs per image (the last layer's output, flattened NHWC).
func (g *GraphNet) Outputs() int { return g.vals[g.out].size() }

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
		for i := 0; i < batch; i++ {
			g.image(x[i*per:(i+1)*per], i, sc, upto, nw, vs, dst)
		}
		return nil
	}
	g.scratch.reserve(nw)
	var (
		mu   sync.Mutex
		next int
		wg   sync.WaitGroup
	)
	work := func() {
		defer wg.Done()
		sc := g.scratch.Get()
		defer g.scratch.Put(sc)
		for {
			mu.Lock()
			i := next
			next++
			mu.Unlock()
			if i >= batch {
				return
			}
			g.image(x[i*per:(i+1)*per], i, sc, upto, 1, vs, dst)
		}
	}
	wg.Add(nw)
	for w := 1; w < nw; w++ {
		go work()
	}
	work()
	wg.Wait()
	return nil
}

// image evaluates nodes[:upto] on one image and copies the requested values out.
func (g *GraphNet) image(x []float32, i int, sc *gscratch, upto, gw int, vs []int, dst [][]float32) {
	buf := func(v int) []float32 { return sc.bufs[g.vals[v].slot][:g.vals[v].size()] }
	copyOut := func(v int) {
		for j, w := range vs {
			if w == v {
				n := g.vals[v].size()
				copy(dst[j][i*n:(i+1)*n], buf(v))
			}
		}
	}
	copy(buf(0), x)
	copyOut(0)
	for k := 0; k < upto; k++ {
		nd := g.nodes[k]
		ins := make([][]float32, len(nd.in))
		for j, v := range nd.in {
			ins[j] = buf(v)
		}
		nd.run(g.vals[nd.in[0]].shape, g.vals[nd.out].shape, ins, buf(nd.out), sc, gw)
		copyOut(nd.out)
	}
}

// run computes the node's output y from its inputs for one image, splitting GEMMs over gw
// goroutines.
func (nd *gnode) run(in, out model.Shape, xs [][]float32, y []float32, sc *gscratch, gw int) {
	x := xs[0]
	switch nd.kind {
	case model.Conv2D, model.SeparableConv2D, model.Dense:
		m, k := out.H*out.W, in.C
		a, lda := x, in.C
		switch {
		case nd.kind == model.Dense:
			m, k, lda = 1, in.Size(), in.Size()
		case nd.kind == model.SeparableConv2D:
			a = sc.mid[:m*in.C]
			depthwise(x, in, out, nd, nd.dw, a)
		case !nd.direct(in):
			k = nd.kh * nd.kw * in.C
			a, lda = sc.col[:m*k], k
			im2col(x, in, out, nd, a)
		}
		for r := 0; r < m; r++ {
			copy(y[r*out.C:(r+1)*out.C], nd.bias)
		}
		if nd.res {
			for j, v := range xs[len(xs)-1] {
				y[j] += v
			}
		}
		ParallelSgemm(gw, false, false, m, out.C, k, 1, a, lda, nd.w, out.C, 1, y, out.C)
	case model.DepthwiseConv2D:
		depthwise(x, in, out, nd, nd.dw, y)
		for j := range y {
			y[j] += nd.bias[j%out.C]
		}
	case model.BatchNormalization:
		for j, v := range x {
			c := j % out.C
			y[j] = v*nd.scale[c] + nd.bias[c]
		}
	case model.Activation:
		copy(y, x)
	case model.Add:
		copy(y, x)
		for _, z := range xs[1:] {
			for j, v := range z {
				y[j] += v
			}
		}
	case model.MaxPooling2D:
		maxPool(x, in, out, nd, y)
	case model.ZeroPadding2D:
		clear(y)
		rowLen := in.W * in.C
		for r := 0; r < in.H; r++ {
			copy(y[((r+nd.pad[0])*out.W+nd.pad[2])*out.C:][:rowLen], x[r*rowLen:(r+1)*rowLen])
		}
	}
	if nd.relu {
		for j, v := range y {
			if v < 0 {
				y[j] = 0
			}
		}
	}
}

// im2col writes, for every output pixel, the kh·kw·C input values its kernel meets (zeros
// outside the input) as one row of a.
func im2col(x []float32, in, out model.Shape, nd *gnode, a []float32) {
	c := in.C
	k := nd.kh * nd.kw * c
	for oy := 0; oy < out.H; oy++ {
		for ox := 0; ox < out.W; ox++ {
			row := a[(oy*out.W+ox)*k:][:k]
			for i := 0; i < nd.kh; i++ {
				iy := oy*nd.sh + i - nd.pt
				seg := row[i*nd.kw*c:][:nd.kw*c]
				if iy < 0 || iy >= in.H {
					clear(seg)
					continue
				}
				for j := 0; j < nd.kw; j++ {
					ix := ox*nd.sw + j - nd.pl
					if ix < 0 || ix >= in.W {
						clear(seg[j*c : (j+1)*c])
						continue
					}
					copy(seg[j*c:(j+1)*c], x[(iy*in.W+ix)*c:][:c])
				}
			}
		}
	}
}

// depthwise writes the depthwise cross-correlation of x with w ((kh·kw)×C) to y, without bias.
func depthwise(x []float32, in, out model.Shape, nd *gnode, w, y []float32) {
	c := in.C
	for oy := 0; oy < out.H; oy++ {
		for ox := 0; ox < out.W; ox++ {
			acc := y[(oy*out.W+ox)*c:][:c]
			clear(acc)
			for i := 0; i < nd.kh; i++ {
				iy := oy*nd.sh + i - nd.pt
				if iy < 0 || iy >= in.H {
					continue
				}
				for j := 0; j < nd.kw; j++ {
					ix := ox*nd.sw + j - nd.pl
					if ix < 0 || ix >= in.W {
						continue
					}
					px := x[(iy*in.W+ix)*c:][:c]
					wk := w[(i*nd.kw+j)*c:][:c]
					for q, v := range px {
						acc[q] += v * wk[q]
					}
				}
			}
		}
	}
}

// maxPool writes the maximum over each window's pixels inside the input.
func maxPool(x []float32, in, out model.Shape, nd *gnode, y []float32) {
	c := in.C
	for oy := 0; oy < out.H; oy++ {
		for ox := 0; ox < out.W; ox++ {
			m := y[(oy*out.W+ox)*c:][:c]
			first := true
			for i := 0; i < nd.kh; i++ {
				iy := oy*nd.sh + i - nd.pt
				if iy < 0 || iy >= in.H {
					continue
				}
				for j := 0; j < nd.kw; j++ {
					ix := ox*nd.sw + j - nd.pl
					if ix < 0 || ix >= in.W {
						continue
					}
					px := x[(iy*in.W+ix)*c:][:c]
					if first {
						copy(m, px)
						first = false
						continue
					}
					for q, v := range px {
						if v > m[q] {
							m[q] = v
						}
					}
				}
			}
		}
	}
}
