package agent

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/autograd/autogradtest"
	"github.com/kiln-ml/kiln/tensor"
)

// TestPPOLossByHand checks the clipped objective, the clipped value loss
// and the entropy bonus against values worked out on paper.
func TestPPOLossByHand(t *testing.T) {
	// Two actions with equal logits: log pi(a) = log 0.5 and entropy log 2.
	logits := tensor.New(4, 2)
	values := tensor.FromSlice([]float32{1, 2, 3, 4}, 4, 1)
	ratios := []float64{1.5, 0.5, 1.1, 0.7}
	b := PGBatch{Actions: []int{0, 1, 0, 1}, Advantages: []float32{2, 1, -1, -3},
		OldValues: []float32{1.5, 2.1, 2.0, 4.0}, Returns: []float32{0, 3, 3, 5}}
	for _, r := range ratios {
		b.OldLogProb = append(b.OldLogProb, float32(math.Log(0.5)-math.Log(r)))
	}
	g := autograd.NewTape()
	loss, parts := PGLoss(g, g.Const(logits), g.Const(values), b, PGCoefs{Clip: 0.2, ClipVF: 0.2, EntCoef: 0.01, VFCoef: 0.5})
	// policy: -mean(min(rA, clip(r)A)) = -mean(min(3, 2.4), min(0.5, 0.8), min(-1.1, -1.1), min(-2.1, -2.4))
	//       = -(2.4 + 0.5 - 1.1 - 2.4)/4 = 0.15
	// value: v' = old + clamp(v - old, ±0.2) = (1.3, 2.0, 2.2, 4.0); mean((R - v')^2) = (1.69 + 1 + 0.64 + 1)/4 = 1.0825
	// loss: 0.15 - 0.01 log 2 + 0.5 * 1.0825
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"policy", float64(parts.Policy), 0.15},
		{"value", float64(parts.Value), 1.0825},
		{"entropy", float64(parts.Entropy), math.Log(2)},
		{"clip fraction", float64(parts.ClipFraction), 0.75},
		{"loss", float64(loss.Item()), 0.15 - 0.01*math.Log(2) + 0.5*1.0825},
	} {
		if math.Abs(c.got-c.want) > 1e-6 {
			t.Errorf("%s = %.7f, want %.7f", c.name, c.got, c.want)
		}
	}
	// Without clipping (A2C): policy = -mean(A log pi(a)) = -log 0.5 (2 + 1 - 1 - 3)/4
	g = autograd.NewTape()
	_, parts = PGLoss(g, g.Const(logits), g.Const(values), b, PGCoefs{VFCoef: 0.5})
	if want := -math.Log(0.5) * -1 / 4; math.Abs(float64(parts.Policy)-want) > 1e-6 {
		t.Errorf("unclipped policy loss %v, want %v", parts.Policy, want)
	}
	if want := (1.0 + 1 + 0 + 1) / 4; math.Abs(float64(parts.Value)-want) > 1e-6 {
		t.Errorf("unclipped value loss %v, want %v", parts.Value, want)
	}
}

// pgInputs returns logits and values with old log-probabilities and old
// values placed so that no ratio or value difference sits within the
// finite-difference step of a clipping kink.
func pgInputs(n, k int) (*tensor.Tensor, *tensor.Tensor, PGBatch) {
	rng := rand.New(rand.NewPCG(4, 5))
	logits := tensor.New(n, k).Uniform(rng, -1, 1)
	values := tensor.New(n, 1).Uniform(rng, -1, 1)
	ratios := []float64{0.5, 0.9, 1.1, 1.5, 0.7, 1.35}
	vdiff := []float64{-1, 0.1, 0.5, -0.05, 0.8, -0.6}
	var b PGBatch
	for i := range n {
		row := logits.Data()[i*k : (i+1)*k]
		a := rng.IntN(k)
		var z float64
		for _, v := range row {
			z += math.Exp(float64(v))
		}
		logp := float64(row[a]) - math.Log(z)
		b.Actions = append(b.Actions, a)
		b.OldLogProb = append(b.OldLogProb, float32(logp-math.Log(ratios[i%len(ratios)])))
		b.OldValues = append(b.OldValues, values.Data()[i]-float32(vdiff[i%len(vdiff)]))
		b.Advantages = append(b.Advantages, float32(rng.NormFloat64()))
		b.Returns = append(b.Returns, float32(rng.NormFloat64()))
	}
	return logits, values, b
}

