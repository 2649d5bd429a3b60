package web

import (
	"net/http"
	neturl "net/url"
	"slices"
	"strconv"

	"github.com/takedown-project/takedown"
)

// Resurgence: the matches of candidates against an operation's removed
// items, for whoever sees its items; its analysts and coordinators
// confirm or reject them. Every match shows the signals that made it, so
// that an analyst judges the pair, not a number.

// signalRow is one signal of a match, strongest first.
type signalRow struct {
	Name  string
	Value float64
}

// matchRow is a match as the page shows it.
type matchRow struct {
	*takedown.Match
	SignalRows []signalRow
}

func matchRows(ms []*takedown.Match) []matchRow {
	out := make([]matchRow, len(ms))
	for i, m := range ms {
		r := matchRow{Match: m}
		for n, v := range m.Signals {
			r.SignalRows = append(r.SignalRows, signalRow{n, v})
		}
		slices.SortFunc(r.SignalRows, func(a, b signalRow) int {
			if a.Value != b.Value {
				if a.Value > b.Value {
					return -1
				}
				return 1
			}
			if a.Name < b.Name {
				return -1
			}
			return 1
		})
		out[i] = r
	}
	return out
}

func (s *Server) matchesPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderMatches(w, r, http.StatusOK, map[string]any{"Done": s.done(r)})
}

func (s *Server) renderMatches(w http.ResponseWriter, r *http.Request, status int, extra map[string]any) error {
	a, op, err := s.visible(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	state := takedown.MatchState(q.Get("state"))
	switch state {
	case takedown.MatchOpen, takedown.MatchConfirmed, takedown.MatchRejected:
	case "":
		state = takedown.MatchOpen
	default:
		return uiErrorf(takedown.EINVALID, msgMatchState, state)
	}
	after, _ := strconv.ParseInt(q.Get("after"), 10, 64)
	ms, err := s.store.ListMatches(r.Context(), takedown.MatchFilter{OperationID: op.ID, State: state, AfterID: max(after, 0), Limit: 100})
	if err != nil {
		return err
	}
	next := int64(0)
	if len(ms) == 100 {
		next = ms[len(ms)-1].ID
	}
	res, err := takedown.OperationResurgence(r.Context(), s.store, op, s.now())
	if err != nil {
		return err
	}
	data := map[string]any{"Operation": op, "Matches": matchRows(ms), "State": string(state), "Next": next, "After": after,
		"MayReview": a.MaySubmit(op), "Resurgence": res, "States": []string{"open", "confirmed", "rejected"}}
	for k, v := range extra {
		data[k] = v
	}
	s.render(w, r, status, "matches", data)
	return nil
}

func (s *Server) reviewMatch(w http.ResponseWriter, r *http.Request) error {
	a, op, err := s.visible(r)
	if err != nil {
		return err
	}
	if !a.MaySubmit(op) {
		return uiErrorf(takedown.EFORBIDDEN, msgAnalystsReview)
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return uiErrorf(takedown.ENOTFOUND, msgNoMatch, r.PathValue("id"))
	}
	m, err := s.store.FindMatch(r.Context(), id)
	if takedown.ErrorCode(err) == takedown.ENOTFOUND || (err == nil && m.OperationID != op.ID) {
		return uiErrorf(takedown.ENOTFOUND, msgNoMatchIn, id, op.Slug)
	} else if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return uiErrorf(takedown.EINVALID, msgCannotReadForm, err)
	}
	review := takedown.MatchReview{State: takedown.MatchState(r.PostForm.Get("state")), Note: r.PostForm.Get("note"), Agency: a.Agency()}
	_, err = s.store.ReviewMatch(r.Context(), m.ID, review)
	switch takedown.ErrorCode(err) {
	case "":
	case takedown.EINVALID, takedown.ECONFLICT:
		return s.renderMatches(w, r, http.StatusBadRequest, map[string]any{"Error": s.localizer(r).T(msgMatchError, m.ID, errorMessage(s.localizer(r), err))})
	default:
		return err
	}
	s.forget(op.ID)
	http.Redirect(w, r, opPath(op, "/matches")+"?"+neturl.Values{"done": {string(review.State)}}.Encode(), http.StatusSeeOther)
	return nil
}
