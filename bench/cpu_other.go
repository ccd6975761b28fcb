//go:build !linux

package bench

func cpuInfo() (string, CPUID) { return "unknown CPU", CPUID{} }
