package privacy

import (
	"encoding/json"
	"testing"
)

// TestAccountantJSON: an account written and read back gives the same
// epsilon, and runs no step can have are refused.
func TestAccountantJSON(t *testing.T) {
	var a Accountant
	a.Record(1.1, 256.0/60000, 1000)
	a.Record(1.1, 256.0/60000, 234)
	a.Record(0.8, 0.01, 50)
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var back Accountant
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	e1, _, err1 := a.Epsilon(1e-5)
	e2, _, err2 := back.Epsilon(1e-5)
	if err1 != nil || err2 != nil || e1 != e2 || back.Steps() != 1284 {
		t.Fatalf("read back: epsilon %v (%v), written %v (%v), %d steps; %s", e2, err2, e1, err1, back.Steps(), b)
	}
	for _, bad := range []string{`[{"noise_multiplier":1,"sample_rate":0,"steps":1}]`, `[{"noise_multiplier":-1,"sample_rate":0.1,"steps":1}]`,
		`[{"noise_multiplier":1,"sample_rate":1.5,"steps":1}]`, `[{"noise_multiplier":1,"sample_rate":0.1,"steps":0}]`, `{}`,
		`[{"noise_multiplier":1,"sample_rate":0.1,"steps":1099511627776},{"noise_multiplier":1,"sample_rate":0.1,"steps":1}]`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("%s was accepted", bad)
		}
	}
}

// FuzzAccountantJSON: any bytes either give an account that writes and
// reads back to the same steps, or an error; never a panic.
func FuzzAccountantJSON(f *testing.F) {
	f.Add([]byte(`[{"noise_multiplier":1.1,"sample_rate":0.004,"steps":250}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Add([]byte(`[{"noise_multiplier":1e308,"sample_rate":1,"steps":1}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var a Accountant
		if err := json.Unmarshal(b, &a); err != nil {
			return
		}
		again, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		var back Accountant
		if err := json.Unmarshal(again, &back); err != nil || back.Steps() != a.Steps() {
			t.Fatalf("round trip: %v, %d steps for %d; %s", err, back.Steps(), a.Steps(), again)
		}
	})
}
