//go:build !mpi

package mpi

import (
	"errors"
	"time"

	"github.com/kiln-ml/kiln/dist"
)

// Available reports whether this build can talk to Open MPI.
const Available = false

// Comm is, in builds without the tag mpi, never made.
type Comm struct{ dist.Local }

// Init reports that this build has no MPI.
func Init(time.Duration) (*Comm, error) {
	return nil, errors.New("mpi: this kiln was built without MPI; build it with: go build -tags mpi ./cmd/kiln (needs Open MPI's libopenmpi-dev and pkg-config)")
}

// Abort does nothing: there is no job to end.
func (*Comm) Abort(int) {}

// Close does nothing.
func (*Comm) Close() error { return nil }

// Host returns "".
func (*Comm) Host() string { return "" }
