// Package nn evaluates the paper's networks in float32: the single-neuron compact models
// (reference spec §4.1-§4.2) and the shared compact models (§4.6), or any chain of the Keras
// layers they use, described by a *model.Network.
//
// # Use
//
//	net, err := nn.Compile(network)          // validates, folds batchnorm, packs weights
//	resp, err := net.Predict(pixels, n)      // uint8 NHWC images, recentred as spec §3.1
//	err = net.Forward(x, batch, out)         // recentred float32 NHWC images
//	i, err := net.StageOf("layer4_act")      // a trunk layer's output...
//	err = net.Activations(x, batch, []int{i}, [][]float32{dst}) // ...for a batch
//
// ForwardFloat64 is the slow, unfolded float64 evaluation of spec §4.2 that the kernels are
// tested against. Sgemm and ParallelSgemm are the general row-major float32 GEMM (with
// transposed variants) that the kernels are built on, for use by training code.
//
// # How it computes
//
// Compile folds each batchnorm (inference mode, TF formula inv = γ/sqrt(σ²+ε),
// y = x·inv + (β − μ·inv), ε from the layer) into the preceding convolution's (for a
// SeparableConv2D, the pointwise) weights and bias, in float64, and stores them as float32; a
// ReLU that follows is fused into the same stage. Activations are NHWC with the channel pitch
// rounded up to 16, and each buffer carries the zero padding of the layer that reads it (TF
// 'same': (2,2) at stride 1, (1,2) at stride 2 for 5×5 kernels on even sizes), so kernels never
// test borders.
//
//   - Full convolutions (layer 0: 5×5×3→F0 at 112×112) are GEMMs whose A operand is read in place
//     from the padded image, one kernel row (5 pixels × 3 channels, contiguous in NHWC) at a time:
//     no im2col buffer. Pointwise convolutions are plain GEMMs.
//   - The GEMM micro-kernel (kernels_amd64.s) holds a 6×16 tile of C in twelve YMM registers and
//     does 12 FMAs per 6 broadcasts and 2 loads, with bias and ReLU fused into the store.
//   - Depthwise convolutions are vectorised over channels: 4 output pixels × 16 channels per
//     call, 8 accumulators.
//   - The readout is a dot product with four 8-lane accumulators.
//   - Within an image the stages advance in row bands (each computing just the rows the next one
//     reads), so that layer 0's output, 2.5 MB per image, is read back while still in L2.
//
// On CPUs without AVX2 and FMA, or with the purego build tag, pure-Go kernels with the same
// summation order run instead (several times slower).
//
// gonum's BLAS (gonum.org/v1/gonum/blas/gonum) has a pure-Go Sgemm; measured alternately in one
// process on this machine it ran at 5-9 GFLOP/s of CPU time against 38-68 GFLOP/s for Sgemm
// here (BenchmarkSgemmVsGonumCPU), so it is not used.
//
// # Determinism
//
// Every output value is computed by the same instructions in the same order wherever it runs:
// work is split over images (or, for batches smaller than the number of workers, over output
// rows), never over a reduction; the last, partial tile of a row is recomputed overlapping the
// previous one rather than by a different kernel. The bytes of the results therefore do not
// depend on the number of goroutines (runtime.GOMAXPROCS, or SetWorkers) or on the batch an
// image is part of. They do depend on the kernels: the assembly and pure-Go kernels round
// differently (fused vs separate multiply-add).
//
// # Accuracy
//
// Against ForwardFloat64, on random weights and seeded random images, the largest error is
// 1e-6 to 9e-6 of the prediction's standard deviation over the batch (tests require 1e-5); a
// plain float32 evaluation in spec order does no better. On published models (checked through
// numpy when /usr/bin/python3 has numpy and h5py), compact models agree with a float64 numpy
// evaluation to about 3e-7 of the standard deviation and shared K=5 models to about 7e-6.
//
// # Cost
//
// The benchmark compact model (filters 48,60,3,3,3) takes 59.4 M multiply-adds, 118.8 MFLOP,
// per 112×112 image: layer 0 90.3 MFLOP, layer 1 25.6 (depthwise 7.5, pointwise 18.1), layer 2
// 2.6, layers 3-4 0.26, readout 0.005. The K=200 shared model takes 822.6 MFLOP per image.
//
// This project's machine has 2 cores of an AMD EPYC (Zen 3) at a nominal 2.445 GHz, each with
// AVX2 and two 256-bit FMA units: 2 × 2.445 GHz × 2 units × 8 lanes × 2 FLOP = 156 GFLOP/s
// float32 peak at the nominal clock (78 per core). The CPU boosts above it: the GEMM micro-kernel
// alone (BenchmarkGemmTileCPU, L1-resident) has measured 63-92 GFLOP/s of CPU time on one core.
//
// Measured as per-thread CPU time (BenchmarkStageCPU; wall-clock figures were unusable while the
// machine was shared by several engineers, load average around 20 on 2 cores), one image of the
// benchmark model takes 2.1-2.9 ms of one core: layer 0 1.2-1.5 ms (59-75 GFLOP/s), layer 1
// 0.7-0.95 ms (depthwise ≈ 22 GFLOP/s, pointwise ≈ 49 GFLOP/s), the rest about 0.15 ms. That is
// 41-55 GFLOP/s, 52-71 % of one core's nominal peak, or 340-470 images/s per core.
// BenchmarkCompactInference (wall clock, all cores, batch 64) is the end-to-end figure.
package nn
