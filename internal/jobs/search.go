package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/takedown-project/takedown/internal/jobkinds"
)

// SearchIndexer fills the index behind the item list's text search
// (takedown.ItemService.IndexSearch).
type SearchIndexer interface {
	IndexSearch(ctx context.Context, limit int) (int, error)
}

// SearchArgs asks for the items not yet in the search index to be added;
// it runs periodically, behind the imports (an index kept in the import's
// transaction would slow every import down).
type SearchArgs struct{}

func (SearchArgs) Kind() string { return "search.index" }

// InsertOpts: one at a time across a cluster.
func (SearchArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: jobkinds.Unfinished}}
}

// SearchWorker indexes what is due, in batches, for up to a minute.
type SearchWorker struct {
	river.WorkerDefaults[SearchArgs]
	Index SearchIndexer
}

func (w *SearchWorker) Timeout(*river.Job[SearchArgs]) time.Duration { return 2 * time.Minute }

func (w *SearchWorker) Work(ctx context.Context, job *river.Job[SearchArgs]) error {
	if w.Index == nil {
		return nil
	}
	end := time.Now().Add(time.Minute)
	for time.Now().Before(end) {
		n, err := w.Index.IndexSearch(ctx, 10000)
		if err != nil || n == 0 {
			return err
		}
	}
	return nil
}

func searchPeriodically() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(10*time.Second),
		func() (river.JobArgs, *river.InsertOpts) { return SearchArgs{}, nil },
		&river.PeriodicJobOpts{ID: "search.index", RunOnStart: true})
}
