package transform

// This file holds the float stage: ToTensor and Normalize. It leaves out
// transforms that work on float tensors (RandomErasing and the like).

import (
	"fmt"
	"strings"
)

// ToTensor writes m into x as float32 CHW scaled to [0, 1] (byte/255 in
// single precision, exactly as torchvision's ToTensor). x must hold
// exactly C*H*W values.
func ToTensor(m *Image, x []float32) {
	n := m.W * m.H
	if len(x) != n*m.C {
		panic(fmt.Sprintf("transform: ToTensor of %dx%dx%d into %d floats", m.W, m.H, m.C, len(x)))
	}
	if m.C == 1 {
		for i, v := range m.Pix[:n] {
			x[i] = float32(v) / 255
		}
		return
	}
	if m.C == 3 {
		r, g, b := x[:n], x[n:2*n], x[2*n:3*n]
		p := m.Pix[:3*n]
		for i := range r {
			r[i] = float32(p[3*i]) / 255
			g[i] = float32(p[3*i+1]) / 255
			b[i] = float32(p[3*i+2]) / 255
		}
		return
	}
	for i := 0; i < n; i++ {
		for ch := 0; ch < m.C; ch++ {
			x[ch*n+i] = float32(m.Pix[i*m.C+ch]) / 255
		}
	}
}

// Normalize subtracts Mean and divides by Std per channel of a CHW tensor,
// as torchvision.transforms.Normalize. A single value applies to every
// channel.
type Normalize struct {
	Mean, Std []float32
}

// Check reports whether n fits c channels and has no zero std.
func (t Normalize) Check(c int) error {
	for _, v := range [][]float32{t.Mean, t.Std} {
		if len(v) != 1 && len(v) != c {
			return fmt.Errorf("transform: normalize has %d means and %d stds for %d channels", len(t.Mean), len(t.Std), c)
		}
	}
	for _, s := range t.Std {
		if s == 0 {
			return fmt.Errorf("transform: normalize std is zero")
		}
	}
	return nil
}

// Apply normalizes x, which holds c channels of equal size, in place.
func (t Normalize) Apply(x []float32, c int) {
	n := len(x) / c
	for ch := 0; ch < c; ch++ {
		m, s := t.Mean[min(ch, len(t.Mean)-1)], t.Std[min(ch, len(t.Std)-1)]
		for i, v := range x[ch*n : (ch+1)*n] {
			x[ch*n+i] = (v - m) / s
		}
	}
}

// String returns the spec form Parse accepts.
func (t Normalize) String() string {
	f := func(v []float32) string {
		s := make([]string, len(v))
		for i, x := range v {
			s[i] = fmt.Sprint(x)
		}
		return strings.Join(s, "/")
	}
	return "normalize=" + f(t.Mean) + ":" + f(t.Std)
}
