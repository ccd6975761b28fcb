package sqlstore

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/kiln-ml/kiln/tune"
	"github.com/kiln-ml/kiln/tune/tunetest"
)

// postgresURL returns KILN_TEST_POSTGRES (a postgres:// URL), skipping the
// test when it is unset; tune/testdata/ci-postgres.sh sets one up.
func postgresURL(t *testing.T) string {
	u := os.Getenv("KILN_TEST_POSTGRES")
	if u == "" {
		t.Skip("KILN_TEST_POSTGRES is not set; see tune/testdata/ci-postgres.sh")
	}
	return u
}

// unique names studies so that runs against one database never collide.
func unique(what string) string {
	return fmt.Sprintf("test-%s-%d-%d", what, os.Getpid(), time.Now().UnixNano())
}

func TestPostgresContract(t *testing.T) {
	u := postgresURL(t)
	tunetest.Storage(t, func(t *testing.T) tune.Storage {
		st, err := Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}, unique("contract")+"-")
}

func TestPostgresTwoWorkerProcesses(t *testing.T) {
	testTwoWorkers(t, postgresURL(t), unique("shared"))
}

func TestPostgresKilledWorker(t *testing.T) {
	testKilledWorker(t, postgresURL(t), unique("killed"))
}
