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
// of 32 224×224 images, all cores.
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
