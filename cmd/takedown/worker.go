package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/takedown-project/takedown/internal/jobqueue"
	"github.com/takedown-project/takedown/internal/jobs"
)

func newWorkerCommand(g *globals) *cobra.Command {
	var concurrency int
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Work background jobs until interrupted",
		Long: `worker works the durable job queue in the database --db names, and nothing
else, until it is interrupted; then it lets running jobs finish (up to 30 s)
and stops. Run as many as the work needs, on as many machines as share the
PostgreSQL database; each job runs once, and periodic jobs run once across
all of them.`,
		Args: cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			stop, err := startJobs(cmd.Context(), g, db, concurrency)
			if err != nil {
				return err
			}
			g.logger.Info("working jobs", "db", redactDSN(g.db), "concurrency", concurrency)
			<-cmd.Context().Done()
			g.logger.Info("stopping: letting running jobs finish")
			return stop()
		}),
	}
	cmd.Flags().IntVar(&concurrency, "concurrency", 10, "jobs worked at once")
	return cmd
}

// startJobs starts working every job kind in db's queue and returns the
// function that stops it gracefully.
func startJobs(ctx context.Context, g *globals, db database, concurrency int) (stop func() error, err error) {
	// The queue reports every few seconds at info level; an operator
	// wants its warnings, and its chatter only when debugging.
	level := "warn"
	if g.logLevel == "debug" {
		level = "debug"
	}
	queueLogger, err := newLogger(g.stderr, level, g.logFormat)
	if err != nil {
		return nil, err
	}
	cfg := jobqueue.Config{
		Workers:    jobs.Workers(jobs.Deps{DB: db}),
		Periodic:   jobs.Periodic(),
		MaxWorkers: concurrency,
		Logger:     queueLogger.With("component", "jobs"),
	}
	// The queue outlives ctx's cancellation by design: stopping is the
	// caller's, after ctx ends.
	if err := db.StartJobs(context.WithoutCancel(ctx), cfg); err != nil {
		return nil, err
	}
	return func() error {
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return db.StopJobs(stopCtx)
	}, nil
}
