package autograd_test

// Tests of the decoder primitives, ConvTranspose2d and Upsample: finite
// differences, the adjoint identity with Conv2d, option errors and a steady
// state without allocation. PyTorch golden values are checked in package nn.

import (
	"fmt"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/autograd/autogradtest"
	"github.com/kiln-ml/kiln/tensor"
)

func TestDecoderGradients(t *testing.T) {
	ct := func(o autograd.ConvTranspose2dOptions, bias bool) autogradtest.Func {
		return func(g *T, x []*V) *V {
			var b *V
			if bias {
				b = x[2]
			}
			return g.ConvTranspose2d(x[0], x[1], b, o)
		}
	}
	up := func(o autograd.UpsampleOptions) autogradtest.Func {
		return func(g *T, x []*V) *V { return g.Upsample(x[0], o) }
	}
	type opts = autograd.ConvTranspose2dOptions
	type uopts = autograd.UpsampleOptions
	cases := []struct {
		name string
		f    autogradtest.Func
		in   []*tensor.Tensor
	}{
		{"convt/plain", ct(opts{}, true), []*tensor.Tensor{rnd(1, 2, 3, 4, 3), rnd(2, 3, 2, 3, 3), rnd(3, 2)}},
		{"convt/stride2-pad1-outpad1", ct(opts{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}, OutputPadding: [2]int{1, 1}}, true),
			[]*tensor.Tensor{rnd(1, 2, 2, 3, 4), rnd(2, 2, 3, 3, 3), rnd(3, 3)}},
		{"convt/asym-stride-outpad", ct(opts{Stride: [2]int{3, 2}, Padding: [2]int{0, 1}, OutputPadding: [2]int{2, 0}}, false),
			[]*tensor.Tensor{rnd(1, 1, 2, 3, 3), rnd(2, 2, 2, 2, 3)}},
		{"convt/dilation", ct(opts{Dilation: [2]int{2, 1}, Padding: [2]int{1, 0}}, true), []*tensor.Tensor{rnd(1, 2, 2, 4, 3), rnd(2, 2, 3, 3, 2), rnd(3, 3)}},
		{"convt/groups", ct(opts{Groups: 2, Stride: [2]int{2, 2}}, true), []*tensor.Tensor{rnd(1, 2, 4, 3, 3), rnd(2, 4, 3, 2, 2), rnd(3, 6)}},
		{"convt/1x1", ct(opts{}, true), []*tensor.Tensor{rnd(1, 2, 3, 3, 4), rnd(2, 3, 2, 1, 1), rnd(3, 2)}},
		{"upsample/nearest-x2", up(uopts{Scale: [2]float64{2, 2}}), []*tensor.Tensor{rnd(1, 2, 2, 3, 3)}},
		{"upsample/nearest-size", up(uopts{Size: [2]int{5, 7}}), []*tensor.Tensor{rnd(1, 1, 2, 3, 4)}},
		{"upsample/nearest-frac", up(uopts{Scale: [2]float64{1.5, 0.5}}), []*tensor.Tensor{rnd(1, 2, 1, 4, 6)}},
		{"upsample/bilinear-x2", up(uopts{Mode: autograd.UpsampleBilinear, Scale: [2]float64{2, 2}}), []*tensor.Tensor{rnd(1, 2, 2, 3, 4)}},
		{"upsample/bilinear-size", up(uopts{Mode: autograd.UpsampleBilinear, Size: [2]int{7, 3}}), []*tensor.Tensor{rnd(1, 1, 2, 4, 5)}},
		{"upsample/bilinear-align", up(uopts{Mode: autograd.UpsampleBilinear, Size: [2]int{5, 6}, AlignCorners: true}), []*tensor.Tensor{rnd(1, 1, 2, 3, 4)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			autogradtest.Check(t, c.f, c.in, autogradtest.Options{})
		})
	}
}

// TestConvTransposeIsAdjoint checks <conv2d(y, w), x> = <y, conv_transpose2d(x, w)>
// for matching options: the defining property, independent of the golden
// files.
func TestConvTransposeIsAdjoint(t *testing.T) {
	for i, o := range []autograd.ConvTranspose2dOptions{
		{},
		{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}, OutputPadding: [2]int{1, 1}},
		{Stride: [2]int{2, 3}, Dilation: [2]int{2, 1}, Groups: 2},
	} {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			g := autograd.NewTape()
			g.SetGradEnabled(false)
			groups := max(o.Groups, 1)
			x := g.Const(rnd(uint64(10+i), 2, 4, 3, 4))
			w := g.Const(rnd(uint64(20+i), 4, 6/groups, 3, 2))
			yt := g.ConvTranspose2d(x, w, nil, o)
			y := g.Const(rnd(uint64(30+i), yt.Shape()...))
			cy := g.Conv2d(y, w, nil, autograd.Conv2dOptions{Stride: o.Stride, Padding: o.Padding, Dilation: o.Dilation, Groups: o.Groups})
			if !tensor.SameShape(cy.Value(), x.Value()) {
				t.Fatalf("conv2d of the output has shape %v, want %v", cy.Shape(), x.Shape())
			}
			lhs, rhs := dot(cy.Data(), x.Data()), dot(y.Data(), yt.Data())
			if d := lhs - rhs; d > 1e-4*abs(lhs)+1e-4 || -d > 1e-4*abs(lhs)+1e-4 {
				t.Errorf("<conv(y), x> = %g, <y, convT(x)> = %g", lhs, rhs)
			}
		})
	}
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func abs(v float64) float64 { return max(v, -v) }

