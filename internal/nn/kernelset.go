package nn

import (
	"fmt"
	"os"
	"strings"
)

// kernelSet names one implementation of the low-level kernels. Every kernel function dispatches
// on the package's current set, kern.
type kernelSet uint8

const (
	// kernelsGo is the pure-Go kernels: the only set of a build with the purego tag or for
	// another architecture.
	kernelsGo kernelSet = iota
	// kernelsAVX2 is the AVX2+FMA assembly (256-bit).
	kernelsAVX2
	// kernelsAVX512 is the AVX-512F assembly (512-bit) for the GEMM and depthwise kernels and
	// the Winograd transforms, and the AVX2 assembly for the others, where 512 bits gain nothing (the batchnorm and column-sum
	// kernels, bound by memory bandwidth; the readout's dot product; ReLU masks; rows of 16
	// floats).
	kernelsAVX512
)

// kernelsEnv is the environment variable that forces a kernel set ("avx512", "avx2" or "purego");
// unset or empty, the fastest set this CPU and build support runs.
const kernelsEnv = "COMPACTV4_KERNELS"

var kernelNames = [...]string{kernelsGo: "purego", kernelsAVX2: "avx2", kernelsAVX512: "avx512"}

func (k kernelSet) String() string { return kernelNames[k] }

// supported reports whether this CPU and build can run set k.
func (k kernelSet) supported() bool {
	switch k {
	case kernelsAVX2:
		return haveAVX2
	case kernelsAVX512:
		return haveAVX512
	}
	return true
}

// availableKernels lists the sets this CPU and build support, slowest first.
func availableKernels() []kernelSet {
	var ks []kernelSet
	for k := range kernelNames {
		if kernelSet(k).supported() {
			ks = append(ks, kernelSet(k))
		}
	}
	return ks
}

// chooseKernels returns the set named by env (kernelsEnv's value), or the fastest supported set
// when env is empty. Naming an unknown or unsupported set is an error: a run that was asked for
// one set must not silently use another.
func chooseKernels(env string) (kernelSet, error) {
	env = strings.TrimSpace(env)
	if env == "" {
		ks := availableKernels()
		return ks[len(ks)-1], nil
	}
	for k, name := range kernelNames {
		if strings.EqualFold(env, name) {
			if !kernelSet(k).supported() {
				return 0, fmt.Errorf("nn: %s=%s: this CPU or build cannot run the %s kernels (available: %s)", kernelsEnv, env, name, kernelList())
			}
			return kernelSet(k), nil
		}
	}
	return 0, fmt.Errorf("nn: %s=%q: unknown kernel set (one of %s)", kernelsEnv, env, kernelList())
}

func kernelList() string {
	var s []string
	for _, k := range availableKernels() {
		s = append(s, k.String())
	}
	return strings.Join(s, ", ")
}

// kern is the kernel set in use, chosen once at start-up. Tests switch it to run every set.
var kern = mustChooseKernels()

func mustChooseKernels() kernelSet {
	k, err := chooseKernels(os.Getenv(kernelsEnv))
	if err != nil {
		panic(err)
	}
	return k
}

// Kernels names the kernel set in use: "avx512", "avx2" or "purego". The fastest one the CPU
// supports runs unless the environment variable COMPACTV4_KERNELS names another. The sets give
// results that agree to rounding (see the package documentation, Kernel sets).
func Kernels() string { return kern.String() }
