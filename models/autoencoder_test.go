package models_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/data/synth"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/tensor"
)

func aeRng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0)) }

func TestAutoencoderShapes(t *testing.T) {
	cases := []struct {
		s   models.Shape
		cfg models.AutoencoderConfig
	}{
		{models.Shape{Channels: 1, Height: 16, Width: 16}, models.AutoencoderConfig{}},
		{models.Shape{Channels: 3, Height: 13, Width: 10}, models.AutoencoderConfig{Widths: []int{4, 6, 8}, Latent: 5}},
		{models.Shape{Channels: 2, Height: 1, Width: 7}, models.AutoencoderConfig{Widths: []int{3}, Latent: 2, Noise: models.GaussianNoise}},
	}
	for _, c := range cases {
		m, err := models.NewConvAutoencoder(c.s, c.cfg, aeRng(1))
		if err != nil {
			t.Fatal(err)
		}
		g := autograd.NewTape()
		x := g.Const(tensor.New(3, c.s.Channels, c.s.Height, c.s.Width).Uniform(aeRng(2), 0, 1))
		y := m.Forward(g, x)
		if !tensor.SameShape(y.Value(), x.Value()) {
			t.Errorf("%+v: reconstruction %v, input %v", c.s, y.Shape(), x.Shape())
		}
		for _, v := range y.Data() {
			if !(v > 0 && v < 1) {
				t.Fatalf("%+v: reconstruction value %g outside (0, 1)", c.s, v)
			}
		}
		if z := m.Encode(g, x); !z.Value().ShapeIs(3, m.Latent()) {
			t.Errorf("%+v: features %v, want [3 %d]", c.s, z.Shape(), m.Latent())
		}
	}
}

// TestAutoencoderParamNames pins the state_dict names to those of the
// equivalent PyTorch module (two nn.Sequential children).
func TestAutoencoderParamNames(t *testing.T) {
	m, err := models.NewAutoencoder("conv-ae", models.Shape{Channels: 1, Height: 8, Width: 8}, aeRng(1))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range nn.NamedParams(m) {
		names = append(names, p.Name+fmtShape(p.Var.Shape()))
	}
	want := []string{
		"encoder.0.weight[16 1 3 3]", "encoder.0.bias[16]", "encoder.2.weight[32 16 3 3]", "encoder.2.bias[32]",
		"encoder.5.weight[32 128]", "encoder.5.bias[32]",
		"decoder.0.weight[128 32]", "decoder.0.bias[128]", "decoder.3.weight[32 16 3 3]", "decoder.3.bias[16]",
		"decoder.5.weight[16 1 3 3]", "decoder.5.bias[1]",
	}
	if !slices.Equal(names, want) {
		t.Errorf("params\n%v\nwant\n%v", names, want)
	}
}

