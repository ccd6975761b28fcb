package sqlstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/tune"
	"github.com/kiln-ml/kiln/tune/tunetest"
)

// TestMain lets the test binary double as a tuning worker: the
// multi-process tests re-execute it with KILN_TUNE_TEST_WORKER set.
func TestMain(m *testing.M) {
	if mode := os.Getenv(envMode); mode != "" {
		if err := runWorker(mode); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func openSQLite(t *testing.T) tune.Storage {
	t.Helper()
	st, err := Open(context.Background(), filepath.Join(t.TempDir(), "sub", "study.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestSQLiteContract(t *testing.T) {
	tunetest.Storage(t, openSQLite, "")
}

func TestSQLitePersistsAcrossOpens(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "study.db")
	st, err := Open(ctx, "sqlite://"+path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.LoadOrCreateStudy(ctx, tune.StudyInfo{Name: "s", Space: "{}"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ClaimTrial(ctx, info.ID, "w", 0); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	again, err := st.LoadOrCreateStudy(ctx, tune.StudyInfo{Name: "s", Space: "other"})
	if err != nil || again.ID != info.ID || again.Space != "{}" {
		t.Fatalf("reopened study %+v, %v", again, err)
	}
	if r, err := st.ClaimTrial(ctx, info.ID, "w", 0); err != nil || r.Number != 1 {
		t.Fatalf("claim after reopen: %d, %v", r.Number, err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for _, target := range []string{"", ":memory:", "study.db?mode=ro", "postgres://%zz"} {
		if st, err := Open(ctx, target); err == nil {
			st.Close()
			t.Errorf("%q: no error", target)
		} else if !strings.HasPrefix(err.Error(), "sqlstore: ") {
			t.Errorf("%q: error %q lacks the package prefix", target, err)
		}
	}
	// A file that is not a database names the file.
	bad := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(bad, []byte(strings.Repeat("not a database\n", 200)), 0o644)
	if st, err := Open(ctx, bad); err == nil {
		st.Close()
		t.Error("text file opened as a database")
	} else if !strings.Contains(err.Error(), bad) {
		t.Errorf("error %q does not name %s", err, bad)
	}
	// A database written by a future kiln is refused.
	path := filepath.Join(t.TempDir(), "future.db")
	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	st.db.Exec(`UPDATE kiln_meta SET value = '99' WHERE name = 'schema_version'`)
	st.Close()
	if st, err := Open(ctx, path); err == nil || !strings.Contains(err.Error(), "schema version 99") {
		if st != nil {
			st.Close()
		}
		t.Errorf("future schema: %v", err)
	}
}

func TestRebind(t *testing.T) {
	if got := postgres.q(`UPDATE t SET a = ?, b = {now} WHERE c = ? AND d < {now} - ?`); got !=
		`UPDATE t SET a = $1, b = `+postgres.now+` WHERE c = $2 AND d < `+postgres.now+` - $3` {
		t.Errorf("postgres: %s", got)
	}
	if got := sqlite.q(`SELECT ? + {now}`); got != `SELECT ? + `+sqlite.now {
		t.Errorf("sqlite: %s", got)
	}
}