func TestPGLossGradients(t *testing.T) {
	logits, values, b := pgInputs(6, 3)
	for _, c := range []struct {
		name  string
		coefs PGCoefs
	}{
		{"ppo", PGCoefs{Clip: 0.2, ClipVF: 0.3, EntCoef: 0.05, VFCoef: 0.5}},
		{"ppo without value clipping", PGCoefs{Clip: 0.2, EntCoef: 0.01, VFCoef: 0.5}},
		{"a2c and reinforce", PGCoefs{EntCoef: 0.05, VFCoef: 0.5}},
	} {
		t.Run(c.name, func(t *testing.T) {
			autogradtest.Check(t, func(g *autograd.Tape, in []*autograd.Var) *autograd.Var {
				loss, _ := PGLoss(g, in[0], in[1], b, c.coefs)
				return loss
			}, []*tensor.Tensor{logits, values}, autogradtest.Options{Eps: 1e-3, ATol: 2e-3, Seed: 1})
		})
	}
}

func TestDQNLoss(t *testing.T) {
	// q(a) - target = 0.5, -2, 1.5, 0: Huber terms 0.125, 1.5, 1, 0
	q := tensor.FromSlice([]float32{0.5, 9, 9, -1, 3, 7, 2, 2}, 4, 2)
	g := autograd.NewTape()
	loss := DQNLoss(g, g.Const(q), []int{0, 1, 1, 0}, []float32{0, 1, 5.5, 2})
	if got := loss.Item(); math.Abs(float64(got)-0.65625) > 1e-6 {
		t.Errorf("DQN loss %v, want 0.65625", got)
	}
	x := tensor.FromSlice([]float32{0.3, -1.7, 2.2, 0.1, -0.4, 1.3}, 3, 2)
	autogradtest.Check(t, func(g *autograd.Tape, in []*autograd.Var) *autograd.Var {
		return DQNLoss(g, in[0], []int{1, 0, 1}, []float32{0.5, 0.2, 0.8}) // differences -2.2, 2 and 0.5: both pieces
	}, []*tensor.Tensor{x}, autogradtest.Options{Eps: 1e-3, Seed: 2})
}

func TestOrthogonal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, shape := range [][2]int{{8, 3}, {3, 8}, {5, 5}} {
		w := tensor.New(shape[0], shape[1])
		orthogonal(w, 2, rng)
		r, c := shape[0], shape[1]
		d := w.Data()
		// the smaller side's vectors are orthogonal with norm gain
		outer, inner, stride, step := c, r, 1, c // columns when tall
		if r < c {
			outer, inner, stride, step = r, c, c, 1
		}
		for i := range outer {
			for j := range outer {
				var dot float64
				for k := range inner {
					dot += float64(d[i*stride+k*step]) * float64(d[j*stride+k*step])
				}
				want := 0.0
				if i == j {
					want = 4
				}
				if math.Abs(dot-want) > 1e-5 {
					t.Fatalf("%v: vectors %d and %d: dot %v, want %v", shape, i, j, dot, want)
				}
			}
		}
	}
}

func TestGAE(t *testing.T) {
	// one environment, three steps; the episode ends after step 1, and
	// step 2 starts a new one
	var b rollout
	b.init(3, 1, 1)
	copy(b.rewards, []float32{1, 2, 3})
	copy(b.values, []float32{0.5, 1, 1.5})
	copy(b.starts, []float32{1, 0, 1})
	b.lastStarts[0] = 0
	gamma, lambda := float32(0.9), float32(0.8)
	b.gae([]float32{2}, gamma, lambda)
	// step 2: delta = 3 + 0.9*2 - 1.5 = 3.3; A = 3.3
	// step 1: next starts an episode: delta = 2 - 1 = 1; A = 1
	// step 0: delta = 1 + 0.9*1 - 0.5 = 1.4; A = 1.4 + 0.72*1 = 2.12
	want := []float32{2.12, 1, 3.3}
	for i, w := range want {
		if math.Abs(float64(b.advantages[i]-w)) > 1e-6 || math.Abs(float64(b.returns[i]-(w+b.values[i]))) > 1e-6 {
			t.Errorf("step %d: advantage %v return %v, want %v %v", i, b.advantages[i], b.returns[i], w, w+b.values[i])
		}
	}
}
