//go:build amd64 && !purego

package kernels

// vecImpls lists the vector kernels this CPU runs: the Go loops always, the
// AVX2 assembly when the CPU has it.
func vecImpls() []vecImpl {
	ims := []vecImpl{goVec}
	if hasAVX2 {
		ims = append(ims, vecImpl{"avx2", axpyAVX2, dotAVX2, scaleAVX2, sumAVX2})
	}
	return ims
}
