package nn

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

	"compactv4/internal/model"
)

// Net is a compiled network: batchnorm folded into the preceding layer's weights (computed in
// float64, stored as float32), ReLU fused into the layer it follows, weights packed for the
// kernels. A Net is immutable after Compile except for SetWorkers; Forward, Predict and
// Activations may be called from several goroutines at once.
type Net struct {
	name     string
	in       model.Shape
	vals     []*value // vals[0] is the input, vals[k+1] the output of ops[k]
	ops      []op
	protos   []*proto // ops[k] was laid out from protos[k] (float64 weights, batchnorm folded)
	stages   []Stage
	nout     int
	workers  int
	recentre [3][256]float32

	bufs    freeList[*[][]float32] // one image's activation buffers
	scratch freeList[*scratch]
}

// freeList keeps the workspaces of a Net for reuse. Unlike a sync.Pool it never drops them (a
// pool empties at every garbage collection and misses across Ps, and a miss here costs
// megabytes), so a steady stream of calls allocates none; it holds as many as were ever in use
// at once.
type freeList[T any] struct {
	mu      sync.Mutex
	items   []T
	created int
	New     func() T
}

// reserve makes sure that n items exist, so that n goroutines never allocate.
func (f *freeList[T]) reserve(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ; f.created < n; f.created++ {
		f.items = append(f.items, f.New())
	}
}

func (f *freeList[T]) Get() T {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.items); n > 0 {
		it := f.items[n-1]
		f.items = f.items[:n-1]
		return it
	}
	f.created++
	return f.New()
}

func (f *freeList[T]) Put(it T) {
	f.mu.Lock()
	f.items = append(f.items, it)
	f.mu.Unlock()
}

// forEachImage calls fn(s, i) for every image i < batch on nw goroutines (the caller's among
// them), each taking the next image in turn and working with its own item s of fl. Images are
// independent, so the results do not depend on which goroutine takes which. It returns the
// error of the lowest-numbered image that failed. (Net.run keeps a pooled job of its own
// instead: the closures here escape, and its steady stream of calls allocates nothing.)
func forEachImage[T any](fl *freeList[T], batch, nw int, fn func(s T, i int) error) error {
	nw = min(nw, batch)
	if nw <= 0 {
		return nil
	}
	fl.reserve(nw)
	var (
		mu     sync.Mutex
		next   int
		errIdx = batch
		first  error
		wg     sync.WaitGroup
	)
	worker := func() {
		defer wg.Done()
		s := fl.Get()
		defer fl.Put(s)
		for {
			mu.Lock()
			i := next
			next++
			mu.Unlock()
			if i >= batch {
				return
			}
			if err := fn(s, i); err != nil {
				mu.Lock()
				if i < errIdx {
					errIdx, first = i, err
				}
				mu.Unlock()
			}
		}
	}
	wg.Add(nw)
	for range nw - 1 {
		go worker()
	}
	worker()
	wg.Wait()
	return first
}

// Stage describes the output of one compiled stage (one fused group of Keras layers, e.g.
// layer0_conv + layer0_bn + layer0_act): the output of the last Keras layer of the group.
type Stage struct {
	Name   string      // the last Keras layer of the stage, whose output this is
	Layers []string    // the Keras layers fused into the stage, in order
	Shape  model.Shape // the output of one image
}

// Size is the number of floats of one image's output of the stage.
func (s Stage) Size() int { return s.Shape.Size() }

// ErrInput reports input that a forward pass rejects (wrong length, NaN or infinite values).
var ErrInput = errors.New("bad network input")

// proto is a stage before its buffers are laid out: float64 weights, batchnorm folded.
type proto struct {
	// Conv2D, SeparableConv2D, DepthwiseConv2D, Dense, Flatten, or BatchNormalization /
	// Activation for a standalone batchnorm or ReLU.
	class    model.Class
	layer    *model.Layer
	names    []string    // the Keras layers of the stage
	out      model.Shape // output of one image
	w, pw    []float64   // kernel (depthwise kernel of a SeparableConv2D); pointwise kernel
	bias     []float64   // per output channel (a standalone batchnorm's shift)
	scale    []float64   // a standalone batchnorm's scale
	relu     bool        // ReLU fused at the end
	hasBias  bool        // bias is not all zero by construction
	foldable bool        // a following batchnorm can be folded into w/pw and bias
}

