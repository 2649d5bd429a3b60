package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/takedown-project/takedown/internal/jobqueue"
	"github.com/takedown-project/takedown/internal/jobs"
	"github.com/takedown-project/takedown/internal/metrics"
)

func newWorkerCommand(g *globals) *cobra.Command {
	q := &queueOptions{}
	delivery := &deliveryOptions{}
	probes := &probeOptions{}
	captures := &captureOptions{}
	watch := &watchOptions{}
	mo := &metricsOptions{}
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Work background jobs until interrupted",
		Long: `worker works the durable job queue in the database --db names, and nothing
else, until it is interrupted; then it lets running jobs finish (up to 30 s)
and stops. Run as many as the work needs, on as many machines as share the
PostgreSQL database; each job runs once, and periodic jobs run once across
all of them.

Workers deliver referrals: by e-mail through the mail server --smtp-host
names, to providers' webhooks and APIs, each retried with growing pauses
and dead-lettered after --delivery-attempts tries. Give every worker and
serve process the same delivery flags. They also capture items before
their referral (--captures), probe referred items (--probes), watch for the
successors of removed channels (--watch: signals from captures, watched
pages read again, matching), fill the item list's search index, and
refresh the query planner's statistics.`,
		Args: cobra.NoArgs,
		RunE: withDatabase(g, func(cmd *cobra.Command, args []string, db database) error {
			d, err := delivery.build(db, "127.0.0.1:8080")
			if err != nil {
				return err
			}
			m := metrics.New(db, g.logger)
			d.Metrics = m
			probes.simnet = delivery.simnet
			v, err := probes.verify(db)
			if err != nil {
				return err
			}
			if v != nil {
				v.Metrics = m
			}
			stopMetrics, _, err := serveMetrics(g.logger, mo.listen, m, db)
			if err != nil {
				return err
			}
			defer stopMetrics()
			ev, err := captures.evidenceJob(g, db, probes)
			if err != nil {
				return err
			}
			rs, err := watch.job(g, db, probes)
			if err != nil {
				return err
			}
			stop, err := startJobs(cmd.Context(), g, db, q, jobs.Deps{Delivery: d, Verify: v, Evidence: ev, Resurgence: rs})
			if err != nil {
				return err
			}
			g.logger.Info("working jobs", "db", redactDSN(g.db), "concurrency", q.concurrency, "deliveries", delivery.describe(), "probes", probes.describe())
			<-cmd.Context().Done()
			g.logger.Info("stopping: letting running jobs finish")
			return stop()
		}),
	}
	q.register(cmd.Flags())
	delivery.register(cmd.Flags())
	probes.register(cmd.Flags(), true)
	captures.registerCapture(cmd.Flags(), true)
	watch.register(cmd.Flags(), true)
	mo.register(cmd.Flags())
	return cmd
}

// startJobs starts working every job kind in db's queue and returns the
// function that stops it gracefully.
// queueOptions are how a process works the queue.
type queueOptions struct {
	concurrency         int
	retryBase, retryMax time.Duration
	rescueAfter         time.Duration
}

func (q *queueOptions) register(f *pflag.FlagSet) {
	f.IntVar(&q.concurrency, "concurrency", 10, "jobs worked at once")
	f.DurationVar(&q.retryBase, "retry-base", 10*time.Second, "the pause after a job's first failure; it doubles with each further one, with jitter")
	f.DurationVar(&q.retryMax, "retry-max", time.Hour, "the longest pause between tries")
	f.DurationVar(&q.rescueAfter, "rescue-after", jobqueue.DefaultRescueAfter, "a job running this long was abandoned by a process that died, and runs again (longer than any job takes)")
}

func startJobs(ctx context.Context, g *globals, db database, q *queueOptions, deps jobs.Deps) (stop func() error, err error) {
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
	// Closed when the process stops: a probe round ends early instead of
	// holding the shutdown up.
	stopping := make(chan struct{})
	if deps.Verify != nil {
		deps.Verify.Stopping = stopping
	}
	if deps.Evidence != nil {
		deps.Evidence.Stopping = stopping
	}
	deps.DB = db
	deps.Search = db
	cfg := jobqueue.Config{
		Workers:     jobs.Workers(deps),
		Periodic:    jobs.Periodic(deps),
		MaxWorkers:  q.concurrency,
		RetryBase:   q.retryBase,
		RetryMax:    q.retryMax,
		RescueAfter: q.rescueAfter,
		Logger:      queueLogger.With("component", "jobs"),
	}
	// The queue outlives ctx's cancellation by design: stopping is the
	// caller's, after ctx ends.
	if err := db.StartJobs(context.WithoutCancel(ctx), cfg); err != nil {
		return nil, err
	}
	return func() error {
		close(stopping)
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return db.StopJobs(stopCtx)
	}, nil
}
