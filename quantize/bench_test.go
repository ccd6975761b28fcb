package quantize

import (
	"testing"
)

// BenchmarkForward times the forward pass at batch 256 of the seed CNN
// and ResNet-8 (1x28x28 inputs) in float32 (the engine's kernels) and
// int8, side by side: the ratio of the two is the int8 speed-up on this
// machine.
func BenchmarkForward(b *testing.B) {
	const n = 256
	x := inputs(n, 9)
	for _, arch := range []string{"seed-cnn", "resnet8"} {
		m := zoo(b, arch)
		q, err := Quantize(m, []int{1, 28, 28}, x[:64*28*28], 64)
		if err != nil {
			b.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			run  func()
		}{
			{"float32", func() { forward(m, x, n) }},
			{"int8", func() { forward(q, x, n) }},
		} {
			b.Run(arch+"/"+tc.name, func(b *testing.B) {
				for b.Loop() {
					tc.run()
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "images/s")
			})
		}
	}
}
