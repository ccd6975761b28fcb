package models

import (
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/tensor"
)

// Convolutional autoencoders, plain and denoising. This file leaves out
// variational autoencoders, batch norm in the encoder and decoder (small
// batches of similar images make its statistics noisy), skip connections
// (which would let reconstructions bypass the bottleneck) and training
// loops (package train owns those).

// Noise is the corruption a denoising autoencoder applies to its inputs.
type Noise int

// The corruptions: none (a plain autoencoder), additive Gaussian noise of
// standard deviation NoiseLevel, and masking noise that zeroes each input
// value independently with probability NoiseLevel (Vincent et al., 2008).
const (
	NoNoise Noise = iota
	GaussianNoise
	MaskNoise
)

// ReconLoss is the reconstruction loss of an autoencoder.
type ReconLoss int

// The losses: mean squared error of the sigmoid output, or binary cross
// entropy computed from the decoder's logits, which needs targets in [0, 1].
const (
	MSE ReconLoss = iota
	BCE
)

// AutoencoderConfig sizes a ConvAutoencoder. Zero values take the defaults.
type AutoencoderConfig struct {
	Widths     []int     // channels of the stride-2 convolution stages; default {16, 32}
	Latent     int       // bottleneck features; default 32
	Noise      Noise     // corruption of training inputs; default none
	NoiseLevel float64   // Gaussian std or masking probability; default 0.3 when Noise is set
	Loss       ReconLoss // default MSE
}

// ConvAutoencoder compresses (C, H, W) images to Latent features and
// reconstructs them:
//
//	encoder: [conv 3x3 stride 2 pad 1 -> ReLU] per width -> flatten -> linear(-> Latent)
//	decoder: linear(Latent ->) -> ReLU -> unflatten -> [conv-transpose 3x3 stride 2
//	         pad 1 -> ReLU] mirrored, the last one to C channels without ReLU
//
// and Forward ends with a sigmoid, so reconstructions lie in [0, 1]. Each
// transposed convolution's output padding restores the exact size its
// mirror convolution halved (rounding up), so any image size works. The
// parameter names are those of a PyTorch module with two nn.Sequential
// children, "encoder" and "decoder" ("encoder.0.weight", ...; the decoder's
// reshape is nn.Unflatten).
//
// With Noise set it is a denoising autoencoder: in training mode Forward
// and Loss corrupt the input, drawing from NoiseRNG, while Loss still
// compares with the clean input. Evaluation mode, Encode and Decode never
// corrupt.
type ConvAutoencoder struct {
	Shape    Shape
	Config   AutoencoderConfig
	Encoder  *nn.Sequential
	Decoder  *nn.Sequential
	NoiseRNG *rand.Rand // drawn from for corruption; replace it to control the stream
	Params   *nn.ParamSet
	training bool
}

var (
	_ Model        = (*ConvAutoencoder)(nil)
	_ nn.Container = (*ConvAutoencoder)(nil)
	_ nn.Moded     = (*ConvAutoencoder)(nil)
)

// NewConvAutoencoder builds a ConvAutoencoder for images of shape s
// (Classes is ignored), initialised from rng as PyTorch initialises its
// layers, in training mode, with parameters packed into one flat buffer.
// NoiseRNG is seeded from rng after initialisation.
func NewConvAutoencoder(s Shape, cfg AutoencoderConfig, rng *rand.Rand) (*ConvAutoencoder, error) {
	if cfg.Widths == nil {
		cfg.Widths = []int{16, 32}
	}
	if cfg.Latent == 0 {
		cfg.Latent = 32
	}
	if cfg.Noise != NoNoise && cfg.NoiseLevel == 0 {
		cfg.NoiseLevel = 0.3
	}
	switch {
	case s.Channels < 1 || s.Height < 1 || s.Width < 1:
		return nil, fmt.Errorf("models: autoencoder needs images of at least 1x1 with a channel, got %dx%dx%d", s.Channels, s.Height, s.Width)
	case len(cfg.Widths) == 0 || cfg.Latent < 1:
		return nil, fmt.Errorf("models: autoencoder needs at least one stage and one latent feature, got widths %v, latent %d", cfg.Widths, cfg.Latent)
	case cfg.Noise < NoNoise || cfg.Noise > MaskNoise || cfg.Loss < MSE || cfg.Loss > BCE:
		return nil, fmt.Errorf("models: autoencoder noise %d or loss %d unknown", cfg.Noise, cfg.Loss)
	case cfg.NoiseLevel < 0 || (cfg.Noise == MaskNoise && cfg.NoiseLevel >= 1):
		return nil, fmt.Errorf("models: autoencoder noise level %g, want >= 0 (and < 1 for masking)", cfg.NoiseLevel)
	}
	for _, w := range cfg.Widths {
		if w < 1 {
			return nil, fmt.Errorf("models: autoencoder widths %v, want all >= 1", cfg.Widths)
		}
	}
	k3, s2, p1 := [2]int{3, 3}, [2]int{2, 2}, [2]int{1, 1}
	// sizes[i] is the image size entering stage i; stage i halves it, rounding up.
	hs, ws := []int{s.Height}, []int{s.Width}
	var enc []nn.Module
	in := s.Channels
	for _, w := range cfg.Widths {
		enc = append(enc, nn.NewConv2d(nn.Conv2dConfig{In: in, Out: w, Kernel: k3, Stride: s2, Padding: p1}, rng), nn.NewReLU())
		hs, ws = append(hs, (hs[len(hs)-1]+1)/2), append(ws, (ws[len(ws)-1]+1)/2)
		in = w
	}
	last := len(cfg.Widths)
	flat := in * hs[last] * ws[last]
	enc = append(enc, nn.NewFlatten(1, -1), nn.NewLinear(flat, cfg.Latent, true, rng))
	dec := []nn.Module{nn.NewLinear(cfg.Latent, flat, true, rng), nn.NewReLU(), &unflatten{shape: [3]int{in, hs[last], ws[last]}}}
	for i := last - 1; i >= 0; i-- {
		out := s.Channels
		if i > 0 {
			out = cfg.Widths[i-1]
		}
		// A stride-2 convolution maps 2n and 2n-1 to n; output padding 1
		// picks 2n.
		op := [2]int{1 - hs[i]%2, 1 - ws[i]%2}
		dec = append(dec, nn.NewConvTranspose2d(nn.ConvTranspose2dConfig{In: in, Out: out, Kernel: k3, Stride: s2, Padding: p1, OutputPadding: op}, rng))
		if i > 0 {
			dec = append(dec, nn.NewReLU())
		}
		in = out
	}
	m := &ConvAutoencoder{Shape: s, Config: cfg, Encoder: nn.NewSequential(enc...), Decoder: nn.NewSequential(dec...), training: true}
	m.NoiseRNG = rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
	m.Params = nn.Pack(m)
	return m, nil
}

