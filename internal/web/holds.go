package web

import (
	"net/http"
	neturl "net/url"
	"strconv"
	"time"

	"github.com/takedown-project/takedown"
)

// Deconfliction holds in the UI: an agency's analysts place them (on an
// item from its page, or on a handle or a URL pattern here), renew and
// release them; coordinators and auditors see every hold of the
// operation, an agency its own. Whoever submitted a held item is told
// only that it is held (the notices of the home page).

func (s *Server) holdsPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderHolds(w, r, http.StatusOK, map[string]any{"Done": s.done(r)})
}

func (s *Server) renderHolds(w http.ResponseWriter, r *http.Request, status int, extra map[string]any) error {
	a, op, err := s.visible(r)
	if err != nil {
		return err
	}
	f := takedown.HoldFilter{OperationID: op.ID}
	if !a.SeesAll() && !a.MayCoordinate(op) {
		f.Agency = a.Agency()
	}
	hs, err := s.store.ListHolds(r.Context(), f)
	if err != nil {
		return err
	}
	now := s.now()
	type holdRow struct {
		*takedown.Hold
		State string
		Mine  bool
	}
	rows := make([]holdRow, 0, len(hs))
	for _, h := range hs {
		rows = append(rows, holdRow{Hold: h, State: h.State(now), Mine: h.Agency == a.Agency()})
	}
	data := map[string]any{"Operation": op, "Holds": rows, "MayPlace": a.MaySubmit(op), "Reasons": takedown.HoldReasons, "Platforms": takedown.Platforms,
		"AllOfThem": a.SeesAll() || a.MayCoordinate(op), "Agency": a.Agency()}
	for k, v := range extra {
		data[k] = v
	}
	s.render(w, r, status, "holds", data)
	return nil
}

// placeHold places a hold from the holds page or an item's page.
func (s *Server) placeHold(w http.ResponseWriter, r *http.Request) error {
	a, op, err := s.visible(r)
	if err != nil {
		return err
	}
	if !a.MaySubmit(op) {
		return uiErrorf(takedown.EFORBIDDEN, msgAnalystsHold)
	}
	if err := r.ParseForm(); err != nil {
		return uiErrorf(takedown.EINVALID, msgCannotReadForm, err)
	}
	f := r.PostForm
	days, err := strconv.Atoi(f.Get("days"))
	if err != nil || days < 1 || days > int(takedown.MaxHoldDuration.Hours()/24) {
		days = -1
	}
	h := &takedown.Hold{OperationID: op.ID, Agency: a.Agency(), Scope: takedown.HoldScope(f.Get("scope")), Reason: takedown.HoldReason(f.Get("reason")),
		Note: f.Get("note"), Pattern: f.Get("pattern"), ExpiresAt: s.now().Add(time.Duration(days) * 24 * time.Hour)}
	switch h.Scope {
	case takedown.HoldItem:
		h.ItemID, _ = strconv.ParseInt(f.Get("item"), 10, 64)
	case takedown.HoldHandle:
		h.Platform, h.Handle = takedown.Platform(f.Get("platform")), f.Get("handle")
	}
	back := opPath(op, "/holds")
	if h.Scope == takedown.HoldItem && h.ItemID > 0 {
		back = opPath(op, "/items/"+strconv.FormatInt(h.ItemID, 10))
	}
	if days < 0 {
		return s.renderHolds(w, r, http.StatusBadRequest, map[string]any{"Error": s.localizer(r).T(msgHoldDays)})
	}
	if err := s.store.PlaceHold(r.Context(), h); takedown.ErrorCode(err) == takedown.EINVALID {
		return s.renderHolds(w, r, http.StatusBadRequest, map[string]any{"Error": errorMessage(s.localizer(r), err)})
	} else if err != nil {
		return err
	}
	s.forget(op.ID)
	http.Redirect(w, r, back+"?"+neturl.Values{"done": {"held"}}.Encode(), http.StatusSeeOther)
	return nil
}

// releaseHold ends one of the actor's agency's holds (a coordinator's
// of any agency).
func (s *Server) releaseHold(w http.ResponseWriter, r *http.Request) error {
	a, op, err := s.visible(r)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return uiErrorf(takedown.ENOTFOUND, msgNoHold, r.PathValue("id"))
	}
	h, err := s.store.FindHold(r.Context(), id)
	if takedown.ErrorCode(err) == takedown.ENOTFOUND || (err == nil && h.OperationID != op.ID) {
		return uiErrorf(takedown.ENOTFOUND, msgNoHoldIn, id, op.Slug)
	} else if err != nil {
		return err
	}
	if !a.MaySubmit(op) || (h.Agency != a.Agency() && !a.MayCoordinate(op)) {
		return uiErrorf(takedown.EFORBIDDEN, msgHolderReleases)
	}
	if _, err := s.store.ReleaseHold(r.Context(), id); err != nil {
		return err
	}
	s.forget(op.ID)
	http.Redirect(w, r, opPath(op, "/holds")+"?done=released", http.StatusSeeOther)
	return nil
}
