package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
)

// firstNumberAfter returns the number that follows prefix in s.
func firstNumberAfter(t *testing.T, s, prefix string) float64 {
	t.Helper()
	i := strings.Index(s, prefix)
	if i < 0 {
		t.Fatalf("no %q in %q", prefix, s)
	}
	f := strings.Fields(s[i+len(prefix):])
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		t.Fatalf("after %q: %v", prefix, err)
	}
	return v
}

func TestDPEpsilon(t *testing.T) {
	ctx := context.Background()
	mnist := []string{"dp", "epsilon", "--n", "60000", "--batch", "256", "--epochs", "60", "--delta", "1e-5"}
	code, out, errOut := kiln(t, ctx, append(mnist, "--sigma", "1.1")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// Opacus's conversion; the reference script's value.
	if eps := firstNumberAfter(t, out, "epsilon "); eps != 2.5966 || !strings.Contains(out, "order 8.1") || !strings.Contains(out, "14062 steps") {
		t.Errorf("output:\n%s", out)
	}
	code, out, _ = kiln(t, ctx, append(mnist, "--sigma", "1.1", "--conversion", "mironov")...)
	if eps := firstNumberAfter(t, out, "epsilon "); code != 0 || eps < 2.98 || eps > 3.04 {
		t.Errorf("TF Privacy's 3.01: exit %d\n%s", code, out)
	}
	code, out, _ = kiln(t, ctx, append(mnist, "--target-epsilon", "3")...)
	if s := firstNumberAfter(t, out, "noise multiplier "); code != 0 || s != 1.01562 {
		t.Errorf("target epsilon 3: exit %d\n%s", code, out)
	}
	for _, bad := range [][]string{
		{"dp"},
		{"dp", "delta"},
		{"dp", "epsilon", "--n", "100", "--batch", "256", "--sigma", "1", "--epochs", "1"},
		{"dp", "epsilon", "--n", "100", "--batch", "10", "--epochs", "1"},
		{"dp", "epsilon", "--n", "100", "--batch", "10", "--sigma", "1", "--epochs", "1", "--delta", "1"},
		{"dp", "epsilon", "--n", "100", "--batch", "10", "--sigma", "1", "--epochs", "1", "--target-epsilon", "2"},
		{"dp", "epsilon", "--n", "100", "--batch", "10", "--sigma", "1", "--epochs", "1", "--conversion", "tf"},
		{"dp", "epsilon", "--n", "100", "--batch", "10", "--sigma", "1", "--epochs", "1", "extra"},
	} {
		if code, _, _ := kiln(t, ctx, bad...); code != 2 {
			t.Errorf("%v: exit %d, want 2", bad, code)
		}
	}
	if code, out, _ := kiln(t, ctx, "dp", "epsilon", "-h"); code != 0 || !strings.Contains(out, "--target-epsilon") {
		t.Errorf("help: exit %d\n%s", code, out)
	}
}
