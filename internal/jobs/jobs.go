// Package jobs holds takedown's background job kinds and their workers, one
// file each. Jobs run on the durable queue (riverqueue/river) in the same
// database as the data, on SQLite and on PostgreSQL alike: a job enqueued
// in the transaction of a change exists exactly when the change does.
package jobs

import (
	"github.com/riverqueue/river"
)

// Deps is what the workers need from the rest of the program.
type Deps struct {
	DB Analyzer
}

// Workers returns every job kind's worker, ready for a queue client.
func Workers(d Deps) *river.Workers {
	w := river.NewWorkers()
	river.AddWorker(w, &AnalyzeWorker{DB: d.DB})
	return w
}

// Periodic returns the jobs that run on a schedule. The queue's leader runs
// them, so they run once across a cluster, not once per process.
func Periodic() []*river.PeriodicJob {
	return []*river.PeriodicJob{analyzePeriodically()}
}
