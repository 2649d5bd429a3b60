// Package jobqueue is the configuration both storage backends give their
// job queue (riverqueue/river), so a worker behaves the same on SQLite and
// on PostgreSQL.
package jobqueue

import (
	"log/slog"
	"time"

	"github.com/riverqueue/river"
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
		JobTimeout:   time.Hour,
	}
	if c.FetchPoll > 0 {
		rc.FetchPollInterval = c.FetchPoll
		rc.FetchCooldown = min(c.FetchPoll, rc.FetchPollInterval)
	}
	return rc
}
