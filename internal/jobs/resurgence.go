package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/takedown-project/takedown/internal/jobkinds"
	"github.com/takedown-project/takedown/internal/resurgence"
)

// Resurgence is how the network's return is watched, built once in cmd:
// a periodic round computes signals from new captures, reads watched
// items again for links to new channels, and matches candidates against
// removed items (internal/resurgence).
type Resurgence struct {
	Watcher *resurgence.Watcher
	// Every is how often a round runs (0: 30 s); RoundTime bounds one
	// (0: 5 min).
	Every     time.Duration
	RoundTime time.Duration
}

// ResurgenceArgs asks for a round; it runs periodically.
type ResurgenceArgs struct{}

func (ResurgenceArgs) Kind() string { return "resurgence.round" }

// InsertOpts: one round at a time across a cluster. The matcher keeps an
// operation's removed items indexed in the memory of the process that
// runs the rounds (the queue's leader inserts them; any worker may take
// one, and a worker new to it builds its index from the database).
func (ResurgenceArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: jobkinds.Unfinished}}
}

// ResurgenceWorker runs a round.
type ResurgenceWorker struct {
	river.WorkerDefaults[ResurgenceArgs]
	R *Resurgence
}

func (w *ResurgenceWorker) Timeout(*river.Job[ResurgenceArgs]) time.Duration {
	if w.R == nil {
		return time.Minute
	}
	return orDefault(w.R.RoundTime, 5*time.Minute)
}

func (w *ResurgenceWorker) Work(ctx context.Context, job *river.Job[ResurgenceArgs]) error {
	if w.R == nil || w.R.Watcher == nil {
		return nil // resurgence is not configured in this process
	}
	_, err := w.R.Watcher.Round(ctx)
	return err
}

func (r *Resurgence) periodic() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(orDefault(r.Every, 30*time.Second)),
		func() (river.JobArgs, *river.InsertOpts) { return ResurgenceArgs{}, nil },
		&river.PeriodicJobOpts{ID: "resurgence.round", RunOnStart: true})
}
