package nn

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"compactv4/internal/model"
)

func benchNet(b *testing.B, mn *model.Network, batch int) {
	randomize(b, mn, 1)
	net, err := Compile(mn)
	if err != nil {
		b.Fatal(err)
	}
	_, x := randomImages(2, batch, net.InputShape())
	out := make([]float32, batch*net.Outputs())
	if err := net.Forward(x, batch, out); err != nil { // warm the pools
		b.Fatal(err)
	}
	t0 := processCPU()
	for b.Loop() {
		if err := net.Forward(x, batch, out); err != nil {
			b.Fatal(err)
		}
	}
	// images/s is wall clock; images/cpu-s counts the CPU time of all the process's threads, which
	// a shared machine inflates far less (on an idle machine images/s ≈ cores × images/cpu-s).
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "images/s")
	b.ReportMetric(float64(batch*b.N)/(processCPU()-t0).Seconds(), "images/cpu-s")
}

// BenchmarkCompactInference is the paper's typical compact model (filters 48,60,3,3,3), batch 64.
func BenchmarkCompactInference(b *testing.B) {
	mn, err := model.NewCompact([model.NumLayers]int{48, 60, 3, 3, 3})
	if err != nil {
		b.Fatal(err)
	}
	benchNet(b, mn, 64)
}

// BenchmarkSharedInference is the largest shared compact model (K=200, 219 outputs), batch 64.
func BenchmarkSharedInference(b *testing.B) {
	mn, err := model.NewShared(200, 219, true)
	if err != nil {
		b.Fatal(err)
	}
	benchNet(b, mn, 64)
}

// BenchmarkStages times each stage of the compact benchmark model alone on one goroutine.
func BenchmarkStages(b *testing.B) {
	mn, _ := model.NewCompact([model.NumLayers]int{48, 60, 3, 3, 3})
	randomize(b, mn, 1)
	net, err := Compile(mn)
	if err != nil {
		b.Fatal(err)
	}
	_, x := randomImages(2, 1, net.InputShape())
	bufs := *net.bufs.Get()
	sc := new(scratch)
	if err := net.load(bufs[0], source{f: x}, 0); err != nil {
		b.Fatal(err)
	}
	for k, o := range net.ops {
		o.run(bufs[k], bufs[k+1], sc, 0, o.rows())
	}
	for k, o := range net.ops {
		b.Run(net.stages[k].Name, func(b *testing.B) {
			for b.Loop() {
				o.run(bufs[k], bufs[k+1], sc, 0, o.rows())
			}
		})
	}
}

func BenchmarkSgemmGonum(b *testing.B) {
	impl := gonum.Implementation{}
	for _, s := range [][3]int{{256, 256, 256}, {3136, 64, 48}, {12544, 48, 75}} {
		m, n, k := s[0], s[1], s[2]
		rng := rand.New(rand.NewPCG(1, 1))
		x, y, z := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			for b.Loop() {
				impl.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, x, k, y, n, 0, z, n)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkParallelSgemm is ParallelSgemm with one worker per core (runtime.GOMAXPROCS); the
// 1024³ product is the speed table's comparison with numpy's OpenBLAS.
func BenchmarkParallelSgemm(b *testing.B) {
	for _, s := range [][3]int{{1024, 1024, 256}, {1024, 1024, 1024}} {
		m, n, k := s[0], s[1], s[2]
		rng := rand.New(rand.NewPCG(1, 1))
		x, y, z := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			for b.Loop() {
				ParallelSgemm(runtime.GOMAXPROCS(0), false, false, m, n, k, 1, x, k, y, n, 0, z, n)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkDepthwise is layer 1's depthwise step (5×5, stride 2, 48 channels, 112×112 → 56×56).
func BenchmarkDepthwise(b *testing.B) {
	in := &value{h: 112, w: 112, c: 48, pitch: 48}
	in.setPad(1, 2, 1, 2)
	rng := rand.New(rand.NewPCG(1, 1))
	src := randSlice(rng, in.size())
	d := rowDW{kh: 5, kw: 5, sh: 2, sw: 2, nblk: 3, w: randSlice(rng, 25*48)}
	dst := make([]float32, 56*48)
	for b.Loop() {
		for y := 0; y < 56; y++ {
			d.row(src, in, y, dst, 0, 48, 56)
		}
	}
	b.ReportMetric(2*25*48*56*56*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
