// Package postgres stores takedown's data in PostgreSQL (pgx): the backend
// for multi-process, multi-agency deployments. The job queue lives in the
// same database.
package postgres

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/migration"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is takedown's store on PostgreSQL.
type DB struct {
	pool     *pgxpool.Pool
	jobs     *river.Client[pgx.Tx]
	inserter *river.Client[pgx.Tx]
	now      func() time.Time
}

var _ takedown.Store = (*DB)(nil)

// Open connects to the database at url (a postgres:// URL; a search_path
// parameter selects the schema). Call Migrate before first use.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, takedown.Errorf(takedown.EINVALID, "database URL: %v", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, takedown.Errorf(takedown.EUNAVAILABLE, "cannot reach PostgreSQL at %s:%d: %v", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("job queue: %w", err)
	}
	return &DB{pool: pool, inserter: inserter, now: time.Now}, nil
}

// Close stops the job queue, if running, and closes the connections.
func (db *DB) Close() error {
	if db.jobs != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		db.StopJobs(ctx)
		cancel()
	}
	db.pool.Close()
	return nil
}

// migrationLock serialises migrations of several processes started at once.
const migrationLock = 7461636

// Migrate applies the embedded migrations that have not run yet, each in its
// own transaction, and then the job queue's migrations.
func (db *DB) Migrate(ctx context.Context) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, migrationLock)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	ms, err := migration.Load(migrations, "migrations")
	if err != nil {
		return err
	}
	for _, m := range ms {
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, m.Version).Scan(&n); err != nil || n > 0 {
				return err
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`, m.Version, m.Name, db.now())
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	migrator, err := rivermigrate.New(riverpgxv5.New(db.pool), nil)
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
	_, err := db.pool.Exec(ctx, `ANALYZE items; ANALYZE submissions`)
	return translate(err, "analyze")
}

// translate turns driver errors into application errors where they mean
// one, and wraps the rest with what was being done.
func translate(err error, doing string) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return takedown.Errorf(takedown.ENOTFOUND, "%s: not found", doing)
	case errors.As(err, &pe) && pe.Code == "23505":
		return takedown.Errorf(takedown.ECONFLICT, "%s: exists already", doing)
	case takedown.ErrorCode(err) != takedown.EINTERNAL:
		return err
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// ts keeps microseconds, all PostgreSQL stores.
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("encode %T: %v", v, err)) // strings and maps of strings always encode
	}
	return string(b)
}
