// Package jobqueue is the configuration both storage backends give their
// job queue (riverqueue/river), so a worker behaves the same on SQLite and
// on PostgreSQL.
package jobqueue

import (
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Config says which jobs a process works and how many at once.
type Config struct {
	Workers    *river.Workers
	Periodic   []*river.PeriodicJob
	MaxWorkers int // jobs worked at once; 0 means 10
	Logger     *slog.Logger
	// FetchPoll is how often an idle queue looks for jobs; 0 means River's
	// default. Tests shorten it.
	FetchPoll time.Duration
	// RetryBase is the wait after a job's first failure; each further
	// failure doubles it, up to RetryMax, with jitter. 0 means 10 s and
	// 1 h. Tests shorten it.
	RetryBase, RetryMax time.Duration
	// RescueAfter is how long a job may stay running before it counts as
	// abandoned by a process that died (kill -9, a lost machine) and is
	// run again; 0 means 10 min. It bounds every job's time, so it must
	// exceed the longest job. The queue's leader looks every 30 s.
	RescueAfter time.Duration
}

// DefaultRescueAfter is RescueAfter's default.
const DefaultRescueAfter = 10 * time.Minute

// Backoff is exponential backoff with jitter: after attempt n (1, 2, ...)
// a job waits between half and all of base·2^(n-1), at most max. The
// jitter keeps many jobs that failed together (a provider down) from
// coming back together.
type Backoff struct {
	Base, Max time.Duration
	// rand returns a number in [0, 1); nil means math/rand/v2.
	rand func() float64
}

func (b Backoff) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(b.Delay(job.Attempt))
}

// Delay is the wait after the given attempt.
func (b Backoff) Delay(attempt int) time.Duration {
	base, max := b.Base, b.Max
	if base <= 0 {
		base = 10 * time.Second
	}
	if max <= 0 {
		max = time.Hour
	}
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	r := b.rand
	if r == nil {
		r = rand.Float64
	}
	return time.Duration(float64(d) * (0.5 + r()/2))
}

// RiverConfig turns c into River's configuration.
func (c Config) RiverConfig() *river.Config {
	n := c.MaxWorkers
	if n <= 0 {
		n = 10
	}
	logger := c.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	rc := &river.Config{
		Queues:       map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: n}},
		Workers:      c.Workers,
		PeriodicJobs: c.Periodic,
		Logger:       logger,
		RetryPolicy:  Backoff{Base: c.RetryBase, Max: c.RetryMax},
	}
	rc.RescueStuckJobsAfter = c.RescueAfter
	if rc.RescueStuckJobsAfter <= 0 {
		rc.RescueStuckJobsAfter = DefaultRescueAfter
	}
	// A job still running when it would be rescued would run twice.
	rc.JobTimeout = rc.RescueStuckJobsAfter
	if c.FetchPoll > 0 {
		rc.FetchPollInterval = c.FetchPoll
		rc.FetchCooldown = min(c.FetchPoll, rc.FetchPollInterval)
	}
	return rc
}