// Compile validates n (model.Network.Validate) and compiles it for inference. It accepts any
// chain of Conv2D, SeparableConv2D and DepthwiseConv2D (depth multiplier 1, 'same' or 'valid',
// any kernel and stride), BatchNormalization (inference mode, folded into a directly preceding
// convolution or Dense layer, else applied on its own), Activation (relu or linear), Flatten and
// Dense layers, as the paper's compact and shared compact models use them.
func Compile(n *model.Network) (*Net, error) {
	if n == nil {
		return nil, errors.New("compile: nil network")
	}
	if err := n.Validate(); err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	if !n.IsChain() {
		return nil, fmt.Errorf("compile network %q: not a chain of layers (CompileGraph evaluates graphs)", n.Name)
	}
	shapes, err := n.Shapes()
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	protos, err := buildProtos(n, shapes)
	if err != nil {
		return nil, fmt.Errorf("compile network %q: %w", n.Name, err)
	}
	if len(protos) == 0 {
		return nil, fmt.Errorf("compile network %q: no layer to evaluate", n.Name)
	}
	net := &Net{name: n.Name, in: shapes[0], protos: protos}
	net.layout(protos)
	for c := range 3 {
		for p := range 256 {
			net.recentre[c][p] = float32(float64(p) - model.MeanPixel[c])
		}
	}
	net.bufs.New = func() *[][]float32 {
		b := make([][]float32, len(net.vals))
		for i, v := range net.vals {
			b[i] = make([]float32, v.size())
		}
		return &b
	}
	// Scratch sized for every stage up front, so that its first use allocates nothing.
	var dwrow, gather int
	for _, o := range net.ops {
		switch o := o.(type) {
		case *convOp:
			gather = max(gather, mr*o.g.k())
		case *sepOp:
			dwrow = max(dwrow, o.out.w*o.in.pitch)
			gather = max(gather, mr*o.pw.k())
		}
	}
	nops := len(net.ops)
	net.scratch.New = func() *scratch {
		return &scratch{dwrow: make([]float32, dwrow), gather: make([]float32, gather), done: make([]int, nops)}
	}
	return net, nil
}

func f64(t model.Tensor) []float64 {
	out := make([]float64, len(t.Data))
	for i, v := range t.Data {
		out[i] = float64(v)
	}
	return out
}

