package server

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzParseConfig: any bytes either give a valid Config, which encodes
// and parses back to itself, or an error; never a panic.
func FuzzParseConfig(f *testing.F) {
	good, err := json.Marshal(testConfig("runs"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"rounds": 3}`))
	f.Add([]byte(`{"rounds": -1, "min_clients": 2, "strategy": "fedavg"}`))
	f.Add([]byte(`{"unknown": 1}`))
	f.Add([]byte(`{} {}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := ParseConfig(b)
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("ParseConfig accepted a config Validate refuses: %v", err)
		}
		again, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseConfig(again)
		if err != nil {
			t.Fatalf("a parsed config does not parse again: %v\n%s", err, again)
		}
		if !reflect.DeepEqual(back, cfg) {
			t.Fatalf("round trip changed the config:\n%+v\n%+v", cfg, back)
		}
	})
}
