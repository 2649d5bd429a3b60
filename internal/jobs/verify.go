package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/jobkinds"
	"github.com/takedown-project/takedown/internal/metrics"
)

// Prober observes items (internal/probe): a batch at a time, fairly
// across hosts and within each host's limits; observations in the
// targets' order.
type Prober interface {
	ProbeBatch(ctx context.Context, targets []takedown.ProbeTarget) ([]takedown.Observation, error)
}

// Verify is how referred items are probed, built once in cmd.
type Verify struct {
	Store  takedown.VerificationService
	Prober Prober
	// Schedule says when items are probed and when a removal counts as
	// confirmed.
	Schedule takedown.Schedule
	// Every is how often the queue looks for due probes; 0 means 10 s.
	Every time.Duration
	// Batch is how many due items are claimed at once (0: 500); the
	// prober's global and per-host limits apply within.
	Batch int
	// RoundTime bounds one round of probing; 0 means 2 min. What is left
	// is due and taken by the next round.
	RoundTime time.Duration
	Now       func() time.Time
	// Stopping, when closed, ends a round early: its probes in flight are
	// cut short and what was observed by then is recorded, so that a
	// process shutting down does not wait for a round to end. The items
	// not probed stay leased to the round and are due again when their
	// lease runs out.
	Stopping <-chan struct{}
	// Metrics counts the probes' verdicts; nil keeps none.
	Metrics *metrics.Metrics
}

func (v *Verify) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verify) every() time.Duration {
	if v.Every > 0 {
		return v.Every
	}
	return 10 * time.Second
}

// lease is how long claimed items stay away from other rounds: longer
// than a round, so that a round that dies leaves them due again soon after.
func (v *Verify) lease() time.Duration { return v.roundTime() + time.Minute }

func (v *Verify) roundTime() time.Duration {
	if v.RoundTime > 0 {
		return v.RoundTime
	}
	return 2 * time.Minute
}

// ProbeArgs asks for the due probes to be made; it runs periodically.
type ProbeArgs struct{}

func (ProbeArgs) Kind() string { return "probe.due" }

// InsertOpts: one round at a time.
func (ProbeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: jobkinds.Unfinished}}
}

// ProbeWorker makes the probes that are due: it claims due items in
// batches, probes them, and records what it saw, until nothing is due or
// its round time is up.
type ProbeWorker struct {
	river.WorkerDefaults[ProbeArgs]
	V *Verify
}

func (w *ProbeWorker) Timeout(*river.Job[ProbeArgs]) time.Duration {
	return w.V.roundTime() + time.Minute
}

func (w *ProbeWorker) Work(ctx context.Context, job *river.Job[ProbeArgs]) error {
	v := w.V
	if v == nil || v.Prober == nil {
		return nil // verification is not configured in this process
	}
	end := time.Now().Add(v.roundTime())
	for time.Now().Before(end) {
		n, err := v.Round(ctx)
		if err != nil {
			return err
		}
		if n == 0 || v.stopping() {
			return nil
		}
	}
	return nil
}

func (v *Verify) stopping() bool {
	select {
	case <-v.Stopping:
		return true
	default:
		return false
	}
}

// Round claims one batch of due items, probes them and records the
// observations; it returns how many it probed.
func (v *Verify) Round(ctx context.Context) (int, error) {
	batch := v.Batch
	if batch <= 0 {
		batch = 500
	}
	targets, err := v.Store.ClaimDueProbes(ctx, v.now(), batch, v.lease())
	if err != nil || len(targets) == 0 {
		return 0, err
	}
	probing, stop := context.WithCancel(ctx)
	defer stop()
	if v.Stopping != nil {
		go func() {
			select {
			case <-v.Stopping:
				stop()
			case <-probing.Done():
			}
		}()
	}
	obs, err := v.Prober.ProbeBatch(probing, targets)
	if err != nil && (ctx.Err() != nil || !v.stopping()) {
		return 0, err
	}
	// Cut short by the process stopping: keep what was seen.
	if _, err := v.Store.RecordObservations(ctx, obs, v.Schedule); err != nil {
		return 0, fmt.Errorf("record %d observations: %w", len(obs), err)
	}
	for _, o := range obs {
		v.Metrics.Probe(string(o.Verdict))
	}
	return len(obs), nil
}

func (v *Verify) periodic() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(v.every()),
		func() (river.JobArgs, *river.InsertOpts) { return ProbeArgs{}, nil },
		&river.PeriodicJobOpts{ID: "probe.due", RunOnStart: true})
}
