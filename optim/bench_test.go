package optim

import "testing"

// BenchmarkAdamStep times one Adam update of the seed CNN's 285,546
// parameters.
func BenchmarkAdamStep(b *testing.B) {
	const n = 285546
	p, g := make([]float32, n), make([]float32, n)
	for i := range p {
		p[i], g[i] = float32(i%97)*0.01, float32(i%89-44)*0.001
	}
	a := NewAdam(p, g, AdamConfig{LR: 1e-3})
	for b.Loop() {
		a.Step()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds()/1e6, "Mparams/s")
}
