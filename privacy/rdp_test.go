package privacy

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"testing"
)

// golden is testdata/rdp_golden.json, written by testdata/rdp_reference.py.
type golden struct {
	Orders []float64
	LogA   []struct {
		Q, Sigma, Alpha float64
		LogA            float64 `json:"log_a"`
	} `json:"log_a"`
	Eps []struct {
		N, Batch                int
		Sigma, Epochs, Delta, Q float64
		Steps                   int
		Eps, Order              float64
		EpsClassic              float64 `json:"eps_classic"`
		OrderClassic            float64 `json:"order_classic"`
	}
	NoiseMultiplier []struct {
		TargetEps float64 `json:"target_eps"`
		Delta, Q  float64
		Steps     int
		Sigma     float64
	} `json:"noise_multiplier"`
}

func loadGolden(t *testing.T) golden {
	t.Helper()
	b, err := os.ReadFile("testdata/rdp_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.LogA) == 0 || len(g.Eps) == 0 || len(g.NoiseMultiplier) == 0 {
		t.Fatal("empty golden file")
	}
	return g
}

func relClose(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

func TestDefaultOrdersAreOpacus(t *testing.T) {
	g := loadGolden(t)
	got := DefaultOrders()
	if len(got) != len(g.Orders) || len(got) != 151 {
		t.Fatalf("%d orders, want %d (151)", len(got), len(g.Orders))
	}
	for i := range got {
		if got[i] != g.Orders[i] {
			t.Errorf("order %d: %v, want %v", i, got[i], g.Orders[i])
		}
	}
}

func TestLogAGolden(t *testing.T) {
	for _, c := range loadGolden(t).LogA {
		if got := logA(c.Q, c.Sigma, c.Alpha); !relClose(got, c.LogA, 1e-9) {
			t.Errorf("log A(q=%v, sigma=%v, alpha=%v) = %.12g, want %.12g", c.Q, c.Sigma, c.Alpha, got, c.LogA)
		}
	}
}

func TestEpsilonGolden(t *testing.T) {
	orders := DefaultOrders()
	for _, c := range loadGolden(t).Eps {
		if s := StepsFor(c.Epochs, float64(c.Batch)/float64(c.N)); s != c.Steps {
			t.Errorf("steps for %v epochs of %d/%d: %d, want %d", c.Epochs, c.Batch, c.N, s, c.Steps)
		}
		rdp, err := RDP(c.Q, c.Sigma, c.Steps, orders)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []struct {
			conv       Conversion
			eps, order float64
		}{{Balle, c.Eps, c.Order}, {Mironov, c.EpsClassic, c.OrderClassic}} {
			eps, order, err := PrivacySpent(orders, rdp, c.Delta, k.conv)
			if err != nil {
				t.Fatal(err)
			}
			if !relClose(eps, k.eps, 1e-9) || order != k.order {
				t.Errorf("q=%v sigma=%v steps=%d: eps %.10g at order %v, want %.10g at %v", c.Q, c.Sigma, c.Steps, eps, order, k.eps, k.order)
			}
		}
	}
}

// TestPublishedFigures checks the accountant against the two figures of
// issue 18, within 1%.
func TestPublishedFigures(t *testing.T) {
	// Opacus: sigma 1.5, sample rate 0.04, 2,250 steps, delta 1e-5 -> 7.3291.
	eps, order, err := Epsilon(0.04, 1.5, 2250, 1e-5)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(eps-7.3291)/7.3291 > 0.01 {
		t.Errorf("Opacus figure: eps %.4f at order %v, want 7.3291", eps, order)
	}
	// TensorFlow Privacy's MNIST tutorial: N 60,000, batch 256, sigma 1.1,
	// 60 epochs, delta 1e-5 -> 3.01. It is reproduced by the original
	// conversion (Mironov), not by Opacus's, which gives about 2.60.
	q := 256.0 / 60000
	orders := DefaultOrders()
	rdp, err := RDP(q, 1.1, StepsFor(60, q), orders)
	if err != nil {
		t.Fatal(err)
	}
	eps, order, err = PrivacySpent(orders, rdp, 1e-5, Mironov)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(eps-3.01)/3.01 > 0.01 {
		t.Errorf("TF Privacy figure: eps %.4f at order %v, want 3.01", eps, order)
	}
	balle, _, _ := PrivacySpent(orders, rdp, 1e-5, Balle)
	if !(balle < eps) || math.Abs(balle-3.01)/3.01 < 0.05 {
		t.Errorf("Opacus's conversion gives %.4f, want clearly below Mironov's %.4f", balle, eps)
	}
}

func TestNoiseMultiplierGolden(t *testing.T) {
	for _, c := range loadGolden(t).NoiseMultiplier {
		got, err := NoiseMultiplier(c.TargetEps, c.Delta, c.Q, c.Steps, 0.01)
		if err != nil {
			t.Fatal(err)
		}
		if !relClose(got, c.Sigma, 1e-12) {
			t.Errorf("target eps %v (q=%v, %d steps): sigma %v, want %v", c.TargetEps, c.Q, c.Steps, got, c.Sigma)
		}
		eps, _, _ := Epsilon(c.Q, got, c.Steps, c.Delta)
		if eps > c.TargetEps || c.TargetEps-eps > 0.01 {
			t.Errorf("sigma %v spends %v, want within 0.01 below %v", got, eps, c.TargetEps)
		}
	}
}

func TestAccountantAddsUp(t *testing.T) {
	var a Accountant
	for range 300 {
		a.Step(1.1, 0.01)
	}
	for range 200 {
		a.Step(0.9, 0.02)
	}
	if a.Steps() != 500 {
		t.Fatalf("%d steps", a.Steps())
	}
	got, _, err := a.Epsilon(1e-5)
	if err != nil {
		t.Fatal(err)
	}
	orders := DefaultOrders()
	r1, _ := RDP(0.01, 1.1, 300, orders)
	r2, _ := RDP(0.02, 0.9, 200, orders)
	for i := range r1 {
		r1[i] += r2[i]
	}
	want, _, _ := PrivacySpent(orders, r1, 1e-5, Balle)
	if !relClose(got, want, 1e-12) {
		t.Errorf("accountant %v, composition %v", got, want)
	}
	one, _, _ := Epsilon(0.01, 1.1, 300, 1e-5)
	if !(got > one) {
		t.Errorf("more steps spent less: %v after 500, %v after 300", got, one)
	}
}

func TestBadArguments(t *testing.T) {
	orders := DefaultOrders()
	for _, c := range []struct {
		q, sigma float64
		steps    int
	}{{-0.1, 1, 1}, {1.5, 1, 1}, {0.1, -1, 1}, {0.1, math.NaN(), 1}, {0.1, 1, -1}} {
		if _, err := RDP(c.q, c.sigma, c.steps, orders); err == nil {
			t.Errorf("RDP(%v, %v, %d) accepted", c.q, c.sigma, c.steps)
		}
	}
	if _, _, err := Epsilon(0.01, 1, 10, 0); err == nil {
		t.Error("delta 0 accepted")
	}
	if _, _, err := Epsilon(0.01, 0, 10, 1e-5); !errors.Is(err, ErrNoPrivacy) {
		t.Errorf("no noise: %v, want ErrNoPrivacy", err)
	}
	if _, err := NoiseMultiplier(0, 1e-5, 0.01, 100, 0.01); err == nil {
		t.Error("target epsilon 0 accepted")
	}
	if _, err := NoiseMultiplier(1e-9, 1e-5, 1, 100000, 0.01); err == nil {
		t.Error("unreachable target accepted")
	}
	if r, _ := RDP(0, 1, 100, orders); r[0] != 0 {
		t.Errorf("q 0 spends %v", r[0])
	}
	if r, _ := RDP(1, 2, 3, []float64{5}); r[0] != 3*5/(2*4.0) {
		t.Errorf("q 1: %v, want the Gaussian mechanism's alpha/(2 sigma^2) per step", r[0])
	}
}
