//go:build !linux

package bench

func cpuName() string { return "unknown CPU" }
