package jobqueue

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	t.Parallel()
	b := Backoff{Base: time.Second, Max: time.Minute, rand: func() float64 { return 0.999999 }}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute, time.Minute}
	for i, w := range want {
		if got := b.Delay(i + 1); got < w*99/100 || got > w {
			t.Errorf("attempt %d: %v, want about %v", i+1, got, w)
		}
	}
	low := Backoff{Base: time.Second, Max: time.Minute, rand: func() float64 { return 0 }}
	if got := low.Delay(3); got != 2*time.Second {
		t.Errorf("the least jitter halves the wait: %v, want 2s", got)
	}
	if got := (Backoff{}).Delay(1); got < 5*time.Second || got > 10*time.Second {
		t.Errorf("defaults: %v, want 5-10 s", got)
	}
}
