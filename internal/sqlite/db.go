// Package sqlite stores takedown's data in one SQLite file (modernc.org/sqlite,
// pure Go): the embedded default for an analyst's laptop. The job queue lives
// in the same file.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/migration"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is takedown's store on a SQLite file. SQLite has one writer at a time,
// so writes (and the job queue, which writes to fetch jobs) share a pool of
// one connection and queue in Go instead of failing with SQLITE_BUSY;
// reads use a pool of their own and run beside the writer thanks to WAL.
type DB struct {
	path  string
	write *sql.DB
	read  *sql.DB
	jobs  *jobQueue
	// inserter enqueues jobs inside the store's transactions.
	inserter *river.Client[*sql.Tx]
	now      func() time.Time
}

var _ takedown.Store = (*DB)(nil)

// Open opens (creating if needed) the SQLite file at path. Call Migrate
// before use.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, takedown.Errorf(takedown.EINVALID, "no SQLite file path given")
	}
	// temp_store(MEMORY): a multi-row INSERT that may fail on a constraint
	// keeps a statement journal to undo itself; in a temporary file that
	// journal cost a tenth of an import's time in write system calls.
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + strings.Join([]string{
		"_pragma=busy_timeout(30000)",
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(NORMAL)",
		"_pragma=foreign_keys(1)",
		"_pragma=cache_size(-131072)",
		"_pragma=wal_autocheckpoint(16384)",
		"_pragma=temp_store(MEMORY)",
		"_txlock=immediate",
	}, "&")
	write, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	read, err := sql.Open("sqlite", dsn)
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	read.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	db := &DB{path: path, write: write, read: read, now: time.Now}
	if db.inserter, err = newInserter(write); err != nil {
		db.Close()
		return nil, fmt.Errorf("job queue: %w", err)
	}
	if err := write.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// Close stops the job queue, if running, and closes the file.
func (db *DB) Close() error {
	if db.jobs != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		db.StopJobs(ctx)
		cancel()
	}
	return errors.Join(db.read.Close(), db.write.Close())
}

// Migrate applies the embedded migrations that have not run yet, each in its
// own transaction, and then the job queue's migrations.
func (db *DB) Migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	ms, err := migration.Load(migrations, "migrations")
	if err != nil {
		return err
	}
	for _, m := range ms {
		err = db.inTx(ctx, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil || n > 0 {
				return err
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, m.Version, m.Name, formatTime(db.now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	migrator, err := rivermigrate.New(riversqlite.New(db.write), nil)
	if err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	return nil
}

// Analyze refreshes the query planner's statistics (jobs.Analyzer).
func (db *DB) Analyze(ctx context.Context) error {
	_, err := db.write.ExecContext(ctx, `PRAGMA analysis_limit = 2000; ANALYZE; PRAGMA optimize`)
	return translate(err, "analyze")
}

// inTx runs f in a write transaction, committing if it returns nil.
func (db *DB) inTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// translate turns driver errors into application errors where they mean
// one, and wraps the rest with what was being done.
func translate(err error, doing string) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return takedown.Errorf(takedown.ENOTFOUND, "%s: not found", doing)
	case errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY):
		return takedown.Errorf(takedown.ECONFLICT, "%s: exists already", doing)
	case takedown.ErrorCode(err) != takedown.EINTERNAL:
		return err
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// Times are stored as INTEGER microseconds since 1970 (UTC): eight bytes
// where text takes 27, on several columns of every row, and microseconds
// are what PostgreSQL keeps, so both backends give back the same time.
func formatTime(t time.Time) int64 { return t.UnixMicro() }

func parseTime(us int64) time.Time { return time.UnixMicro(us).UTC() }

// Backup writes a consistent copy of the database to path, a file that
// must not exist yet, while the database stays in use: VACUUM INTO reads
// one snapshot in a read transaction (the WAL lets writers go on) and
// writes it compacted. The copy is a database as it is, to be opened in
// place of the original; the evidence store, files beside it, is backed up
// apart.
func (db *DB) Backup(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err == nil {
		return takedown.Errorf(takedown.ECONFLICT, "%s exists: a backup is written to a new file", path)
	}
	if _, err := db.read.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		os.Remove(path)
		return fmt.Errorf("back up to %s: %w", path, err)
	}
	return nil
}
