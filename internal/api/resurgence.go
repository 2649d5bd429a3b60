package api

import (
	"net/http"
	"strconv"

	"github.com/takedown-project/takedown"
)

// Resurgence: the matches of candidates against removed items, their
// review, and the figures. Whoever sees an operation's items sees its
// matches; its analysts and coordinators review them.

func (s *Server) listMatches(w http.ResponseWriter, r *http.Request) error {
	op, err := s.operation(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := takedown.MatchFilter{OperationID: op.ID, State: takedown.MatchState(q.Get("state")), Limit: takedown.DefaultPageSize}
	switch f.State {
	case "", takedown.MatchOpen, takedown.MatchConfirmed, takedown.MatchRejected:
	default:
		return takedown.Errorf(takedown.EINVALID, "state %q: want open, confirmed or rejected", f.State)
	}
	for name, dst := range map[string]*int64{"item": &f.ItemID, "after": &f.AfterID} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return takedown.Errorf(takedown.EINVALID, "%s must be an ID, not %q", name, v)
			}
			*dst = n
		}
	}
	if l := q.Get("limit"); l != "" {
		if f.Limit, err = strconv.Atoi(l); err != nil || f.Limit < 1 || f.Limit > takedown.MaxPageSize {
			return takedown.Errorf(takedown.EINVALID, "limit must be a number from 1 to %d, not %q", takedown.MaxPageSize, l)
		}
	}
	ms, err := s.store.ListMatches(r.Context(), f)
	if err != nil {
		return err
	}
	out := map[string]any{"matches": nonNil(ms)}
	if len(ms) == f.Limit {
		out["next_after"] = ms[len(ms)-1].ID
	}
	return writeJSON(w, http.StatusOK, out)
}

// match finds a match of the operation in the path.
func (s *Server) match(r *http.Request, op *takedown.Operation) (*takedown.Match, error) {
	id, err := pathID(r, "match")
	if err != nil {
		return nil, err
	}
	m, err := s.store.FindMatch(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if m.OperationID != op.ID {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no match %d in operation %q", id, op.Slug)
	}
	return m, nil
}

func (s *Server) getMatch(w http.ResponseWriter, r *http.Request) error {
	op, err := s.operation(r)
	if err != nil {
		return err
	}
	m, err := s.match(r, op)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, m)
}

func (s *Server) reviewMatch(w http.ResponseWriter, r *http.Request) error {
	op, err := s.operation(r)
	if err != nil {
		return err
	}
	a := who(r)
	if !a.MaySubmit(op) {
		return takedown.Errorf(takedown.EFORBIDDEN, "matches are reviewed by analysts and coordinators of a participating agency")
	}
	m, err := s.match(r, op)
	if err != nil {
		return err
	}
	var in takedown.MatchReview
	if err := decode(r, &in); err != nil {
		return err
	}
	in.Agency = a.Agency()
	m, err = s.store.ReviewMatch(r.Context(), m.ID, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, m)
}

func (s *Server) operationResurgence(w http.ResponseWriter, r *http.Request) error {
	op, err := s.operation(r)
	if err != nil {
		return err
	}
	f, err := takedown.OperationResurgence(r.Context(), s.store, op, s.now())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, f)
}
