package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/takedown-project/takedown/internal/jobqueue"
	"github.com/takedown-project/takedown/internal/metrics"
)

// newInserter returns a client that only inserts jobs: any process may
// enqueue, whether or not it works jobs.
func newInserter(write *sql.DB) (*river.Client[*sql.Tx], error) {
	return river.NewClient(riversqlite.New(write), &river.Config{Logger: slog.New(slog.DiscardHandler)})
}

// jobQueue is the River client that works jobs in this process.
type jobQueue struct {
	client *river.Client[*sql.Tx]
}

// StartJobs starts working jobs with the given workers until StopJobs.
func (db *DB) StartJobs(ctx context.Context, cfg jobqueue.Config) error {
	if db.jobs != nil {
		return fmt.Errorf("job queue is running already")
	}
	client, err := river.NewClient(riversqlite.New(db.write), cfg.RiverConfig())
	if err != nil {
		return fmt.Errorf("job queue: %w", err)
	}
	if err := client.Start(ctx); err != nil {
		return fmt.Errorf("start job queue: %w", err)
	}
	db.jobs = &jobQueue{client: client}
	return nil
}

// StopJobs stops fetching jobs and waits for the running ones to finish
// (or ctx to end, when they are cancelled and retried later).
func (db *DB) StopJobs(ctx context.Context) error {
	if db.jobs == nil {
		return nil
	}
	err := db.jobs.client.Stop(ctx)
	if err != nil {
		err = db.jobs.client.StopAndCancel(context.Background())
	}
	db.jobs = nil
	return err
}

// Transact runs f in a write transaction in which enqueue inserts jobs:
// they exist exactly when the transaction commits. f's error rolls back and
// is returned as it is.
func (db *DB) Transact(ctx context.Context, f func(enqueue func(river.JobArgs) error) error) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		return f(func(args river.JobArgs) error {
			_, err := db.inserter.InsertTx(ctx, tx, args, nil)
			return err
		})
	})
}

// Enqueue adds one job.
func (db *DB) Enqueue(ctx context.Context, args river.JobArgs) error {
	return db.Transact(ctx, func(enqueue func(river.JobArgs) error) error { return enqueue(args) })
}

// JobCounts returns the queue's unfinished jobs by kind and state: its
// depth, for the metrics.
func (db *DB) JobCounts(ctx context.Context) ([]metrics.JobCount, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT kind, state, count(*) FROM river_job
		WHERE state IN ('available', 'scheduled', 'running', 'retryable', 'pending') GROUP BY kind, state ORDER BY kind, state`)
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	defer rows.Close()
	var out []metrics.JobCount
	for rows.Next() {
		var c metrics.JobCount
		if err := rows.Scan(&c.Kind, &c.State, &c.Count); err != nil {
			return nil, fmt.Errorf("count jobs: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
