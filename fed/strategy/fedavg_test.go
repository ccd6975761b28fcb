package strategy

import (
	"errors"
	"strings"
	"testing"
)

func TestFedAvgHandComputed(t *testing.T) {
	s, err := New("fedavg", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	global := []float32{9, 9}
	// (1*[1,2] + 3*[5,-2]) / 4 = [4, -1]
	err = s.Aggregate(1, global, []Update{
		{Client: "a", Params: []float32{1, 2}, Weight: 1},
		{Client: "b", Params: []float32{5, -2}, Weight: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	if global[0] != 4 || global[1] != -1 {
		t.Fatalf("fedavg = %v, want [4 -1]", global)
	}
}

func TestFedAvgRefuses(t *testing.T) {
	s := &FedAvg{}
	nan := float32(0)
	nan = nan / nan
	cases := []struct {
		name    string
		updates []Update
		want    string
	}{
		{"none", nil, "no updates"},
		{"length", []Update{{Client: "a", Params: []float32{1}, Weight: 1}}, "sent 1 parameters, want 2"},
		{"weight", []Update{{Client: "a", Params: []float32{1, 2}, Weight: -1}}, "weight -1"},
		{"zero total", []Update{{Client: "a", Params: []float32{1, 2}, Weight: 0}}, "sum to 0"},
		{"nan", []Update{{Client: "a", Params: []float32{1, 2}, Weight: 1}, {Client: "b", Params: []float32{nan, 2}, Weight: 1}}, "clients b"},
	}
	for _, c := range cases {
		err := s.Aggregate(1, []float32{0, 0}, c.updates)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to mention %q", c.name, err, c.want)
		}
	}
	err := s.Aggregate(1, []float32{0, 0}, cases[4].updates)
	if !errors.Is(err, ErrNonFinite) {
		t.Errorf("nan update: %v does not wrap ErrNonFinite", err)
	}
}

func TestNewUnknownListsKnown(t *testing.T) {
	_, err := New("fedsgd", DefaultOptions())
	if err == nil || !strings.Contains(err.Error(), "fedavg") {
		t.Fatalf("New(fedsgd) = %v, want an error listing the known names", err)
	}
}
