package autograd

import (
	"math"

	"github.com/kiln-ml/kiln/tensor"
)

// The gate arithmetic of Tape.Recurrent's cells, one time step at a time,
// forward and backward side by side. Each function works on the rows of a
// (B, ...) step, skips batch elements past their length (their state stays
// and their gate gradients are zero) and leaves the GEMMs and the output
// sequence to recurrent.go. Activations use float64 math rounded to float32, like the
// elementwise ops in package tensor.

func sigmoid(v float32) float32 { return tensor.SigmoidScalar(v) }

func tanh32(v float32) float32 { return float32(math.Tanh(float64(v))) }

// rnnStep applies the activation to the pre-activations a (B, H) in place
// and sets the state h of step t.
func (s *recurrentState) rnnStep(cell Cell, t int, a, h []float32) {
	H := s.H
	for b := range s.B {
		ar, hr := a[b*H:(b+1)*H], h[b*H:(b+1)*H]
		if !s.active(t, b) {
			clear(ar)
			continue
		}
		for j, v := range ar {
			if cell == CellTanh {
				v = tanh32(v)
			} else if v < 0 {
				v = 0
			}
			ar[j], hr[j] = v, v
		}
	}
}

// rnnBack sets the pre-activation gradient dp (B, H) of step t from the
// gradient dh of its output state.
func (s *recurrentState) rnnBack(t int, dh, dp []float32) {
	H := s.H
	act := s.act[t*s.B*H : (t+1)*s.B*H]
	for b := range s.B {
		dr := dp[b*H : (b+1)*H]
		if !s.active(t, b) {
			clear(dr)
			continue
		}
		y, d := act[b*H:(b+1)*H], dh[b*H:(b+1)*H]
		for j := range dr {
			switch {
			case s.cell == CellTanh:
				dr[j] = d[j] * (1 - y[j]*y[j])
			case y[j] > 0:
				dr[j] = d[j]
			default:
				dr[j] = 0
			}
		}
	}
}

// lstmStep turns the pre-activations a (B, 4H) into the gates i, f, g, o in
// place and advances the states h and c.
func (s *recurrentState) lstmStep(t int, a, h, c []float32) {
	H := s.H
	for b := range s.B {
		ar := a[b*4*H : (b+1)*4*H]
		if !s.active(t, b) {
			clear(ar)
			continue
		}
		hr, cr := h[b*H:(b+1)*H], c[b*H:(b+1)*H]
		for j := range H {
			i, f := sigmoid(ar[j]), sigmoid(ar[H+j])
			gg, og := tanh32(ar[2*H+j]), sigmoid(ar[3*H+j])
			ar[j], ar[H+j], ar[2*H+j], ar[3*H+j] = i, f, gg, og
			cr[j] = f*cr[j] + i*gg
			hr[j] = og * tanh32(cr[j])
		}
	}
}

// lstmBack sets the pre-activation gradient dp (B, 4H) of step t from the
// gradients dh and dc of the states leaving it, and replaces dc with the
// gradient of the cell state entering it (the hidden-state part comes from
// the GEMM with W_hh).
func (s *recurrentState) lstmBack(t int, dh, dc, dp []float32) {
	H, B := s.H, s.B
	act := s.act[t*B*4*H : (t+1)*B*4*H]
	cprev := s.cprev[t*B*H : (t+1)*B*H]
	for b := range B {
		dr := dp[b*4*H : (b+1)*4*H]
		if !s.active(t, b) {
			clear(dr)
			continue
		}
		ar, cp := act[b*4*H:(b+1)*4*H], cprev[b*H:(b+1)*H]
		dhr, dcr := dh[b*H:(b+1)*H], dc[b*H:(b+1)*H]
		for j := range H {
			i, f, gg, og := ar[j], ar[H+j], ar[2*H+j], ar[3*H+j]
			tc := tanh32(f*cp[j] + i*gg)
			dct := dcr[j] + dhr[j]*og*(1-tc*tc)
			dr[j] = dct * gg * i * (1 - i)
			dr[H+j] = dct * cp[j] * f * (1 - f)
			dr[2*H+j] = dct * i * (1 - gg*gg)
			dr[3*H+j] = dhr[j] * tc * og * (1 - og)
			dcr[j] = dct * f
		}
	}
}

// gruStep computes the gates r, z, n of step t from the input projection,
// which a (B, 3H) holds on entry, and the hidden side hh = W_hh h + b_hh
// (B, 3H); it replaces a with the gates, saves hh's n block and advances h.
func (s *recurrentState) gruStep(t int, hh, a, h []float32) {
	H := s.H
	hnl := s.hnl[t*s.B*H : (t+1)*s.B*H]
	for b := range s.B {
		ar := a[b*3*H : (b+1)*3*H]
		if !s.active(t, b) {
			clear(ar)
			continue
		}
		qr, hr, nl := hh[b*3*H:(b+1)*3*H], h[b*H:(b+1)*H], hnl[b*H:(b+1)*H]
		for j := range H {
			r := sigmoid(ar[j] + qr[j])
			z := sigmoid(ar[H+j] + qr[H+j])
			nl[j] = qr[2*H+j]
			n := tanh32(ar[2*H+j] + r*nl[j])
			ar[j], ar[H+j], ar[2*H+j] = r, z, n
			hr[j] = (1-z)*n + z*hr[j]
		}
	}
}

// gruBack sets the gradients of step t's input-side (dp) and hidden-side
// (dq) pre-activations, both (B, 3H), from the gradient dh of the state
// leaving it, and the direct part dh*z of the gradient of the state
// entering it in dhp; the GEMM with W_hh adds the rest.
func (s *recurrentState) gruBack(t int, dh, dp, dq, dhp []float32) {
	H, B := s.H, s.B
	act := s.act[t*B*3*H : (t+1)*B*3*H]
	hprev := s.hprev[t*B*H : (t+1)*B*H]
	hnl := s.hnl[t*B*H : (t+1)*B*H]
	for b := range B {
		dpr, dqr := dp[b*3*H:(b+1)*3*H], dq[b*3*H:(b+1)*3*H]
		if !s.active(t, b) {
			clear(dpr)
			clear(dqr)
			continue
		}
		ar, hp, nl := act[b*3*H:(b+1)*3*H], hprev[b*H:(b+1)*H], hnl[b*H:(b+1)*H]
		dhr, dhpr := dh[b*H:(b+1)*H], dhp[b*H:(b+1)*H]
		for j := range H {
			r, z, n := ar[j], ar[H+j], ar[2*H+j]
			d := dhr[j]
			dan := d * (1 - z) * (1 - n*n)
			dar := dan * nl[j] * r * (1 - r)
			daz := d * (hp[j] - n) * z * (1 - z)
			dpr[j], dpr[H+j], dpr[2*H+j] = dar, daz, dan
			dqr[j], dqr[H+j], dqr[2*H+j] = dar, daz, dan*r
			dhpr[j] = d * z
		}
	}
}