func TestDecoderShapesAndErrors(t *testing.T) {
	g := autograd.NewTape()
	x := g.Const(tensor.New(2, 4, 5, 6))
	y := g.ConvTranspose2d(x, g.Const(tensor.New(4, 3, 3, 3)), g.Const(tensor.New(3)),
		autograd.ConvTranspose2dOptions{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}, OutputPadding: [2]int{1, 0}})
	if want := []int{2, 3, 10, 11}; !tensor.SameShape(y.Value(), tensor.New(want...)) {
		t.Errorf("conv_transpose2d shape %v, want %v", y.Shape(), want)
	}
	u := g.Upsample(x, autograd.UpsampleOptions{Scale: [2]float64{1.5, 2.5}})
	if want := []int{2, 4, 7, 15}; !tensor.SameShape(u.Value(), tensor.New(want...)) {
		t.Errorf("upsample shape %v, want %v", u.Shape(), want)
	}
	panics := []struct {
		name string
		f    func()
	}{
		{"outpad>=stride", func() {
			g.ConvTranspose2d(x, g.Const(tensor.New(4, 3, 3, 3)), nil, autograd.ConvTranspose2dOptions{Stride: [2]int{2, 2}, OutputPadding: [2]int{2, 0}})
		}},
		{"weight in-channels", func() { g.ConvTranspose2d(x, g.Const(tensor.New(3, 3, 3, 3)), nil, autograd.ConvTranspose2dOptions{}) }},
		{"bias size", func() {
			g.ConvTranspose2d(x, g.Const(tensor.New(4, 3, 3, 3)), g.Const(tensor.New(4)), autograd.ConvTranspose2dOptions{})
		}},
		{"padding eats output", func() {
			g.ConvTranspose2d(x, g.Const(tensor.New(4, 3, 1, 1)), nil, autograd.ConvTranspose2dOptions{Padding: [2]int{3, 3}})
		}},
		{"upsample size and scale", func() {
			g.Upsample(x, autograd.UpsampleOptions{Size: [2]int{4, 4}, Scale: [2]float64{2, 2}})
		}},
		{"upsample neither", func() { g.Upsample(x, autograd.UpsampleOptions{}) }},
		{"upsample nearest align", func() {
			g.Upsample(x, autograd.UpsampleOptions{Scale: [2]float64{2, 2}, AlignCorners: true})
		}},
		{"upsample 3-D", func() { g.Upsample(g.Const(tensor.New(2, 3, 4)), autograd.UpsampleOptions{Scale: [2]float64{2, 2}}) }},
	}
	for _, c := range panics {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			c.f()
		})
	}
}

// TestNearestUpsampleValues pins nearest x2 to its definition: every output
// pixel copies input pixel (i/2, j/2).
func TestNearestUpsampleValues(t *testing.T) {
	g := autograd.NewTape()
	x := g.Const(tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 1, 1, 2, 3))
	y := g.Upsample(x, autograd.UpsampleOptions{Scale: [2]float64{2, 2}})
	want := []float32{1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 4, 4, 5, 5, 6, 6}
	for i, v := range y.Data() {
		if v != want[i] {
			t.Fatalf("y = %v, want %v", y.Data(), want)
		}
	}
}

// TestDecoderSteadyStateAllocs: a repeated step through both ops allocates
// nothing once the tape has warmed up.
func TestDecoderSteadyStateAllocs(t *testing.T) {
	if unsupRace {
		t.Skip("the race detector makes sync.Pool drop objects, so pooled buffers allocate")
	}
	x := autograd.NewVar(rnd(1, 2, 4, 4, 4), true)
	w := autograd.NewVar(rnd(2, 4, 3, 3, 3), true)
	b := autograd.NewVar(rnd(3, 3), true)
	g := autograd.NewTape()
	step := func() {
		g.Reset()
		y := g.ConvTranspose2d(x, w, b, autograd.ConvTranspose2dOptions{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}, OutputPadding: [2]int{1, 1}})
		y = g.Upsample(y, autograd.UpsampleOptions{Mode: autograd.UpsampleBilinear, Scale: [2]float64{2, 2}})
		y = g.Upsample(y, autograd.UpsampleOptions{Size: [2]int{9, 9}})
		g.Backward(g.SumAll(y))
	}
	step()
	if n := testing.AllocsPerRun(5, step); n != 0 {
		t.Errorf("steady-state step allocates %v times", n)
	}
}

// BenchmarkDecoderStage is one decoder stage of a small autoencoder on a
// batch of 32: a stride-2 transposed convolution from 32 channels at 8x8 to
// 16 at 16x16, forward and backward.
func BenchmarkDecoderStage(b *testing.B) {
	x := autograd.NewVar(rnd(1, 32, 32, 8, 8), true)
	w := autograd.NewVar(rnd(2, 32, 16, 3, 3), true)
	bias := autograd.NewVar(rnd(3, 16), true)
	g := autograd.NewTape()
	o := autograd.ConvTranspose2dOptions{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}, OutputPadding: [2]int{1, 1}}
	for b.Loop() {
		g.Reset()
		g.Backward(g.SumAll(g.ConvTranspose2d(x, w, bias, o)))
	}
}

// BenchmarkUpsampleBilinear resizes a batch of 32 x 16 channels from 16x16
// to 32x32, forward and backward.
func BenchmarkUpsampleBilinear(b *testing.B) {
	x := autograd.NewVar(rnd(1, 32, 16, 16, 16), true)
	g := autograd.NewTape()
	for b.Loop() {
		g.Reset()
		g.Backward(g.SumAll(g.Upsample(x, autograd.UpsampleOptions{Mode: autograd.UpsampleBilinear, Scale: [2]float64{2, 2}})))
	}
}
