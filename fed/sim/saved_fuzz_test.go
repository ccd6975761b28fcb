package sim

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/kiln-ml/kiln/fed/partition"
	"github.com/kiln-ml/kiln/fed/server"
)

// FuzzParseSaved: any bytes either give settings a simulation runs with,
// which encode and parse back to themselves, or an error; never a panic.
func FuzzParseSaved(f *testing.F) {
	good, err := json.Marshal(saved{Clients: 10, Partition: partition.Options{Method: "dirichlet", Alpha: 0.5},
		Strategies: []string{"fedavg", "krum"}, Server: server.DefaultConfig()})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"clients": 0}`))
	f.Add([]byte(`{"clients": 3, "strategies": ["nope"]}`))
	f.Add([]byte(`{"clients": 3, "partition": {"Method": "dirichlet"}}`))
	f.Add([]byte(`{} 1`))
	f.Fuzz(func(t *testing.T, b []byte) {
		sv, err := parseSaved(b)
		if err != nil {
			return
		}
		if sv.Clients < 1 || len(sv.Strategies) == 0 {
			t.Fatalf("accepted %+v", sv)
		}
		again, err := json.Marshal(sv)
		if err != nil {
			t.Fatal(err)
		}
		back, err := parseSaved(again)
		if err != nil {
			t.Fatalf("parsed settings do not parse again: %v\n%s", err, again)
		}
		if !reflect.DeepEqual(back, sv) {
			t.Fatalf("round trip changed the settings:\n%+v\n%+v", sv, back)
		}
	})
}
