package api

import (
	"net/http"
	"strconv"

	"github.com/takedown-project/takedown"
)

// Verification: the probes of an item, and the operation's figures built
// on them. Whoever sees an operation's items sees what was observed of
// them and the figures.

// listObservations answers an item's observations, newest first.
func (s *Server) listObservations(w http.ResponseWriter, r *http.Request) error {
	op, err := s.operation(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "item")
	if err != nil {
		return err
	}
	it, err := s.store.FindItem(r.Context(), id)
	if err != nil {
		return err
	}
	if it.OperationID != op.ID {
		return takedown.Errorf(takedown.ENOTFOUND, "no item %d in operation %q", id, op.Slug)
	}
	limit := 100
	if l := r.URL.Query().Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit < 1 || limit > takedown.MaxPageSize {
			return takedown.Errorf(takedown.EINVALID, "limit must be a number from 1 to %d, not %q", takedown.MaxPageSize, l)
		}
	}
	obs, err := s.store.ListObservations(r.Context(), id, limit)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"observations": nonNil(obs)})
}

// Figures are an operation's counts and times to removal as of a moment.
type Figures struct {
	Operation string `json:"operation"`
	AsOf      string `json:"as_of"`
	// Preliminary: the operation is still open, and the figures move.
	Preliminary bool `json:"preliminary"`
	// Items counts the items by status; only confirmed_offline counts as
	// taken offline.
	Items map[takedown.ItemStatus]int `json:"items"`
	// TimeToRemoval: from the referral's receipt to the first offline
	// observation of a confirmed removal, per provider and per platform.
	TimeToRemoval struct {
		All        []takedown.RemovalFigure `json:"all"`
		ByProvider []takedown.RemovalFigure `json:"by_provider"`
		ByPlatform []takedown.RemovalFigure `json:"by_platform"`
	} `json:"time_to_removal"`
}

// OperationFigures computes an operation's figures.
func OperationFigures(r *http.Request, st takedown.VerificationService, op *takedown.Operation, now func() string) (*Figures, error) {
	counts, err := st.CountByStatus(r.Context(), op.ID)
	if err != nil {
		return nil, err
	}
	times, err := st.RemovalTimes(r.Context(), op.ID)
	if err != nil {
		return nil, err
	}
	f := &Figures{Operation: op.Slug, AsOf: now(), Preliminary: op.Status == takedown.OperationOpen, Items: counts}
	if f.Items == nil {
		f.Items = map[takedown.ItemStatus]int{}
	}
	f.TimeToRemoval.All = nonNil(takedown.SummarizeRemovalTimes(times, func(takedown.RemovalTime) string { return "all" }))
	f.TimeToRemoval.ByProvider = nonNil(takedown.SummarizeRemovalTimes(times, func(t takedown.RemovalTime) string { return t.Provider }))
	f.TimeToRemoval.ByPlatform = nonNil(takedown.SummarizeRemovalTimes(times, func(t takedown.RemovalTime) string { return string(t.Platform) }))
	return f, nil
}

func (s *Server) operationFigures(w http.ResponseWriter, r *http.Request) error {
	op, err := s.operation(r)
	if err != nil {
		return err
	}
	f, err := OperationFigures(r, s.store, op, func() string { return s.now().UTC().Format("2006-01-02T15:04:05Z") })
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, f)
}
