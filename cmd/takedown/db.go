package main

import (
	"context"
	"net/url"

	"github.com/riverqueue/river"
	"github.com/spf13/cobra"
	"strings"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/jobqueue"
	"github.com/takedown-project/takedown/internal/metrics"
	"github.com/takedown-project/takedown/internal/postgres"
	"github.com/takedown-project/takedown/internal/sqlite"
)

// database is a storage backend as the commands use it: the domain store
// plus schema migration.
type database interface {
	takedown.Store
	Migrate(ctx context.Context) error
	StartJobs(ctx context.Context, cfg jobqueue.Config) error
	StopJobs(ctx context.Context) error
	Enqueue(ctx context.Context, args river.JobArgs) error
	Analyze(ctx context.Context) error
	// JobCounts reads the queue's depth, for the metrics.
	JobCounts(ctx context.Context) ([]metrics.JobCount, error)
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// openDatabase opens the database --db names. The embedded SQLite default
// is brought up to date on open, so a laptop user never runs migrate; a
// shared PostgreSQL is migrated only on request (`takedown migrate`, or
// `serve --migrate`), because several versions of takedown may point at it
// during an upgrade.
func openDatabase(ctx context.Context, g *globals) (database, error) {
	if isPostgres(g.db) {
		return postgres.Open(ctx, g.db)
	}
	db, err := sqlite.Open(ctx, g.db)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// migrate brings the schema up to date and gives a new database the
// built-in provider directory.
func migrate(ctx context.Context, db database) error {
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	return seedDirectory(ctx, db)
}

// redactDSN hides the password of a database URL for logs.
func redactDSN(dsn string) string {
	if !isPostgres(dsn) {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://(unparseable)"
	}
	return u.Redacted()
}

// withDatabase makes a command body that runs with the database --db names
// open, and closes it afterwards.
func withDatabase(g *globals, f func(cmd *cobra.Command, args []string, db database) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		db, err := openDatabase(cmd.Context(), g)
		if err != nil {
			return err
		}
		defer db.Close()
		return f(cmd, args, db)
	}
}
