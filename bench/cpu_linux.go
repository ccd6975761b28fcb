//go:build linux

package bench

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// cpuInfo reads the first processor's model name, vendor, family and model.
func cpuInfo() (name string, id CPUID) {
	name = "unknown CPU"
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return name, id
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), ":")
		if !ok {
			if id.Vendor != "" {
				break // the end of the first processor
			}
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "model name":
			name = v
		case "vendor_id":
			id.Vendor = v
		case "cpu family":
			id.Family, _ = strconv.Atoi(v)
		case "model":
			id.Model, _ = strconv.Atoi(v)
		}
	}
	return name, id
}
