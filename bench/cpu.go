package bench

// This file names the CPU's microarchitecture from its vendor, family and
// model, as /proc/cpuinfo reports them, and the FMA width from measured
// peaks. It leaves out Intel's code names: Intel CPUs are named by family
// and model only.

import "fmt"

// CPUID is what the kernel says of the processor.
type CPUID struct {
	Vendor string // "AuthenticAMD", "GenuineIntel", ...
	Family int
	Model  int
}

// Microarch names the microarchitecture of id: AMD's Zen generations by
// family and model (family 25 is Zen 3 or Zen 4, family 26 Zen 5), and
// otherwise the vendor, family and model.
func Microarch(id CPUID) string {
	if id.Vendor == "AuthenticAMD" {
		switch m := id.Model; id.Family {
		case 23:
			return fmt.Sprintf("AMD Zen/Zen 2 (family 23, model %d)", m)
		case 25:
			zen := "Zen 3"
			if (m >= 0x10 && m <= 0x1f) || (m >= 0x60 && m <= 0x7f) || (m >= 0xa0 && m <= 0xaf) {
				zen = "Zen 4"
			}
			return fmt.Sprintf("AMD %s (family 25, model %d)", zen, m)
		case 26:
			return fmt.Sprintf("AMD Zen 5 (family 26, model %d)", m)
		}
	}
	if id.Vendor == "" {
		return "unknown microarchitecture"
	}
	return fmt.Sprintf("%s family %d, model %d", id.Vendor, id.Family, id.Model)
}

// FMAWidth is the width of the FMA units in bits, worked out from the
// measured 512-bit and 256-bit peaks: 512 where zmm FMAs run at about
// twice the ymm rate, 256 where they run at about the same rate (split
// into halves, as on Zen 4), and the ymm width where there is no zmm.
// It returns 0 without measurements.
func FMAWidth(zmm, ymm float64) int {
	switch {
	case ymm <= 0:
		return 0
	case zmm <= 0:
		return 256
	case zmm/ymm >= 1.5:
		return 512
	}
	return 256
}