func buildProtos(n *model.Network, shapes []model.Shape) ([]*proto, error) {
	var ps []*proto
	last := func() *proto {
		if len(ps) == 0 {
			return nil
		}
		return ps[len(ps)-1]
	}
	for i := range n.Layers {
		l := &n.Layers[i]
		out := shapes[i+1]
		p := &proto{class: l.Class, layer: l, names: []string{l.Name}, out: out}
		switch l.Class {
		case model.InputLayer:
			continue
		case model.Activation:
			prev := last()
			switch {
			case l.Activation == model.Linear:
				if prev != nil {
					prev.names = append(prev.names, l.Name)
				}
				continue
			case prev != nil && (prev.foldable || prev.class == model.BatchNormalization) && !prev.relu:
				prev.relu = true
				prev.foldable = false
				prev.names = append(prev.names, l.Name)
				continue
			}
			p.relu = true
		case model.BatchNormalization:
			inv, shift := bnCoefficients(l)
			if prev := last(); prev != nil && prev.foldable {
				prev.fold(inv, shift)
				prev.names = append(prev.names, l.Name)
				continue
			}
			p.scale, p.bias = inv, shift
		case model.Conv2D, model.SeparableConv2D, model.DepthwiseConv2D, model.Dense:
			if l.Class != model.Conv2D && l.Class != model.Dense && l.DepthMultiplier > 1 {
				return nil, fmt.Errorf("layer %q: depth multiplier %d is not supported (only 1)", l.Name, l.DepthMultiplier)
			}
			p.foldable = true
			p.w = f64(l.Weights[0])
			nb := len(l.Weights)
			if l.Class == model.SeparableConv2D {
				p.pw = f64(l.Weights[1])
			}
			p.bias = make([]float64, out.C)
			if l.UseBias {
				copy(p.bias, f64(l.Weights[nb-1]))
				p.hasBias = true
			}
		case model.Flatten:
		default:
			return nil, fmt.Errorf("layer %q: unsupported class %q", l.Name, l.Class)
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// bnCoefficients returns the TF inference batchnorm as y = x·inv + shift, in float64:
// inv = γ/sqrt(σ²+ε), shift = β − μ·inv.
func bnCoefficients(l *model.Layer) (inv, shift []float64) {
	g, b, m, v := l.Weights[0].Data, l.Weights[1].Data, l.Weights[2].Data, l.Weights[3].Data
	inv = make([]float64, len(g))
	shift = make([]float64, len(g))
	for c := range g {
		inv[c] = float64(g[c]) / math.Sqrt(float64(v[c])+l.Epsilon)
		shift[c] = float64(b[c]) - float64(m[c])*inv[c]
	}
	return inv, shift
}

// fold applies y = x·inv + shift (per output channel) to the stage's weights and bias.
func (p *proto) fold(inv, shift []float64) {
	w := p.w
	if p.class == model.SeparableConv2D {
		w = p.pw
	}
	cout := len(inv)
	for i := range w {
		w[i] *= inv[i%cout]
	}
	for c := range p.bias {
		p.bias[c] = p.bias[c]*inv[c] + shift[c]
	}
	p.hasBias = true
}

// layout assigns the buffers (each padded as its consumer needs) and packs the weights.
func (net *Net) layout(ps []*proto) {
	newValue := func(s model.Shape) *value {
		v := &value{h: s.H, w: s.W, c: s.C, flat: s.Flat}
		if s.Flat {
			v.h, v.w = 1, 1
		}
		v.pitch = roundUp(v.c, nr)
		v.setPad(0, 0, 0, 0)
		return v
	}
	in := newValue(net.in)
	if c := ps[0].class; c != model.SeparableConv2D && c != model.DepthwiseConv2D {
		in.pitch = in.c // a full convolution reads the image's 3 channels as they are
	}
	net.vals = []*value{in}
	for _, p := range ps {
		out := newValue(p.out)
		net.vals = append(net.vals, out)
		l := p.layer
		var sh, sw int
		if l.Class == model.Conv2D || l.Class == model.SeparableConv2D || l.Class == model.DepthwiseConv2D {
			sh, sw = l.Strides[0], l.Strides[1]
			if l.Padding == model.PaddingSame {
				_, t, b := model.SamePadding(in.h, l.Kernel[0], sh)
				_, lft, r := model.SamePadding(in.w, l.Kernel[1], sw)
				in.setPad(t, b, lft, r)
			}
		}
		flags := 0
		if p.hasBias {
			flags |= flagBias
		}
		if p.relu {
			flags |= flagReLU
		}
		switch p.class {
		case model.Conv2D:
			kh, kw := l.Kernel[0], l.Kernel[1]
			b, seglen, np := packConv(p.w, kh, kw, in.c, out.c, in.pitch)
			net.ops = append(net.ops, &convOp{in: in, out: out, stride: sh, g: rowGemm{
				rs: sw * in.pitch, nseg: kh, seglen: seglen, segStride: in.wp * in.pitch,
				np: np, b: b, bias: padBias(p.bias, np*nr), flags: flags,
			}})
		case model.SeparableConv2D:
			kh, kw := l.Kernel[0], l.Kernel[1]
			b, seglen, np := packConv(p.pw, 1, 1, in.c, out.c, in.pitch)
			net.ops = append(net.ops, &sepOp{in: in, out: out,
				dw: rowDW{kh: kh, kw: kw, sh: sh, sw: sw, nblk: in.pitch / nr, w: packDW(p.w, kh, kw, in.c, in.pitch)},
				pw: rowGemm{rs: in.pitch, nseg: 1, seglen: seglen, np: np, b: b, bias: padBias(p.bias, np*nr), flags: flags},
			})
		case model.DepthwiseConv2D:
			kh, kw := l.Kernel[0], l.Kernel[1]
			net.ops = append(net.ops, &dwOp{in: in, out: out, dw: rowDW{kh: kh, kw: kw, sh: sh, sw: sw, nblk: in.pitch / nr,
				w: packDW(p.w, kh, kw, in.c, in.pitch), bias: padBias(p.bias, in.pitch), flags: flags}})
		case model.Dense:
			wt := make([]float32, out.c*in.pitch)
			for q := 0; q < in.c; q++ {
				for j := 0; j < out.c; j++ {
					wt[j*in.pitch+q] = float32(p.w[q*out.c+j])
				}
			}
			net.ops = append(net.ops, &denseOp{in: in, out: out, wt: wt, bias: padBias(p.bias, out.c), relu: p.relu})
		case model.Flatten:
			net.ops = append(net.ops, &flattenOp{in: in, out: out})
		case model.BatchNormalization, model.Activation:
			o := &affineOp{in: in, out: out, relu: p.relu}
			if p.scale != nil {
				o.scale, o.shift = padBias(p.scale, in.c), padBias(p.bias, in.c)
			}
			net.ops = append(net.ops, o)
		}
		net.stages = append(net.stages, Stage{Name: p.names[len(p.names)-1], Layers: p.names, Shape: p.out})
		in = out
	}
	net.nout = in.count()
}

// Name is the compiled network's name.
func (net *Net) Name() string { return net.name }

// InputShape is the shape of one input image (height, width, channels).
func (net *Net) InputShape() model.Shape { return net.in }

// Outputs is the number of outputs per image (the final layer's output, flattened NHWC).
func (net *Net) Outputs() int { return net.nout }

// Stages lists the compiled stages; Activations takes their indices.
func (net *Net) Stages() []Stage { return append([]Stage(nil), net.stages...) }

// StageOf returns the index of the stage whose output is the output of the named Keras layer
// (e.g. "layer4_act" in a compact model). A layer fused into the middle of a stage (a
// convolution followed by batchnorm) has no output of its own and gives an error.
func (net *Net) StageOf(layer string) (int, error) {
	for i, s := range net.stages {
		for j, name := range s.Layers {
			if name != layer {
				continue
			}
			if j == len(s.Layers)-1 {
				return i, nil
			}
			return 0, fmt.Errorf("network %q: layer %q is fused into stage %d (%v); its own output is not computed, use %q", net.name, layer, i, s.Layers, s.Name)
		}
	}
	return 0, fmt.Errorf("network %q: no layer %q", net.name, layer)
}

// SetWorkers sets the number of goroutines Forward uses (0: runtime.GOMAXPROCS). The results do
// not depend on it. Call it before using the Net concurrently.
func (net *Net) SetWorkers(n int) { net.workers = max(n, 0) }

func (net *Net) workerCount() int {
	if net.workers > 0 {
		return net.workers
	}
	return runtime.GOMAXPROCS(0)
}

// Forward evaluates the network on batch images x (NHWC, recentred as reference/upstream.md §3.1, length
// batch·H·W·C) and writes batch·Outputs() values to out, image after image. It returns an error
// wrapping ErrInput when the lengths are wrong or x holds a NaN or an infinity.
//
// Images are spread over the workers (or, for fewer images than workers, the rows of every layer
// are); each output value is computed by the same instructions in the same order wherever it runs,
// so the bytes of out do not depend on the number of goroutines. Buffers are kept by the Net for
// reuse (one set per worker), so a steady stream of calls allocates no activation memory.
func (net *Net) Forward(x []float32, batch int, out []float32) error {
	if err := net.checkBatch(len(x), batch); err != nil {
		return err
	}
	if len(out) != batch*net.nout {
		return fmt.Errorf("forward %s: output has %d values for %d images × %d outputs: %w", net.name, len(out), batch, net.nout, ErrInput)
	}
	return net.run(source{f: x}, batch, len(net.ops), out, nil, nil)
}

// Activations evaluates the network on batch images x (as Forward) up to the last stage listed
// and copies the output of stage stages[i] (NHWC, one image after another) into dst[i], which must
// hold batch·Stages()[stages[i]].Size() values.
func (net *Net) Activations(x []float32, batch int, stages []int, dst [][]float32) error {
	if err := net.checkBatch(len(x), batch); err != nil {
		return err
	}
	if len(stages) != len(dst) {
		return fmt.Errorf("activations %s: %d stages but %d destinations", net.name, len(stages), len(dst))
	}
	upto := 0
	for i, s := range stages {
		if s < 0 || s >= len(net.stages) {
			return fmt.Errorf("activations %s: stage %d out of range [0,%d)", net.name, s, len(net.stages))
		}
		if want := batch * net.stages[s].Size(); len(dst[i]) != want {
			return fmt.Errorf("activations %s: destination %d has %d values, stage %d (%s) needs %d", net.name, i, len(dst[i]), s, net.stages[s].Name, want)
		}
		upto = max(upto, s+1)
	}
	return net.run(source{f: x}, batch, upto, nil, stages, dst)
}

// Predict recentres count uint8 RGB images pix (NHWC, count·H·W·3 bytes) exactly as reference/upstream.md §3.1,
// x = float32(float64(p) − mean_c) with model.MeanPixel, evaluates the network and returns
// count·Outputs() values. Images are recentred one at a time into the Net's buffers, so memory does
// not grow with count.
func (net *Net) Predict(pix []uint8, count int) ([]float32, error) {
	if net.in.C != 3 {
		return nil, fmt.Errorf("predict %s: input has %d channels, recentring needs RGB: %w", net.name, net.in.C, ErrInput)
	}
	if err := net.checkBatch(len(pix), count); err != nil {
		return nil, err
	}
	out := make([]float32, count*net.nout)
	if err := net.run(source{u: pix}, count, len(net.ops), out, nil, nil); err != nil {
		return nil, err
	}
	return out, nil
}

// Recenter writes float32(float64(p) − mean_c) (reference/upstream.md §3.1, model.MeanPixel) for the interleaved
// RGB bytes pix into dst, which must have the same length (a multiple of 3).
func Recenter(pix []uint8, dst []float32) error {
	if len(pix) != len(dst) || len(pix)%3 != 0 {
		return fmt.Errorf("recenter: %d bytes into %d floats (want equal lengths, a multiple of 3): %w", len(pix), len(dst), ErrInput)
	}
	for i, p := range pix {
		dst[i] = float32(float64(p) - model.MeanPixel[i%3])
	}
	return nil
}

func (net *Net) checkBatch(n, batch int) error {
	per := net.in.Size()
	if batch < 0 || n != batch*per {
		return fmt.Errorf("forward %s: input has %d values for %d images of %v: %w", net.name, n, batch, net.in, ErrInput)
	}
	return nil
}

type source struct {
	f []float32
	u []uint8
}

// load copies (or recentres) image i into the padded input buffer.
func (net *Net) load(buf []float32, src source, i int) error {
	v := net.vals[0]
	per := v.h * v.w * v.c
	for y := 0; y < v.h; y++ {
		for x := 0; x < v.w; x++ {
			p := i*per + (y*v.w+x)*v.c
			dst := buf[v.off(y, x):][:v.c]
			if src.u != nil {
				for c, b := range src.u[p : p+v.c] {
					dst[c] = net.recentre[c][b]
				}
				continue
			}
			for c, f := range src.f[p : p+v.c] {
				if f != f || f > math.MaxFloat32 || f < -math.MaxFloat32 {
					return fmt.Errorf("image %d pixel (%d,%d) channel %d is %v: %w", i, y, x, c, f, ErrInput)
				}
				dst[c] = f
			}
		}
	}
	return nil
}

// job is the state of one call of run, pooled so that a steady stream of calls allocates
// nothing but the goroutine launches.
type job struct {
	net    *Net
	src    source
	batch  int
	upto   int
	out    []float32
	stages []int
	dst    [][]float32

	mu     sync.Mutex
	next   int
	errIdx int
	err    error
	wg     sync.WaitGroup
	scs    []*scratch
}

var jobPool = sync.Pool{New: func() any { return new(job) }}

// run evaluates ops[:upto] on every image of the batch, writing the final output to out (when
// non-nil) and the outputs of the listed stages to dst.
func (net *Net) run(src source, batch, upto int, out []float32, stages []int, dst [][]float32) error {
	if batch == 0 {
		return nil
	}
	j := jobPool.Get().(*job)
	*j = job{net: net, src: src, batch: batch, upto: upto, out: out, stages: stages, dst: dst, errIdx: batch, scs: j.scs[:0]}
	defer func() {
		clear(j.scs)
		*j = job{scs: j.scs[:0]}
		jobPool.Put(j)
	}()
	nw := net.workerCount()
	if batch < nw {
		net.bufs.reserve(1)
		net.scratch.reserve(nw)
		return j.byRows(nw)
	}
	net.bufs.reserve(nw)
	net.scratch.reserve(nw)
	// Many images: each worker takes whole images.
	for w := 1; w < nw; w++ {
		j.wg.Add(1)
		go j.work(true)
	}
	j.work(false)
	j.wg.Wait()
	if j.err != nil {
		return fmt.Errorf("forward %s: %w", net.name, j.err)
	}
	return nil
}

// finish copies image i's requested outputs out of its buffers.
func (j *job) finish(bufs [][]float32, i int) {
	net := j.net
	for k, s := range j.stages {
		size := net.stages[s].Size()
		net.vals[s+1].gather(bufs[s+1], j.dst[k][i*size:(i+1)*size])
	}
	if j.out != nil {
		net.vals[len(net.ops)].gather(bufs[len(net.ops)], j.out[i*net.nout:(i+1)*net.nout])
	}
}

// work evaluates whole images until none is left.
func (j *job) work(spawned bool) {
	if spawned {
		defer j.wg.Done()
	}
	net := j.net
	bp := net.bufs.Get()
	sc := net.scratch.Get()
	defer net.bufs.Put(bp)
	defer net.scratch.Put(sc)
	for {
		j.mu.Lock()
		i := j.next
		j.next++
		j.mu.Unlock()
		if i >= j.batch {
			return
		}
		if err := net.load((*bp)[0], j.src, i); err != nil {
			j.mu.Lock()
			if i < j.errIdx {
				j.errIdx, j.err = i, err
			}
			j.mu.Unlock()
			continue
		}
		net.image(*bp, sc, j.upto)
		j.finish(*bp, i)
	}
}

// image evaluates ops[:upto] on the image loaded in bufs[0], pipelined by rows: the stages up to
// the driver (the last stage of more than one row that only reads a window of rows) advance one
// driver row at a time, each computing just the rows the next one needs, so that a band of
// activations is read back while it is still in cache. Rows are independent, so the bytes are
// those of a stage-by-stage evaluation.
func (net *Net) image(bufs [][]float32, sc *scratch, upto int) {
	done := sc.done[:upto]
	clear(done)
	driver := -1
	for k := 0; k < upto && pipeline; k++ {
		if _, whole := net.ops[k].(*flattenOp); whole {
			break
		}
		if _, whole := net.ops[k].(*denseOp); whole {
			break
		}
		if net.ops[k].rows() > 1 {
			driver = k
		}
	}
	if driver >= 0 {
		for y := 1; y <= net.ops[driver].rows(); y++ {
			net.ensure(bufs, sc, done, driver, y)
		}
	}
	for k := driver + 1; k < upto; k++ {
		net.ensure(bufs, sc, done, k, net.ops[k].rows())
	}
}

// pipeline enables the row pipelining of image (tests compare it with stage-by-stage evaluation).
var pipeline = true

// ensure computes rows done[k]..n-1 of stage k, after the input rows they need.
func (net *Net) ensure(bufs [][]float32, sc *scratch, done []int, k, n int) {
	if done[k] >= n {
		return
	}
	o := net.ops[k]
	if k > 0 {
		net.ensure(bufs, sc, done, k-1, o.need(n))
	}
	o.run(bufs[k], bufs[k+1], sc, done[k], n)
	done[k] = n
}

// byRows evaluates the images one after another, splitting the rows of every stage over nw
// goroutines (for batches smaller than the number of workers).
func (j *job) byRows(nw int) error {
	net := j.net
	bp := net.bufs.Get()
	defer net.bufs.Put(bp)
	for range nw {
		j.scs = append(j.scs, net.scratch.Get())
	}
	defer func() {
		for _, s := range j.scs {
			net.scratch.Put(s)
		}
	}()
	for i := 0; i < j.batch; i++ {
		if err := net.load((*bp)[0], j.src, i); err != nil {
			return fmt.Errorf("forward %s: %w", net.name, err)
		}
		for k := 0; k < j.upto; k++ {
			j.parallelRows(net.ops[k], (*bp)[k], (*bp)[k+1])
		}
		j.finish(*bp, i)
	}
	return nil
}

// parallelRows runs op o over its rows, split into contiguous bands, one per scratch.
func (j *job) parallelRows(o op, in, out []float32) {
	r := o.rows()
	w := min(len(j.scs), r)
	if w <= 1 {
		o.run(in, out, j.scs[0], 0, r)
		return
	}
	for t := 1; t < w; t++ {
		j.wg.Add(1)
		go j.band(o, in, out, t, w)
	}
	o.run(in, out, j.scs[0], 0, r/w)
	j.wg.Wait()
}

func (j *job) band(o op, in, out []float32, t, w int) {
	defer j.wg.Done()
	r := o.rows()
	o.run(in, out, j.scs[t], r*t/w, r*(t+1)/w)
}