// Children returns the encoder and the decoder.
func (m *ConvAutoencoder) Children() []nn.Child {
	return []nn.Child{{Name: "encoder", Module: m.Encoder}, {Name: "decoder", Module: m.Decoder}}
}

// ParamSet returns the packed parameters.
func (m *ConvAutoencoder) ParamSet() *nn.ParamSet { return m.Params }

// SetTraining switches input corruption on (training) or off.
func (m *ConvAutoencoder) SetTraining(on bool) { m.training = on }

// Training reports whether the model is in training mode.
func (m *ConvAutoencoder) Training() bool { return m.training }

// Latent returns the number of features Encode produces.
func (m *ConvAutoencoder) Latent() int { return m.Config.Latent }

// Encode maps images (N, C, H, W) to their features (N, Latent), never
// corrupting them.
func (m *ConvAutoencoder) Encode(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	return m.Encoder.Forward(g, x)
}

// Decode maps features (N, Latent) to reconstruction logits (N, C, H, W);
// a sigmoid turns them into images.
func (m *ConvAutoencoder) Decode(g *autograd.Tape, z *autograd.Var) *autograd.Var {
	return m.Decoder.Forward(g, z)
}

// Forward reconstructs images (N, C, H, W) as values in [0, 1], corrupting
// the input first when training a denoising model (which cuts the gradient
// to x).
func (m *ConvAutoencoder) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	if m.corrupting() {
		x = g.Const(m.Corrupt(g, x.Value()))
	}
	return g.Sigmoid(m.Decode(g, m.Encode(g, x)))
}

// Loss returns the mean reconstruction loss of the clean batch x
// (N, C, H, W), and the reconstructions in [0, 1] for display. In training
// mode a denoising model sees a corrupted copy of x, but the loss target is
// x itself.
func (m *ConvAutoencoder) Loss(g *autograd.Tape, x *tensor.Tensor) (loss, recon *autograd.Var) {
	in := x
	if m.corrupting() {
		in = m.Corrupt(g, x)
	}
	logits := m.Decode(g, m.Encode(g, g.Const(in)))
	recon = g.Sigmoid(logits)
	if m.Config.Loss == BCE {
		return nn.BCEWithLogitsLoss(g, logits, x, nil, nil, nn.Mean), recon
	}
	return nn.MSELoss(g, recon, x, nn.Mean), recon
}

func (m *ConvAutoencoder) corrupting() bool {
	return m.training && m.Config.Noise != NoNoise && m.Config.NoiseLevel > 0
}

// Corrupt returns a tape-owned copy of x with the model's noise applied,
// drawn from NoiseRNG, whatever the mode: what a denoising model sees in
// training, for showing beside its reconstructions. Without noise it is a
// plain copy.
func (m *ConvAutoencoder) Corrupt(g *autograd.Tape, x *tensor.Tensor) *tensor.Tensor {
	out := tensor.Copy(g.Tensor(x.Shape()...), x)
	d, r, level := out.Data(), m.NoiseRNG, m.Config.NoiseLevel
	switch m.Config.Noise {
	case GaussianNoise:
		for i := range d {
			d[i] += float32(level * r.NormFloat64())
		}
	case MaskNoise:
		for i := range d {
			if r.Float64() < level {
				d[i] = 0
			}
		}
	}
	return out
}

// unflatten reshapes (N, C*H*W) to (N, C, H, W): PyTorch's nn.Unflatten(1, (C, H, W)).
type unflatten struct{ shape [3]int }

func (u *unflatten) Forward(g *autograd.Tape, x *autograd.Var) *autograd.Var {
	return g.Reshape(x, x.Value().Dim(0), u.shape[0], u.shape[1], u.shape[2])
}

// autoencoders are the named configurations, for command-line use.
var autoencoders = map[string]AutoencoderConfig{
	"conv-ae":  {},
	"conv-dae": {Noise: MaskNoise, NoiseLevel: 0.3},
}

// AutoencoderNames returns the names NewAutoencoder knows, sorted. They
// are kept out of the classifier zoo (Names, New), whose models map images
// to class logits.
func AutoencoderNames() []string {
	var out []string
	for n := range autoencoders {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// NewAutoencoder builds the named autoencoder ("conv-ae", or the denoising
// "conv-dae" with masking noise 0.3) for images of shape s.
func NewAutoencoder(name string, s Shape, rng *rand.Rand) (*ConvAutoencoder, error) {
	cfg, ok := autoencoders[name]
	if !ok {
		return nil, fmt.Errorf("models: unknown autoencoder %q (known: %v)", name, AutoencoderNames())
	}
	return NewConvAutoencoder(s, cfg, rng)
}
