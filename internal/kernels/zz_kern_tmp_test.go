package kernels

import (
	"fmt"
	"testing"
	"time"
)

func BenchmarkTmpKernel(b *testing.B) {
	for _, kn := range tmpKernels {
		for _, k := range []int{75, 256, 800} {
			for _, ldcMul := range []int{1} {
				b.Run(fmt.Sprintf("%s/k%d/ldc%d", kn.name, k, ldcMul), func(b *testing.B) {
					a := make([]float32, kn.mr*k)
					bb := make([]float32, kn.nr*k)
					ldc := kn.nr * ldcMul
					c := make([]float32, kn.mr*ldc)
					cpu0 := processCPUTime()
					for range b.N {
						kn.fn(k, &a[0], &bb[0], &c[0], kn.nr, ldc, 1, 0)
					}
					_ = time.Now
					reportFlops(b, float64(2*kn.mr*kn.nr*k*b.N), cpu0)
				})
			}
		}
	}
}

func BenchmarkTmpGemm(b *testing.B) {
	for _, kn := range tmpKernels {
		for _, s := range [][3]int{{512, 512, 512}, {32, 25088, 75}, {64, 3200, 800}, {800, 3200, 64}} {
			b.Run(fmt.Sprintf("%s/%dx%dx%d", kn.name, s[0], s[1], s[2]), func(b *testing.B) {
				benchGemm(b, kn, 1, false, s[0], s[1], s[2])
			})
		}
	}
}
