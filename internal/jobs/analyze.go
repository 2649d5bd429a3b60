package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
)

// Analyzer refreshes the query planner's statistics of the item tables.
// After a large import the planner of either database may otherwise keep
// scanning the wrong index for filtered item lists, and a list that took
// milliseconds takes seconds at a million items.
type Analyzer interface {
	Analyze(ctx context.Context) error
}

// AnalyzeArgs asks for a statistics refresh. Imports enqueue one when they
// finish; a periodic one catches everything else.
type AnalyzeArgs struct{}

func (AnalyzeArgs) Kind() string { return "db.analyze" }

// InsertOpts makes requests within the same minute one job: ten imports
// finishing together need one refresh, not ten.
func (AnalyzeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: time.Minute}}
}

// AnalyzeWorker runs AnalyzeArgs jobs.
type AnalyzeWorker struct {
	river.WorkerDefaults[AnalyzeArgs]
	DB Analyzer
}

func (w *AnalyzeWorker) Work(ctx context.Context, job *river.Job[AnalyzeArgs]) error {
	if err := w.DB.Analyze(ctx); err != nil {
		return fmt.Errorf("refresh planner statistics: %w", err)
	}
	return nil
}

// Timeout bounds one refresh; ANALYZE of a few million rows takes seconds.
func (w *AnalyzeWorker) Timeout(*river.Job[AnalyzeArgs]) time.Duration { return 10 * time.Minute }

func analyzePeriodically() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(6*time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return AnalyzeArgs{}, nil },
		&river.PeriodicJobOpts{ID: "db.analyze"})
}
