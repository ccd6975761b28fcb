package kernels

// This file is the direct convolution kernel's interface: a stride-1
// convolution read straight from the input, for the few-channel layers
// whose column matrices cost more than their GEMMs (internal/kernels/conv
// decides when). The kernel is AVX-512 only; elsewhere the GEMM path runs.

import "fmt"

// DirectConvChannels is how many output channels one DirectConv call
// computes at most.
const DirectConvChannels = 8

// DirectConvWidth is how many outputs of a row one DirectConv call
// computes at most.
const DirectConvWidth = 32

// DirectConvTaps reports how many taps (input channels times kernel
// positions) DirectConv takes at most, and 0 where it does not run. Up to
// that many, each output is one chain of FMAs over the taps, as in the
// GEMM's micro-kernel for one block of k, so a convolution computed either
// way gets the same bits.
func DirectConvTaps() int {
	if !directConvAvailable() {
		return 0
	}
	return activeKernel.kc
}

// DirectConv computes rows output rows of nch <= 8 output channels of a
// stride-1 convolution, width <= 32 outputs a row: output (i, r, j), at
// y[i*ldy+r*yrow+j], is the sum over the taps t in order of
// w[t*8+i]*x[offs[t]+r*xrow+j], one FMA chain from zero. w holds the
// weights tap-major, 8 channels a tap (rows i >= nch may hold anything).
// Then, as BiasEpilogue does it, bias[i] is added to channel i's outputs
// unless bias is nil, and with relu each becomes max(v, 0) (NaN stays
// NaN, -0 becomes +0). It panics where DirectConvTaps is 0 or a slice is
// too short.
func DirectConv(x []float32, offs []int32, w, y []float32, rows, xrow, yrow, ldy, nch, width int, bias []float32, relu bool) {
	k := len(offs)
	if k == 0 || rows <= 0 || nch <= 0 || width <= 0 {
		return
	}
	if k > DirectConvTaps() {
		panic(fmt.Sprintf("kernels: DirectConv of %d taps: this CPU takes %d", k, DirectConvTaps()))
	}
	if nch > DirectConvChannels || width > DirectConvWidth {
		panic(fmt.Sprintf("kernels: DirectConv: %d channels of %d outputs, want at most %d of %d",
			nch, width, DirectConvChannels, DirectConvWidth))
	}
	lo, hi := offs[0], offs[0]
	for _, o := range offs {
		lo, hi = min(lo, o), max(hi, o)
	}
	lastRow := (rows - 1) * xrow
	if lo < 0 || int(hi)+lastRow+width > len(x) || len(w) < k*DirectConvChannels ||
		(nch-1)*ldy+(rows-1)*yrow+width > len(y) {
		panic(fmt.Sprintf("kernels: DirectConv: %d rows of %d outputs (steps %d, %d), %d channels %d apart, "+
			"taps at %d..%d: slices of %d, %d and %d", rows, width, xrow, yrow, nch, ldy, lo, hi, len(x), len(w), len(y)))
	}
	if bias != nil && len(bias) < nch {
		panic(fmt.Sprintf("kernels: DirectConv: %d biases for %d channels", len(bias), nch))
	}
	var b [DirectConvChannels]float32
	var epilogue uint8
	if bias != nil {
		copy(b[:], bias[:nch])
		epilogue = 1
	}
	if relu {
		epilogue = 3 // the ReLU after a bias of +0 when there is none, as BiasEpilogue does
	}
	m0, m1 := laneMasks(width)
	directConv(&x[0], &offs[0], k, &w[0], &y[0], rows, xrow, yrow, ldy, nch, m0, m1, &b[0], epilogue)
}
