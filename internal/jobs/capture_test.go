package jobs

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/takedown-project/takedown"
)

// evidenceStore hands out due items page by page, as the store does
// (after an ID), and keeps what is recorded.
type evidenceStore struct {
	takedown.EvidenceService // what the round does not use
	mu                       sync.Mutex
	due                      []takedown.CaptureTarget
	recorded                 []*takedown.Capture
	policy                   takedown.CapturePolicy
}

func (s *evidenceStore) DueCaptures(_ context.Context, p takedown.CapturePolicy, after int64, limit int) ([]takedown.CaptureTarget, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.policy = p
	var out []takedown.CaptureTarget
	for _, t := range s.due {
		if t.ItemID > after && len(out) < limit {
			out = append(out, t)
		}
	}
	return out, nil
}

func (s *evidenceStore) RecordCapture(_ context.Context, c *takedown.Capture) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recorded = append(s.recorded, c)
	return nil
}

type fakeCapturer struct {
	fail  int64 // the item whose capture errs
	delay time.Duration
}

func (f fakeCapturer) Capture(ctx context.Context, t takedown.CaptureTarget) (*takedown.Capture, error) {
	if t.ItemID == f.fail {
		return nil, errors.New("the evidence store is full")
	}
	select {
	case <-time.After(f.delay):
	case <-ctx.Done():
	}
	return &takedown.Capture{ItemID: t.ItemID, At: time.Now(), URL: t.URL, State: takedown.CaptureFailed, Reason: takedown.CaptureNetwork}, nil
}

func TestCaptureRound(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	st := &evidenceStore{}
	for i := range 25 {
		st.due = append(st.due, takedown.CaptureTarget{ItemID: int64(i + 1), URL: "https://t.me/example"})
	}
	e := &Evidence{Store: st, Capturer: fakeCapturer{}, Batch: 10, Concurrency: 4, Now: func() time.Time { return now }}
	n, err := e.Round(context.Background())
	if err != nil || n != 25 || len(st.recorded) != 25 {
		t.Fatalf("a round: %d captured, %d recorded, %v", n, len(st.recorded), err)
	}
	if st.policy.Attempts != 3 || !st.policy.RetryBefore.Equal(now.Add(-10*time.Minute)) {
		t.Errorf("the retry policy asked of the store: %+v", st.policy)
	}

	// A capture that cannot be recorded ends the round with its error.
	st = &evidenceStore{due: st.due}
	e = &Evidence{Store: st, Capturer: fakeCapturer{fail: 3}, Batch: 10, Concurrency: 1}
	if _, err := e.Round(context.Background()); err == nil {
		t.Error("a failing capture did not end the round")
	}

	// A stopping process ends the round after the captures in flight.
	st = &evidenceStore{due: st.due}
	stopping := make(chan struct{})
	e = &Evidence{Store: st, Capturer: fakeCapturer{delay: 50 * time.Millisecond}, Batch: 10, Concurrency: 2, Stopping: stopping}
	time.AfterFunc(60*time.Millisecond, func() { close(stopping) })
	start := time.Now()
	n, err = e.Round(context.Background())
	if err != nil || n == 0 || n >= 25 || time.Since(start) > 5*time.Second {
		t.Errorf("a round cut short: %d captured in %s, %v", n, time.Since(start), err)
	}
}
