package tune_test

import (
	"testing"

	"github.com/kiln-ml/kiln/tune"
	"github.com/kiln-ml/kiln/tune/tunetest"
)

func TestMemoryStorageContract(t *testing.T) {
	tunetest.Storage(t, func(*testing.T) tune.Storage { return tune.NewMemoryStorage() }, "")
}
