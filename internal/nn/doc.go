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
//   - The GEMM micro-kernel computes 6 rows of C against panels of 16 columns of packed B, with
//     bias and ReLU fused into the store. The AVX2 kernel (kernels_amd64.s) holds a 6×16 tile in
//     twelve YMM registers (12 FMAs per 6 broadcasts and 2 loads) and does one panel at a time;
//     the AVX-512 kernel (kernels_avx512_amd64.s) does up to four panels at once, a 6×64 tile in
//     24 ZMM registers (24 FMAs per 6 broadcasts and 4 loads).
//   - Depthwise convolutions are vectorised over channels: 4 output pixels × 16 channels per
//     call, 8 accumulators (AVX2) or 4 pixels × up to 64 channels, 16 accumulators (AVX-512).
//   - The readout is a dot product with four 8-lane accumulators.
//   - Within an image the stages advance in row bands (each computing just the rows the next one
//     reads), so that layer 0's output, 2.5 MB per image, is read back while still in L2.
//
// gonum's BLAS (gonum.org/v1/gonum/blas/gonum) has a pure-Go Sgemm; it is several times slower
// than Sgemm here (BenchmarkSgemmVsGonumCPU runs both alternately), so it is not used.
//
// # Kernel sets
//
// Every kernel exists in up to three sets, chosen once at start-up:
//
//   - avx512: AVX-512F assembly for the GEMM tiles (inference, weight gradients, Sgemm), the
//     depthwise kernels (forward and weight gradient) and GraphNet's Winograd transforms; the
//     AVX2 assembly for the others, where 512 bits gain nothing (the batchnorm and column-sum
//     kernels, bound by memory bandwidth; the readout's dot product; ReLU masks; rows of 16
//     floats).
//   - avx2: AVX2+FMA assembly throughout, but for the Winograd transforms, which run the Go
//     code (they only add and subtract, so every set gives the same bits for them).
//   - purego: Go throughout (several times slower); the only set of a build with the purego tag
//     or for another architecture.
//
// The fastest set the CPU supports (golang.org/x/sys/cpu: AVX512F with the OS saving the ZMM
// registers; AVX2 and FMA) runs, unless the environment variable COMPACTV4_KERNELS names
// another ("avx512", "avx2" or "purego"; naming one the CPU or build cannot run is a start-up
// error, not a silent fallback). Kernels reports the set in use. The tests run every set the
// machine supports in one `go test` (forEachKernel, agreeAcrossKernels), the fuzz targets too.
//
// How much a set gains depends on the core: on AMD Zen 4, which executes 512-bit FMAs on its
// 256-bit units, AVX-512 does the same multiply-adds per cycle as AVX2 and saves only
// instructions (broadcasts, loop overhead); on cores with full-width 512-bit units it doubles
// the multiply-adds per cycle. The README's speed table records the CPU and set it was measured
// with.
//
// Agreement between sets: the avx512 kernels compute every element with the same fused
// multiply-adds, in the same order, as the avx2 kernels (sixteen lanes at a time instead of
// eight; a tile of more panels never changes a sum's terms or order), so the two sets give the
// same bits, and the tests require it. The purego kernels sum in the same order but round each
// multiply and add separately: against the assembly they differ by at most 1e-5·(1+|x|) per
// kernel on unit-scale data (kernelTol in the tests; typically a few ulps), and whole networks
// from each set agree with the float64 reference at the tolerances below.
//
// # Determinism
//
// Every output value is computed by the same instructions in the same order wherever it runs:
// work is split over images (or, for batches smaller than the number of workers, over output
// rows), never over a reduction; the last, partial tile of a row is recomputed overlapping the
// previous one rather than by a different kernel. The bytes of the results therefore do not
// depend on the number of goroutines (runtime.GOMAXPROCS, or SetWorkers) or on the batch an
// image is part of. They do depend on the kernel set as described above: avx512 and avx2 give
// the same bytes, purego differs in the last bits (separate multiply and add). The tests check
// the independence from the number of goroutines with every set.
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
// BenchmarkCompactInference (wall clock, all cores, batch 64) is the end-to-end figure,
// BenchmarkStageCPU the CPU time of each stage on one thread; their measurements are in the
// README's speed table (one place, regenerated by `make bench`).
//
// # Graphs
//
//	g, err := nn.CompileGraph(network)       // any graph: residual Add, MaxPooling2D, ZeroPadding2D...
//	err = g.Forward(x, batch, out)           // x preprocessed as the network expects
//	err = g.Activations(x, batch, []string{"conv4_block4_out"}, [][]float32{dst})
//
// Compile takes chains only (the compact and shared models, whose stages it pipelines by rows on
// padded buffers); CompileGraph takes any network the model package describes (ResNet50, VGG19,
// the ensemble members). It folds batchnorm into the convolution before it, fuses a ReLU into the
// stage before it and a residual Add into the convolution producing its last operand, whenever
// the intermediate output has no other reader, and evaluates image by image on NHWC buffers with
// the channel pitch rounded up to 16, reusing buffers once their values are dead. Convolutions
// are GEMMs on the same micro-kernel as Compile (rowGemm; A is the input for 1×1 stride-1
// convolutions, a gathered copy of the pixels a strided 1×1 convolution reads, the input or a
// zero-padded copy of it read in place one kernel row per segment when its pixels are
// contiguous (channels a multiple of 16, or a zero-padded stem image of 3 channels), the
// depthwise output for separable ones, an im2col copy otherwise). Each GEMM sweeps all its
// output pixels for a block of output panels whose packed weights fit in L2 (512 KiB), a
// residual operand that nothing reads later is accumulated where it lies, and max pooling runs
// on a VMAXPS kernel; depthwise convolutions, padding and additions are Go loops. None of this
// changes the arithmetic of an output element. Its results do not depend on the
// number of goroutines or on the batch (TestGraphDeterministic); against ForwardFloat64, which
// evaluates graphs too, they agree to a few 1e-6 of the standard deviation (tests require 1e-4),
// and ForwardFloat64 agrees with PyTorch in float64 to rounding (TestGraphMatchesTorch).
// BenchmarkResNet50Trunk (internal/imagenet) times ResNet50 to conv4_block4_out.
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
// 16 floats. One image of the 48,60,3,3,3 model costs 238 MFLOP (forward 119, backward 119)
// (BenchmarkInputGrad).
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
// BenchmarkCompactTrainStep is the wall-clock figure (batch 64, all cores, Adam) and
// BenchmarkTrainStepCPU the CPU time of one worker on one locked thread; their measurements, with
// the PyTorch peer's in the same sitting, are in the README's speed table. A good part of a step
// of the 48-filter model goes to the batchnorm passes over layer 0's 112×112 outputs, which are
// bound by memory bandwidth, not by the kernels' arithmetic: batchnorm in training mode cannot be
// folded, and its statistics force each layer's output of the whole batch to be written and read
// back.
package nn
