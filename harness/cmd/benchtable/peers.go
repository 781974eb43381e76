package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// installHint is what the table says where a peer cannot run.
const installHint = "apt-get install python3-torch python3-numpy libtcmalloc-minimal4"

// Peer configurations: the compact model's filters, a batch of 64, one thread per core.
var peerConfigs = []string{"48,60,3,3,3", "100,100,100,100,100"}

const peerBatch = 64

// torchResult is one run of torch_compact_bench.py.
type torchResult struct {
	Torch string  `json:"torch"`
	Infer float64 `json:"infer_img_per_s"`
	Train float64 `json:"train_img_per_s"`
}

// sgemmResult is one run of numpy_sgemm.py.
type sgemmResult struct {
	N     int     `json:"n"`
	Best  float64 `json:"gflops_best"`
	Numpy string  `json:"numpy"`
	BLAS  string  `json:"blas"`
}

// peers runs the Python peers and keeps their results, or why they could not run.
type peers struct {
	python, dir, tcmalloc string
	threads               int
	logf                  func(string, ...any)
	torchMissing          string // why the PyTorch peer cannot run ("" if it can)
	numpyMissing          string
	torch                 map[string][]torchResult // by filters
	torchErr              map[string]string
	sgemm                 []sgemmResult
	sgemmErr              string
}

func newPeers(python, dir string, logf func(string, ...any)) *peers {
	p := &peers{python: python, dir: dir, logf: logf, threads: runtime.NumCPU(),
		torch: map[string][]torchResult{}, torchErr: map[string]string{}}
	if _, err := exec.LookPath(python); err != nil {
		p.numpyMissing = fmt.Sprintf("no Python interpreter %s", python)
		p.torchMissing = p.numpyMissing
		return p
	}
	if err := exec.Command(python, "-c", "import numpy").Run(); err != nil {
		p.numpyMissing = fmt.Sprintf("%s cannot import numpy", python)
	}
	if err := exec.Command(python, "-c", "import torch").Run(); err != nil {
		p.torchMissing = fmt.Sprintf("%s cannot import torch", python)
	}
	p.tcmalloc = findTCMalloc()
	if p.tcmalloc == "" && p.torchMissing == "" {
		p.torchMissing = "no libtcmalloc_minimal.so.4 (the untuned peer would be unfair)"
	}
	for name, b := range map[string][]byte{"torch_compact_bench.py": torchScript, "numpy_sgemm.py": numpyScript} {
		if err := os.WriteFile(scriptPath(dir, name), b, 0o644); err != nil {
			p.torchMissing, p.numpyMissing = err.Error(), err.Error()
		}
	}
	return p
}

// findTCMalloc returns the path of Debian's libtcmalloc-minimal4 library, or "".
func findTCMalloc() string {
	for _, pat := range []string{"/usr/lib/*/libtcmalloc_minimal.so.4", "/usr/lib64/libtcmalloc_minimal.so.4", "/usr/lib/libtcmalloc_minimal.so.4"} {
		if m, _ := filepath.Glob(pat); len(m) > 0 {
			return m[0]
		}
	}
	return ""
}

// peerEnv is this process's environment without the OPENBLAS_* variables that pin old OpenBLAS
// builds to a core type and cache size, plus extra.
func peerEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "OPENBLAS_CORETYPE=") || strings.HasPrefix(kv, "OPENBLAS_L2_SIZE=") ||
			strings.HasPrefix(kv, "LD_PRELOAD=") || strings.HasPrefix(kv, "OPENBLAS_NUM_THREADS=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// torchInvocation is the exact command of one PyTorch peer run, as printed in the table.
func (p *peers) torchInvocation(filters string) string {
	return fmt.Sprintf("LD_PRELOAD=%s env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE %s %s %s %d %d",
		p.tcmalloc, p.python, repoPath("torch_compact_bench.py"), filters, peerBatch, p.threads)
}

func (p *peers) sgemmInvocation() string {
	return fmt.Sprintf("env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=%d %s %s 1024",
		p.threads, p.python, repoPath("numpy_sgemm.py"))
}

// runTorch runs the PyTorch peer count times on one configuration.
func (p *peers) runTorch(filters string, count int) {
	if p.torchMissing != "" {
		return
	}
	for i := 0; i < count; i++ {
		p.logf("peer: %s", p.torchInvocation(filters))
		cmd := exec.Command(p.python, scriptPath(p.dir, "torch_compact_bench.py"), filters, fmt.Sprint(peerBatch), fmt.Sprint(p.threads))
		cmd.Env = peerEnv("LD_PRELOAD=" + p.tcmalloc)
		var r torchResult
		if err := runJSON(cmd, &r); err != nil {
			p.torchErr[filters] = err.Error()
			return
		}
		p.torch[filters] = append(p.torch[filters], r)
	}
}

// runSgemm runs numpy's SGEMM count times at 1024³.
func (p *peers) runSgemm(count int) {
	if p.numpyMissing != "" {
		return
	}
	for i := 0; i < count; i++ {
		p.logf("peer: %s", p.sgemmInvocation())
		cmd := exec.Command(p.python, scriptPath(p.dir, "numpy_sgemm.py"), "1024")
		cmd.Env = peerEnv(fmt.Sprintf("OPENBLAS_NUM_THREADS=%d", p.threads))
		var r sgemmResult
		if err := runJSON(cmd, &r); err != nil {
			p.sgemmErr = err.Error()
			return
		}
		p.sgemm = append(p.sgemm, r)
	}
}

// runJSON runs cmd and decodes the last line of its standard output into v.
func runJSON(cmd *exec.Cmd, v any) error {
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return fmt.Errorf("%s: %w: %s", cmd.Args[1], err, strings.TrimSpace(string(ee.Stderr)))
		}
		return fmt.Errorf("%s: %w", cmd.Args[1], err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), v); err != nil {
		return fmt.Errorf("%s: output %q: %w", cmd.Args[1], lines[len(lines)-1], err)
	}
	return nil
}
