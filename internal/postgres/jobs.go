package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/takedown-project/takedown/internal/jobqueue"
	"github.com/takedown-project/takedown/internal/metrics"
)

// StartJobs starts working jobs with the given workers until StopJobs.
// Any number of processes may work the same queue; periodic jobs run on
// the elected leader only.
func (db *DB) StartJobs(ctx context.Context, cfg jobqueue.Config) error {
	if db.jobs != nil {
		return fmt.Errorf("job queue is running already")
	}
	client, err := river.NewClient(riverpgxv5.New(db.pool), cfg.RiverConfig())
	if err != nil {
		return fmt.Errorf("job queue: %w", err)
	}
	if err := client.Start(ctx); err != nil {
		return fmt.Errorf("start job queue: %w", err)
	}
	db.jobs = client
	return nil
}

// StopJobs stops fetching jobs and waits for the running ones to finish
// (or ctx to end, when they are cancelled and retried later).
func (db *DB) StopJobs(ctx context.Context) error {
	if db.jobs == nil {
		return nil
	}
	err := db.jobs.Stop(ctx)
	if err != nil {
		err = db.jobs.StopAndCancel(context.Background())
	}
	db.jobs = nil
	return err
}

// Transact runs f in a transaction in which enqueue inserts jobs: they
// exist exactly when the transaction commits. f's error rolls back and is
// returned as it is.
func (db *DB) Transact(ctx context.Context, f func(enqueue func(river.JobArgs) error) error) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
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
	rows, err := db.pool.Query(ctx, `SELECT kind, state::text, count(*) FROM river_job
		WHERE state IN ('available', 'scheduled', 'running', 'retryable', 'pending') GROUP BY kind, state ORDER BY kind, state`)
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	var out []metrics.JobCount
	var c metrics.JobCount
	if _, err := pgx.ForEachRow(rows, []any{&c.Kind, &c.State, &c.Count}, func() error { out = append(out, c); return nil }); err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	return out, nil
}
