// Package nn evaluates and trains the paper's networks in float32: the single-neuron compact
// models (reference/upstream.md §4.1-§4.2) and the shared compact models (§4.6), or any chain of the
// Keras layers they use, described by a *model.Network. It also computes their input gradients
// (for preferred stimuli, reference/upstream.md §9) and implements upstream's weight smoothing (reference/upstream.md §8).
//
// # Use
//
//	net, err := nn.Compile(network)          // validates, folds batchnorm, packs weights
//	resp, err := net.Predict(pixels, n)      // uint8 NHWC images, recentred as reference/upstream.md §3.1
//	err = net.Forward(x, batch, out)         // recentred float32 NHWC images
//	i, err := net.StageOf("layer4_act")      // a trunk layer's output...
//	err = net.Activations(x, batch, []int{i}, [][]float32{dst}) // ...for a batch
//
// ForwardFloat64 is the slow, unfolded float64 evaluation of reference/upstream.md §4.2 that the kernels are
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
//
// # Input gradients
//
//	g, err := nn.NewGradNet(network)               // batchnorm in inference mode, folded
//	err = g.InputGrad(x, batch, dOut, out, dx)     // out = f(x), dx = ∂(Σ dOut·out)/∂x
//
// GradNet runs the compiled forward pass keeping every stage's output, then the stages backward
// on the same packed layout: ReLU masks, the transposed pointwise kernel as a GEMM, the depthwise
// input gradient split by stride phase (each output parity of a stride-2 layer is a stride-1
// correlation with a 2×2…3×3 sub-kernel, run by the forward depthwise kernel, so no multiply hits
// an inserted zero), and for the full 5×5 convolution a GEMM giving each output pixel's patch
// gradient (kernel rows padded to 16 columns) added back onto the image in non-overlapping rows of
// 16 floats. One image of the 48,60,3,3,3 model costs 238 MFLOP (forward 119, backward 119), 5.3
// to 6.6 ms of one core (BenchmarkInputGrad).
//
// # Training
//
//	nn.InitKeras(network, seed)                    // Keras initialisers, explicit seed
//	t, err := nn.NewTrainer(network, nn.NewAdam(1e-4, 0.5))
//	loss, err := t.Step(x, y, batch)               // training-mode forward, MSE, backward, update
//	err = t.SmoothWeights()                        // upstream smooth_weights (reference/upstream.md §8)
//	trained := t.Network()                         // weights and moving statistics, for Compile
//
// The semantics are Keras 3's, each checked against its source and documented where it is
// implemented: batchnorm with batch statistics and biased variance, moving statistics updated with
// the biased variance (Trainer); MSE as the mean over batch and outputs; Adam with the bias
// correction folded into the step size and SGD with momentum m = μ·m − lr·g, both with
// element-wise clipvalue (Optimizer); GlorotUniform with Keras' fans (InitKeras);
// scipy.ndimage.gaussian_filter for the smoothing, bit for bit (gauss.Filter2D).
//
// A step runs the stages one after another over the whole batch (batchnorm needs the batch's
// statistics before any image can go on), each image's work fused row by row so that a row is
// reused while in cache: the forward pass applies the previous stage's batchnorm to the rows the
// convolution is about to read and takes each output row's moments at once; the backward pass
// takes each output row through the batchnorm gradient, the bias, pointwise and depthwise weight
// gradients and the transposed pointwise product, and writes each row of the previous stage's
// gradient (masked by its ReLU, with its batchnorm sums) as soon as the output rows it depends
// on are done. Weight gradients are GEMMs read in place by a second micro-kernel with strided B
// (sgemmSB): for layer 0 the output gradient is A (rows = output channels) and 16-float windows
// of the padded image rows are B (5 pixels × 3 channels + 1, one panel per kernel row); for
// pointwise kernels the depthwise output is A and the output gradient B. The depthwise kernel
// gradient has its own kernel (10 accumulators: one kernel row of 5 taps × 16 channels).
//
// Float32 throughout, with float64 where sums are long: batch statistics from per-row means and
// sums of squared deviations combined by Chan et al.'s formula, backward batchnorm sums per row,
// and the reduction of the weight gradients, accumulated in float32 per unit (a fixed group of
// images that depends only on the batch size) and added in float64 in unit order. The results do
// not depend on the number of goroutines.
//
// Checks: every gradient of the float32 engine (input gradients of GradNet, weight gradients of
// the Trainer with batchnorm in training mode) and of a float64 twin of the engine
// (reference64_test.go) against central finite differences of the float64 loss on small networks
// with every layer the suite uses, stride-2 borders, odd sizes and 'valid' pools: relative errors
// below 1e-5 (float32) and 1e-8 (float64), against required 1e-4 and 1e-7; at the paper's 112×112
// geometry against the float64 twin; FuzzGradNet and FuzzTrainer on random layer chains; and
// end to end, a student compact model trained from scratch on a synthetic teacher's responses
// reaching a held-out Pearson r of 0.963 (TestStudentRecoversTeacher).
//
// # Cost of training
//
// Per image, a training step of the compact model (convolutions and readout, ×2 for multiply-add;
// batchnorm, ReLU and Adam not counted) takes, for filters 48,60,3,3,3, 118.8 MFLOP forward and
// 147.3 backward (layer 0 needs no input gradient), 266.1 MFLOP in all; for 100×5 (the
// distillation student), 325.5 forward and 462.9 backward, 788.4 MFLOP (layer 0: 188.2 each way;
// layer 1: 78.4 forward, 156.8 backward).
//
// BenchmarkTrainStepCPU (one worker on one locked thread, so that other processes disturb it
// little) measured 6.5-8.2 ms of CPU per image for 48,60,3,3,3 (32-41 GFLOP/s, 41-52 % of one
// core's nominal 78 GFLOP/s) and 19.6-25 ms for 100×5 (32-40 GFLOP/s, 41-51 %), the spread being
// the load of the machine's other users. About a third of the time of the 48-filter model goes
// to the batchnorm passes over layer 0's 112×112 outputs, which are bound by memory bandwidth:
// batchnorm in training mode cannot be folded, and its statistics force each layer's output of
// the whole batch to be written and read back.
//
// BenchmarkCompactTrainStep is the wall-clock figure (batch 64, all cores, Adam). Measured in one
// sitting with the peer, PyTorch 1.13 (Debian's python3-torch; /work/shared/tools/
// torch_compact_bench.py, 2 threads), on a machine whose load average was 6-8 (several other
// users on 2 cores): 48,60,3,3,3 88.7 images/s (124.5 images per CPU-second) against PyTorch's
// 4.8; 100×5 25.5 images/s (33.9 per CPU-second) against 0.3. PyTorch's two OpenMP threads
// collapse on a loaded machine; per CPU-second, its best was with one thread: 16.2 (48 filters)
// and 9.2 (100×5) images per CPU-second, 7.7× and 3.7× below this engine. (The issue quotes
// 62 and 24 images/s for PyTorch on a quiet machine; at the CPU rates above, two free cores
// would give this engine about 250 and 70.)
package nn
