package simnet

import (
	"sync"
	"time"
)

// Clock is the scenario's time: it starts at the scenario's start and runs
// TimeScale times faster than real time, so that removal delays of hours
// play out in minutes. Tests (and the control API) move it forward by hand.
type Clock struct {
	mu        sync.Mutex
	start     time.Time // scenario time at realStart
	realStart time.Time
	scale     float64
	offset    time.Duration // added by Advance
	real      func() time.Time
}

// NewClock returns a clock at start running scale times real time.
func NewClock(start time.Time, scale float64) *Clock {
	return newClockAt(start, scale, time.Now)
}

func newClockAt(start time.Time, scale float64, real func() time.Time) *Clock {
	return &Clock{start: start.UTC(), realStart: real(), scale: scale, real: real}
}

// Now returns the scenario time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at(c.real())
}

func (c *Clock) at(real time.Time) time.Time {
	elapsed := time.Duration(float64(real.Sub(c.realStart)) * c.scale)
	return c.start.Add(elapsed + c.offset).Truncate(time.Microsecond)
}

// Advance moves scenario time forward by d.
func (c *Clock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// RealUntil returns how long, in real time, until scenario time t; zero
// when t has passed.
func (c *Clock) RealUntil(t time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := t.Sub(c.at(c.real()))
	if d <= 0 {
		return 0
	}
	return time.Duration(float64(d) / c.scale)
}

// Scale returns how many scenario seconds pass per real second.
func (c *Clock) Scale() float64 { return c.scale }
