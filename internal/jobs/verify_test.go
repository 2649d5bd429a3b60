package jobs

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/takedown-project/takedown"
)

// dueStore hands out due items once and keeps what is recorded.
type dueStore struct {
	takedown.VerificationService // what the round does not use
	mu                           sync.Mutex
	due                          []takedown.ProbeTarget
	recorded                     []takedown.Observation
}

func (s *dueStore) ClaimDueProbes(_ context.Context, _ time.Time, limit int, _ time.Duration) ([]takedown.ProbeTarget, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := min(limit, len(s.due))
	out := s.due[:n]
	s.due = s.due[n:]
	return out, nil
}

func (s *dueStore) RecordObservations(_ context.Context, obs []takedown.Observation, _ takedown.Schedule) ([]takedown.Change, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recorded = append(s.recorded, obs...)
	return make([]takedown.Change, len(obs)), nil
}

// slowProber answers the first half of a batch at once and the rest
// never: its probes hang until their context ends.
type slowProber struct{}

func (slowProber) ProbeBatch(ctx context.Context, targets []takedown.ProbeTarget) ([]takedown.Observation, error) {
	var obs []takedown.Observation
	for _, t := range targets[:len(targets)/2] {
		obs = append(obs, takedown.Observation{ItemID: t.ItemID, At: time.Now(), Verdict: takedown.VerdictOnline})
	}
	<-ctx.Done()
	return obs, ctx.Err()
}

// A process that stops does not wait for a probe round to end: the round
// is cut short, and what its probes saw by then is recorded.
func TestProbeRoundStops(t *testing.T) {
	t.Parallel()
	st := &dueStore{}
	for i := range 10 {
		st.due = append(st.due, takedown.ProbeTarget{ItemID: int64(i + 1), URL: "https://t.me/example"})
	}
	stopping := make(chan struct{})
	v := &Verify{Store: st, Prober: slowProber{}, Schedule: takedown.DefaultSchedule, RoundTime: time.Hour, Stopping: stopping}
	done := make(chan error, 1)
	go func() { done <- (&ProbeWorker{V: v}).Work(context.Background(), &river.Job[ProbeArgs]{}) }()
	time.Sleep(50 * time.Millisecond)
	close(stopping)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("a round cut short by the stop: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the round did not end when the process stopped")
	}
	if len(st.recorded) != 5 {
		t.Errorf("%d observations recorded, want the 5 made before the stop", len(st.recorded))
	}

	// Without a stop, a probe round that fails for its own reasons (here
	// its job's context ends) records nothing and says why.
	st = &dueStore{due: []takedown.ProbeTarget{{ItemID: 1}, {ItemID: 2}}}
	v = &Verify{Store: st, Prober: slowProber{}, Schedule: takedown.DefaultSchedule}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := v.Round(ctx); err == nil || len(st.recorded) != 0 {
		t.Errorf("a round whose job ended: error %v, %d recorded", err, len(st.recorded))
	}
}
