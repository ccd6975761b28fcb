package server

// This file holds the secure-aggregation path of a round. It is wired to
// fed/secure once that package lands; until then a config asking for it
// is refused before the run starts.

import (
	"context"
	"errors"

	"github.com/kiln-ml/kiln/fed"
)

// secureKey is the fit config key that asks fed/secure's client wrapper to
// keep the update for the secure-aggregation stages.
const secureKey = "secagg"

// secureBuilt is false until fed/secure is wired.
const secureBuilt = false

// errNoSecure refuses secure aggregation until fed/secure is wired.
var errNoSecure = errors.New("server: secure aggregation is not available in this build yet")

// secureAggregate sums the trained clients' updates securely.
func (s *Server) secureAggregate(ctx context.Context, r int, conns []fed.Conn, ok []update, need int) ([]update, error) {
	return nil, errNoSecure
}