func fmtShape(s []int) string {
	out := "["
	for i, d := range s {
		if i > 0 {
			out += " "
		}
		out += itoa(d)
	}
	return out + "]"
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func TestAutoencoderErrors(t *testing.T) {
	s := models.Shape{Channels: 1, Height: 8, Width: 8}
	for name, c := range map[string]struct {
		s   models.Shape
		cfg models.AutoencoderConfig
	}{
		"no channels": {models.Shape{Height: 8, Width: 8}, models.AutoencoderConfig{}},
		"empty width": {s, models.AutoencoderConfig{Widths: []int{}}},
		"zero width":  {s, models.AutoencoderConfig{Widths: []int{4, 0}}},
		"mask >= 1":   {s, models.AutoencoderConfig{Noise: models.MaskNoise, NoiseLevel: 1}},
		"noise kind":  {s, models.AutoencoderConfig{Noise: 7}},
	} {
		if _, err := models.NewConvAutoencoder(c.s, c.cfg, aeRng(1)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := models.NewAutoencoder("nope", s, aeRng(1)); err == nil {
		t.Error("unknown name: no error")
	}
	if got := models.AutoencoderNames(); !slices.Equal(got, []string{"conv-ae", "conv-dae"}) {
		t.Errorf("AutoencoderNames() = %v", got)
	}
}

// TestDenoisingNoise: corruption happens in training mode only, at the
// configured rate, and the loss compares with the clean input.
func TestDenoisingNoise(t *testing.T) {
	s := models.Shape{Channels: 1, Height: 12, Width: 12}
	m, err := models.NewConvAutoencoder(s, models.AutoencoderConfig{Noise: models.MaskNoise, NoiseLevel: 0.25}, aeRng(3))
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(4, 1, 12, 12).Uniform(aeRng(4), 0.5, 1)
	g := autograd.NewTape()
	a := m.Forward(g, g.Const(x)).Value().Clone()
	b := m.Forward(g, g.Const(x)).Value().Clone()
	if slices.Equal(a.Data(), b.Data()) {
		t.Error("training mode: two forward passes agree; no noise was drawn")
	}
	loss, recon := m.Loss(g, x)
	var mse float64
	for i, v := range recon.Data() {
		d := float64(v - x.Data()[i])
		mse += d * d
	}
	mse /= float64(x.Len())
	if math.Abs(mse-float64(loss.Item())) > 1e-6 {
		t.Errorf("loss %g, but MSE against the clean input is %g", loss.Item(), mse)
	}

	// The masking rate: Corrupt zeroes about a quarter of an all-ones batch
	// and leaves the rest alone.
	ones := tensor.New(64, 1, 12, 12)
	ones.Fill(1)
	zeros := 0
	for _, v := range m.Corrupt(g, ones).Data() {
		switch v {
		case 0:
			zeros++
		case 1:
		default:
			t.Fatalf("masking noise wrote %g", v)
		}
	}
	if frac := float64(zeros) / float64(ones.Len()); math.Abs(frac-0.25) > 0.02 {
		t.Errorf("masking fraction %.3f, want about 0.25", frac)
	}

	// Gaussian noise: zero mean, the configured spread.
	m.Config.Noise = models.GaussianNoise
	var sum, sq float64
	zero := tensor.New(64, 1, 12, 12)
	for _, v := range m.Corrupt(g, zero).Data() {
		sum += float64(v)
		sq += float64(v) * float64(v)
	}
	n := float64(zero.Len())
	if mean, std := sum/n, math.Sqrt(sq/n); math.Abs(mean) > 0.02 || math.Abs(std-0.25) > 0.02 {
		t.Errorf("gaussian noise mean %.3f std %.3f, want 0 and 0.25", mean, std)
	}
	m.Config.Noise = models.MaskNoise

	m.SetTraining(false)
	c := m.Forward(g, g.Const(x)).Value().Clone()
	d := m.Forward(g, g.Const(x)).Value().Clone()
	if !slices.Equal(c.Data(), d.Data()) {
		t.Error("evaluation mode: forward passes differ")
	}
	m.NoiseRNG = rand.New(rand.NewPCG(1, 1))
	m.Config.Noise = models.NoNoise
	m.SetTraining(true)
	e := m.Forward(g, g.Const(x)).Value().Clone()
	if !slices.Equal(c.Data(), e.Data()) {
		t.Error("evaluation output differs from the uncorrupted training output")
	}
}

// TestAutoencoderLearnsShapes trains both variants briefly on generated
// pattern images and requires the held-out reconstruction error to fall
// well below that of predicting the mean training image.
func TestAutoencoderLearnsShapes(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for seconds; -short runs the golden and gradient tests only")
	}
	for _, name := range []string{"conv-ae", "conv-dae"} {
		t.Run(name, func(t *testing.T) {
			train, test := synth.New(384, 1, 16, 16, 11), synth.New(96, 1, 16, 16, 12)
			m, err := models.NewAutoencoder(name, models.Shape{Channels: 1, Height: 16, Width: 16}, aeRng(5))
			if err != nil {
				t.Fatal(err)
			}
			ps := m.ParamSet()
			opt := optim.NewAdam(ps.Data, ps.Grad, optim.AdamConfig{LR: 3e-3})
			l, err := data.NewLoader(train, data.LoaderOptions{BatchSize: 32, Shuffle: true, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			mean := make([]float32, 16*16)
			g := autograd.NewTape()
			for epoch := range 30 {
				it, err := l.Epoch(context.Background(), epoch, 0)
				if err != nil {
					t.Fatal(err)
				}
				for it.Next() {
					b := it.Batch()
					if epoch == 0 {
						for i, v := range b.X {
							mean[i%len(mean)] += v / float32(train.Len())
						}
					}
					g.Reset()
					ps.ZeroGrad()
					loss, _ := m.Loss(g, tensor.FromSlice(b.X, b.Shape...))
					g.Backward(loss)
					opt.Step()
				}
				if err := it.Err(); err != nil {
					t.Fatal(err)
				}
				it.Close()
			}
			m.SetTraining(false)
			x := tensor.New(test.Len(), 1, 16, 16)
			for i := range test.Len() {
				if _, err := test.Get(i, x.Data()[i*256:(i+1)*256], nil); err != nil {
					t.Fatal(err)
				}
			}
			g.Reset()
			g.SetGradEnabled(false)
			y := m.Forward(g, g.Const(x))
			var mse, base float64
			for i, v := range x.Data() {
				d, e := float64(y.Data()[i]-v), float64(mean[i%256]-v)
				mse += d * d
				base += e * e
			}
			mse, base = mse/float64(x.Len()), base/float64(x.Len())
			t.Logf("held-out MSE %.4f, mean-image baseline %.4f", mse, base)
			if mse > 0.35*base {
				t.Errorf("held-out MSE %.4f, want below 0.35 times the mean-image baseline %.4f", mse, base)
			}
		})
	}
}

// TestAutoencoderBCELoss: with Loss BCE the loss is the binary cross
// entropy of the returned reconstructions against the input.
func TestAutoencoderBCELoss(t *testing.T) {
	m, err := models.NewConvAutoencoder(models.Shape{Channels: 2, Height: 6, Width: 5}, models.AutoencoderConfig{Loss: models.BCE, Widths: []int{4}}, aeRng(8))
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(3, 2, 6, 5).Uniform(aeRng(9), 0, 1)
	g := autograd.NewTape()
	loss, recon := m.Loss(g, x)
	var want float64
	for i, r := range recon.Data() {
		p, y := float64(r), float64(x.Data()[i])
		want -= y*math.Log(p) + (1-y)*math.Log(1-p)
	}
	want /= float64(x.Len())
	if got := float64(loss.Item()); math.Abs(got-want) > 1e-5*want {
		t.Errorf("BCE loss %g, want %g", got, want)
	}
	g.Backward(loss)
	var norm float64
	for _, v := range m.ParamSet().Grad {
		norm += float64(v) * float64(v)
	}
	if !(norm > 0) {
		t.Error("no gradient reached the parameters")
	}
}
