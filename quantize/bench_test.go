package quantize

import (
	"testing"
)

// BenchmarkForward times the seed CNN's forward pass at batch 256 in
// float32 (the engine's kernels) and int8, side by side: the ratio of the
// two is the int8 speed-up on this machine.
func BenchmarkForward(b *testing.B) {
	const n = 256
	m := zoo(b, "seed-cnn")
	x := inputs(n, 9)
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
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				tc.run()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
