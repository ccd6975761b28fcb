package device

import "github.com/kiln-ml/kiln/internal/backend"

// NewOptimizer exposes newOptimizer to the external tests, which step a
// device optimizer on gradients PyTorch saw (optim_golden_test.go).
func NewOptimizer(s OptimizerSettings, b backend.Backend, p, g backend.Buffer) (*Optimizer, error) {
	return newOptimizer(s, b, p, g)
}
