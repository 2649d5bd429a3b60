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
	if _, err := s.itemIn(r, op, id); err != nil {
		return err
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

func (s *Server) operationFigures(w http.ResponseWriter, r *http.Request) error {
	op, err := s.operation(r)
	if err != nil {
		return err
	}
	f, err := takedown.OperationFigures(r.Context(), s.store, op, s.now())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, f)
}

// listCaptures answers an item's evidence captures, newest first.
func (s *Server) listCaptures(w http.ResponseWriter, r *http.Request) error {
	op, err := s.operation(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "item")
	if err != nil {
		return err
	}
	if _, err := s.itemIn(r, op, id); err != nil {
		return err
	}
	caps, err := s.store.ListCaptures(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"captures": caps})
}
