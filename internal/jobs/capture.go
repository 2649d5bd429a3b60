package jobs

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/jobkinds"
)

// Capturer captures an item (internal/evidence).
type Capturer interface {
	Capture(ctx context.Context, t takedown.CaptureTarget) (*takedown.Capture, error)
}

// Evidence is how items are captured before their referral, built once
// in cmd: a periodic job takes the items that operations asking for
// evidence still need captured, and tries failed captures again.
type Evidence struct {
	Store    takedown.EvidenceService
	Capturer Capturer
	// Attempts is how many times an item is tried in all (0: 3), and
	// RetryAfter the wait after a failed try (0: 10 min).
	Attempts   int
	RetryAfter time.Duration
	// Every is how often the queue looks for due captures (0: 10 s);
	// Batch how many are read at once (0: 200), Concurrency how many run
	// at once (0: 8; the prober's per-host limits apply within);
	// RoundTime bounds one round (0: 2 min).
	Every       time.Duration
	Batch       int
	Concurrency int
	RoundTime   time.Duration
	// Stopping, when closed, ends a round after its captures in flight.
	Stopping <-chan struct{}
	Now      func() time.Time
}

func (e *Evidence) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// CaptureArgs asks for the due captures to be made; it runs periodically.
type CaptureArgs struct{}

func (CaptureArgs) Kind() string { return "evidence.due" }

// InsertOpts: one round at a time across a cluster, so that no item is
// captured twice at once.
func (CaptureArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: jobkinds.Unfinished}}
}

// CaptureWorker makes the due captures.
type CaptureWorker struct {
	river.WorkerDefaults[CaptureArgs]
	E *Evidence
}

func (w *CaptureWorker) Timeout(*river.Job[CaptureArgs]) time.Duration {
	if w.E == nil {
		return time.Minute
	}
	return orDefault(w.E.RoundTime, 2*time.Minute) + time.Minute
}

func (w *CaptureWorker) Work(ctx context.Context, job *river.Job[CaptureArgs]) error {
	if w.E == nil || w.E.Capturer == nil {
		return nil // captures are not configured in this process
	}
	_, err := w.E.Round(ctx)
	return err
}

// Round captures due items until none is left, its time is up or the
// process stops; it returns how many it captured.
func (e *Evidence) Round(ctx context.Context) (int, error) {
	end := e.now().Add(orDefault(e.RoundTime, 2*time.Minute))
	policy := takedown.CapturePolicy{Attempts: orDefault(e.Attempts, 3), RetryBefore: e.now().Add(-orDefault(e.RetryAfter, 10*time.Minute))}
	done, after := 0, int64(0)
	for e.now().Before(end) && !e.stopping() {
		due, err := e.Store.DueCaptures(ctx, policy, after, orDefault(e.Batch, 200))
		if err != nil || len(due) == 0 {
			return done, err
		}
		after = due[len(due)-1].ItemID
		n, err := e.captureAll(ctx, due)
		done += n
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

func (e *Evidence) stopping() bool {
	select {
	case <-e.Stopping:
		return true
	default:
		return false
	}
}

// captureAll captures targets, Concurrency at a time, and records each.
func (e *Evidence) captureAll(ctx context.Context, targets []takedown.CaptureTarget) (int, error) {
	work := make(chan takedown.CaptureTarget)
	var mu sync.Mutex
	var firstErr error
	done := 0
	var wg sync.WaitGroup
	for range orDefault(e.Concurrency, 8) {
		wg.Go(func() {
			for t := range work {
				c, err := e.Capturer.Capture(ctx, t)
				if err == nil {
					err = e.Store.RecordCapture(ctx, c)
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("capture of item %d: %w", t.ItemID, err)
				}
				if err == nil {
					done++
				}
				mu.Unlock()
			}
		})
	}
	for _, t := range targets {
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed || e.stopping() || ctx.Err() != nil {
			break
		}
		work <- t
	}
	close(work)
	wg.Wait()
	return done, firstErr
}

func (e *Evidence) periodic() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(orDefault(e.Every, 10*time.Second)),
		func() (river.JobArgs, *river.InsertOpts) { return CaptureArgs{}, nil },
		&river.PeriodicJobOpts{ID: "evidence.due", RunOnStart: true})
}
