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
	// Delivery sends referrals and reads the answers back.
	Delivery *Delivery
	// Verify probes referred items; nil: this process does not probe.
	Verify *Verify
	// Evidence captures items before their referral; nil: this process
	// does not capture.
	Evidence *Evidence
	// Resurgence watches for successors; nil: this process does not.
	Resurgence *Resurgence
	// Search fills the item list's search index.
	Search SearchIndexer
}

// Workers returns every job kind's worker, ready for a queue client.
func Workers(d Deps) *river.Workers {
	w := river.NewWorkers()
	river.AddWorker(w, &AnalyzeWorker{DB: d.DB})
	river.AddWorker(w, &DeliverWorker{D: d.Delivery})
	river.AddWorker(w, &PollWorker{D: d.Delivery})
	river.AddWorker(w, &RemindWorker{D: d.Delivery})
	river.AddWorker(w, &DeadlinesWorker{D: d.Delivery})
	river.AddWorker(w, &ProbeWorker{V: d.Verify})
	river.AddWorker(w, &CaptureWorker{E: d.Evidence})
	river.AddWorker(w, &ResurgenceWorker{R: d.Resurgence})
	river.AddWorker(w, &SearchWorker{Index: d.Search})
	return w
}

// Periodic returns the jobs that run on a schedule. The queue's leader runs
// them, so they run once across a cluster, not once per process.
func Periodic(d Deps) []*river.PeriodicJob {
	ps := []*river.PeriodicJob{analyzePeriodically(), deadlinesPeriodically(), searchPeriodically()}
	if d.Verify != nil {
		ps = append(ps, d.Verify.periodic())
	}
	if d.Evidence != nil {
		ps = append(ps, d.Evidence.periodic())
	}
	if d.Resurgence != nil {
		ps = append(ps, d.Resurgence.periodic())
	}
	return ps
}
