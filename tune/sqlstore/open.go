// Package sqlstore keeps tune studies in SQL: SQLite (a file, the default,
// through the pure-Go modernc.org/sqlite driver) or PostgreSQL (a
// postgres:// URL, through pgx's database/sql driver) when workers on
// several machines share a study.
//
// Claiming a trial is one transaction that serialises on the study:
// SQLite takes the write lock at BEGIN (BEGIN IMMEDIATE, waiting up to the
// busy timeout), PostgreSQL locks the study's row (SELECT ... FOR UPDATE).
// A unique (study, number) constraint backs both, so two workers can never
// hold the same trial number. Times are the database's clock.
package sqlstore

// This file opens a store and creates its schema. It leaves out the
// Storage methods (store.go).

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"
)

// schemaVersion is written to kiln_meta; a database with another version
// is refused rather than misread.
const schemaVersion = "1"

// Store is a tune.Storage in a SQL database. It is safe for concurrent
// use, and any number of processes may open the same database.
type Store struct {
	db     *sql.DB
	d      *dialect
	target string // for messages; passwords redacted
}

// Open opens (creating if needed) the study database at target: a
// postgres:// or postgresql:// URL, or else a SQLite file path (an
// optional sqlite:// prefix is removed). The SQLite file's folder is
// created. SQLite files must be on a local disk: several processes on one
// machine may share one, machines should share PostgreSQL.
func Open(ctx context.Context, target string) (*Store, error) {
	var (
		db   *sql.DB
		d    *dialect
		name string
		err  error
	)
	switch {
	case strings.HasPrefix(target, "postgres://"), strings.HasPrefix(target, "postgresql://"):
		u, perr := url.Parse(target)
		if perr != nil {
			return nil, fmt.Errorf("sqlstore: storage URL: %w", perr)
		}
		name, d = u.Redacted(), postgres
		db, err = sql.Open("pgx", target)
	default:
		path := strings.TrimPrefix(target, "sqlite://")
		name, d = path, sqlite
		if path == "" || path == ":memory:" || strings.ContainsAny(path, "?#") {
			return nil, fmt.Errorf("sqlstore: storage %q: want a SQLite file path without '?' or '#', or a postgres:// URL", target)
		}
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("sqlstore: storage %s: %w", path, err)
			}
		}
		// WAL lets readers run beside the one writer; immediate
		// transactions take the write lock up front so that a claim
		// never fails half-way on a lock upgrade; the busy timeout makes
		// writers queue instead of failing.
		db, err = sql.Open("sqlite", path+"?_busy_timeout=30000&_journal_mode=WAL&_txlock=immediate&_foreign_keys=1&_synchronous=NORMAL")
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: storage %s: %w", name, err)
	}
	s := &Store{db: db, d: d, target: name}
	// SQLite can answer "database is locked" at once, without waiting on
	// the busy timeout, while another connection turns a new file to WAL:
	// workers started together open again after a pause.
	for pause, waited := 5*time.Millisecond, time.Duration(0); ; pause = min(2*pause, 500*time.Millisecond) {
		err := s.migrate(ctx)
		if err == nil {
			return s, nil
		}
		if d != sqlite || !busy(err) || waited >= 30*time.Second {
			db.Close()
			return nil, err
		}
		select {
		case <-time.After(pause):
			waited += pause
		case <-ctx.Done():
			db.Close()
			return nil, err
		}
	}
}

// busy reports whether err is SQLite's SQLITE_BUSY (5), or an extended
// code of it.
func busy(err error) bool {
	var c interface{ Code() int }
	return errors.As(err, &c) && c.Code()&0xff == 5
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// String names the database (without password).
func (s *Store) String() string { return s.d.name + " " + s.target }

// migrate creates the tables when absent and checks the schema version.
// Workers starting together race here, so PostgreSQL serialises on an
// advisory lock (its CREATE TABLE IF NOT EXISTS is not safe concurrently);
// SQLite's immediate transaction does the same.
func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: %s: %w", s, err)
	}
	defer tx.Rollback()
	if s.d.schemaLock != "" {
		if _, err := tx.ExecContext(ctx, s.d.schemaLock); err != nil {
			return fmt.Errorf("sqlstore: %s: schema lock: %w", s, err)
		}
	}
	for _, stmt := range s.d.schema() {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("sqlstore: %s: creating schema: %w", s, err)
		}
	}
	var version string
	err = tx.QueryRowContext(ctx, s.d.rebind(`SELECT value FROM kiln_meta WHERE name = ?`), "schema_version").Scan(&version)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO kiln_meta (name, value) VALUES (?, ?)`), "schema_version", schemaVersion); err != nil {
			return fmt.Errorf("sqlstore: %s: %w", s, err)
		}
	case err != nil:
		return fmt.Errorf("sqlstore: %s: %w", s, err)
	case version != schemaVersion:
		return fmt.Errorf("sqlstore: %s: schema version %s, this kiln reads %s", s, version, schemaVersion)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: %s: %w", s, err)
	}
	return nil
}
