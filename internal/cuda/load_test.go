package cuda

import (
	"errors"
	"strings"
	"testing"
)

// TestLoadFailsCleanly runs the real loaders. On a machine without the
// NVIDIA driver (CI, this repository's build machine) each must return a
// *NotFoundError naming the library and the standard paths it tried, and
// must not panic; where a library is installed the test says so and skips
// that part.
func TestLoadFailsCleanly(t *testing.T) {
	for _, c := range []struct {
		name string
		load func() (*Library, error)
		want []string
	}{
		{"driver", func() (*Library, error) { l, _, err := loadDriver(); return l, err },
			[]string{"libcuda.so.1", "/usr/lib/x86_64-linux-gnu/libcuda.so.1", "/usr/lib/wsl/lib/libcuda.so.1"}},
		{"nvrtc", func() (*Library, error) { l, _, err := loadNVRTC(); return l, err },
			[]string{"libnvrtc.so", "/usr/local/cuda/lib64/libnvrtc.so.12"}},
		{"cublas", func() (*Library, error) { l, _, err := loadCublas(); return l, err },
			[]string{"libcublas.so", "/usr/local/cuda/lib64/libcublas.so.12"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			lib, err := c.load()
			if err == nil {
				t.Skipf("%s is installed here (%s): nothing to fail", c.name, lib.Path)
			}
			var nf *NotFoundError
			if !errors.As(err, &nf) {
				t.Fatalf("err = %v (%T), want *NotFoundError", err, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
		})
	}
}
