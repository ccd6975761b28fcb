//go:build convmaterialised

package conv

// Built with -tags convmaterialised, the convolutions write their column
// matrices before every GEMM, as before the implicit GEMM: for measuring
// the two side by side (docs/PERFORMANCE.md).
func init() { implicitGEMM = implicitNever }
