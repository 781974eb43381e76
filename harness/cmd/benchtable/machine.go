package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// machine describes the CPU the table was measured on.
type machine struct {
	model                 string // /proc/cpuinfo "model name"
	family, cpuModel      int    // "cpu family", "model"
	vendor                string
	avx512                bool
	cores                 int
	loadBefore, loadAfter string
}

func readMachine() machine {
	m := machine{cores: runtime.NumCPU(), family: -1, cpuModel: -1}
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		m.model = runtime.GOARCH + " (no /proc/cpuinfo)"
		return m
	}
	return parseCPUInfo(string(b), m)
}

// parseCPUInfo fills m from the first processor of /proc/cpuinfo.
func parseCPUInfo(info string, m machine) machine {
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			if strings.TrimSpace(line) == "" && m.model != "" {
				break // end of the first processor
			}
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "model name":
			m.model = v
		case "vendor_id":
			m.vendor = v
		case "cpu family":
			m.family, _ = strconv.Atoi(v)
		case "model":
			m.cpuModel, _ = strconv.Atoi(v)
		case "flags":
			m.avx512 = strings.Contains(" "+v+" ", " avx512f ")
		}
	}
	return m
}

// microarch names AMD's core generation from the family and model numbers (AMD's processor
// programming references), or "" when it is not one of these.
func (m machine) microarch() string {
	if m.vendor != "AuthenticAMD" {
		return ""
	}
	switch {
	case m.family == 23 && m.cpuModel < 0x30:
		return "Zen, Zen+"
	case m.family == 23:
		return "Zen 2"
	case m.family == 25 && (m.cpuModel < 0x10 || (m.cpuModel >= 0x20 && m.cpuModel < 0x60)):
		return "Zen 3"
	case m.family == 25:
		return "Zen 4"
	case m.family == 26:
		return "Zen 5"
	}
	return ""
}

func (m machine) describe() string {
	s := m.model
	if m.family >= 0 {
		s += fmt.Sprintf(" (family %d, model %d", m.family, m.cpuModel)
		if a := m.microarch(); a != "" {
			s += ": " + a
		}
		s += ")"
	}
	s += fmt.Sprintf(", %d cores", m.cores)
	if m.avx512 {
		s += ", AVX-512F"
	}
	return s
}

// loadAverage is the 1-, 5- and 15-minute load average.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
