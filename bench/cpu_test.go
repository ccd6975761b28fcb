package bench

import "testing"

func TestMicroarch(t *testing.T) {
	for _, tc := range []struct {
		id   CPUID
		want string
	}{
		{CPUID{"AuthenticAMD", 25, 17}, "AMD Zen 4 (family 25, model 17)"},
		{CPUID{"AuthenticAMD", 25, 1}, "AMD Zen 3 (family 25, model 1)"},
		{CPUID{"AuthenticAMD", 25, 0x61}, "AMD Zen 4 (family 25, model 97)"},
		{CPUID{"AuthenticAMD", 26, 2}, "AMD Zen 5 (family 26, model 2)"},
		{CPUID{"GenuineIntel", 6, 143}, "GenuineIntel family 6, model 143"},
		{CPUID{}, "unknown microarchitecture"},
	} {
		if got := Microarch(tc.id); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.id, got, tc.want)
		}
	}
}

func TestFMAWidth(t *testing.T) {
	for _, tc := range []struct {
		zmm, ymm float64
		want     int
	}{{226, 113, 512}, {118, 116, 256}, {0, 100, 256}, {0, 0, 0}} {
		if got := FMAWidth(tc.zmm, tc.ymm); got != tc.want {
			t.Errorf("zmm %g, ymm %g: %d bits, want %d", tc.zmm, tc.ymm, got, tc.want)
		}
	}
}
