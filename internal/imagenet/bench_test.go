package imagenet

import (
	"math"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"compactv4/internal/model"
	"compactv4/internal/nn"
)

// randomWeights fills net's weights with seeded values of ImageNet-like scale: He-scaled kernels,
// small biases, batchnorm statistics around their initial values.
func randomWeights(net *model.Network, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x1ae7))
	for i := range net.Layers {
		l := &net.Layers[i]
		for j := range l.Weights {
			w := &l.Weights[j]
			fan := 1
			if len(w.Shape) == 4 {
				fan = w.Shape[0] * w.Shape[1] * w.Shape[2]
			}
			for k := range w.Data {
				switch {
				case l.Class == model.BatchNormalization && (j == 0 || j == 3):
					w.Data[k] = float32(0.5 + rng.Float64())
				case l.Class == model.BatchNormalization || len(w.Shape) == 1:
					w.Data[k] = float32(0.1 * rng.NormFloat64())
				default:
					w.Data[k] = float32(rng.NormFloat64() * math.Sqrt(2/float64(fan)))
				}
			}
		}
	}
}

// BenchmarkResNet50Trunk times ResNet50 up to conv4_block4_out (the teacher's trunk) on a batch
// of 32 224×224 images, all cores. Its convolutions take 5.374 GFLOP per image (2·H·W·Cout·
// kh·kw·Cin summed over the 40 Conv2D layers); VGG19 up to block4_pool takes 35.32.
//
// The peer is testdata/torch_trunk_bench.py (the same layers in PyTorch, batch 32, 2 threads),
// run as PyTorch's CPU performance guide advises, right after the Go benchmark in the same
// sitting:
//
//	go test ./internal/imagenet -run XXX -bench 'BenchmarkResNet50Trunk|BenchmarkVGG19Trunk' -benchtime 10x
//	LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4 env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
//		/usr/bin/python3 internal/imagenet/testdata/torch_trunk_bench.py resnet50 32 2   # or vgg19
//
// Measured 2026-12-03 (UTC) on the 2-core AVX-512 machine ("Intel(R) Xeon(R) Processor", 2.0
// GHz, kernel set avx512, PyTorch 1.13.0a0), shared with other engineers' runs: both at nice 10,
// load average (1 min) at the start of each sitting given; images/s is the wall clock,
// images/cpu-s the process's CPU time (less sensitive to the load).
//
//	sitting (UTC, load)   ResNet50 Go            PyTorch               ratio wall / cpu
//	07:18 (4.00)          13.04 (13.52 cpu-s)    6.26 (6.50 cpu-s)     2.08× / 2.08×
//	07:19 (4.02)          13.43 (13.85 cpu-s)    6.51 (6.63 cpu-s)     2.06× / 2.09×
//	07:21 (2.61)          14.16 (14.31 cpu-s)    6.59 (6.60 cpu-s)     2.15× / 2.17×
//	07:27 (6.18)          12.84 (13.89 cpu-s)    6.73 (6.85 cpu-s)     1.91× / 2.03×
//	                      VGG19 Go               PyTorch
//	07:12 (6.53)          1.75 (2.31 cpu-s)      1.72 (2.12 cpu-s)     1.01× / 1.09×
//	07:22 (3.46)          2.18 (2.19 cpu-s)      1.90 (2.12 cpu-s)     1.14× / 1.03×
//	07:28 (6.36)          2.69 (2.70 cpu-s)      2.25 (2.26 cpu-s)     1.19× / 1.19×
//
// On the idle machine (07:45-07:48 UTC, no other job; nice 0; -benchtime 10x then 20x), five
// sittings of ResNet50 gave Go 31.33, 27.94, 24.44, 29.77, 28.97 images/s against PyTorch 15.46,
// 15.30, 15.36, 15.52, 15.80: 2.03×, 1.83×, 1.59×, 1.92×, 1.83× (median 1.83×). PyTorch varies
// by 3 %, Go by 25 %, at 14-16 images/cpu-s, so the 2× target is reached at Go's best and not
// reliably. Three more sittings on 2026-12-03 at 10:42-10:44 UTC (the machine idle but for another
// engineer's tests held at the lowest scheduling priority; two Go runs then PyTorch in each):
// Go 29.42 and 28.55 against 16.62 (1.77×, 1.72×), 32.16 and 34.47 against 17.13 (1.88×, 2.01×),
// 30.31 and 31.47 against 16.77 (1.81×, 1.88×): median 1.84×.
//
// At the same sittings' best, a core computes the trunk's convolutions at about 77 GFLOP per
// CPU-second (14.31 images/cpu-s × 5.374 GFLOP); per layer on one thread, 85-120 GFLOP/s, of a
// nominal peak of 128 (2.0 GHz × two 16-lane FMA units). 91 % of the CPU time is in the GEMM micro-kernel.
//
// 2026-12-03 13:31-13:33 UTC, the machine idle (load 0.9-1.5, no other job; nice 0; -benchtime
// 10x), GraphNet with the Winograd 3×3 convolutions against the direct ones (main at 06811be),
// three alternating runs, no PyTorch sitting: direct 29.20, 29.23, 28.06 images/s (14.87, 14.96,
// 14.58 images/cpu-s), Winograd 35.91, 35.13, 35.59 (18.27, 18.02, 18.21 images/cpu-s): 1.22×.
// VGG19 at 13:33-13:34 (-benchtime 2x, two alternating runs): direct 5.15 and 5.49 images/s
// (2.63, 2.76 images/cpu-s), Winograd 7.31 and 8.18 (3.77, 4.17 images/cpu-s): 1.42×, 1.49×.
//
// With the Winograd convolutions, against PyTorch: three sittings on 2026-12-03 at 13:35-13:37
// UTC, the machine idle (load 1.1-1.9, no other job; nice 0; -benchtime 10x, two Go runs then
// PyTorch in each): Go 36.67 and 35.45 images/s against 17.97 (2.04×, 1.97×), 36.35 and 42.34
// against 17.81 (2.04×, 2.38×), 37.99 and 38.58 against 17.68 (2.15×, 2.18×): median 2.10×, one
// run of six below 2×. Go took 18.2-21.7 images/cpu-s, PyTorch 8.9-9.1.
func BenchmarkResNet50Trunk(b *testing.B) {
	benchTrunk(b, func() (*model.Network, error) { return model.NewResNet50(model.ResNet50Output, 1) })
}

// BenchmarkVGG19Trunk is BenchmarkResNet50Trunk for VGG19 up to block4_pool.
func BenchmarkVGG19Trunk(b *testing.B) {
	benchTrunk(b, func() (*model.Network, error) { return model.NewVGG19(model.VGG19Output, 1) })
}

func benchTrunk(b *testing.B, build func() (*model.Network, error)) {
	const batch = 32
	net, err := build()
	if err != nil {
		b.Fatal(err)
	}
	randomWeights(net, 1)
	g, err := nn.CompileGraph(net)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 0))
	x := make([]float32, batch*g.InputShape().Size())
	for i := range x {
		x[i] = float32(rng.Float64()*255 - 120)
	}
	out := make([]float32, batch*g.Outputs())
	if err := g.Forward(x, batch, out); err != nil {
		b.Fatal(err)
	}
	c0 := processCPU()
	for b.Loop() {
		if err := g.Forward(x, batch, out); err != nil {
			b.Fatal(err)
		}
	}
	// images/cpu-s counts the CPU time of all the process's threads, which a shared machine
	// inflates far less than the wall clock.
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "images/s")
	b.ReportMetric(float64(b.N*batch)/(processCPU()-c0).Seconds(), "images/cpu-s")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
