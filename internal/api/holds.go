package api

import (
	"net/http"
	"time"

	"github.com/takedown-project/takedown"
)

// Holds: an agency's analysts and coordinators place and end their own
// agency's holds; the operation's coordinators (and auditors) see every
// hold and may end any; other agencies see none of them, only that items
// are held.

type holdInput struct {
	Scope    takedown.HoldScope  `json:"scope"`
	ItemID   int64               `json:"item_id"`
	Platform takedown.Platform   `json:"platform"`
	Handle   string              `json:"handle"`
	Pattern  string              `json:"pattern"`
	Reason   takedown.HoldReason `json:"reason"`
	Note     string              `json:"note"`
	// Days the hold runs; 0 means 30.
	Days int `json:"days"`
}

func (s *Server) listHolds(w http.ResponseWriter, r *http.Request) error {
	op, err := s.operation(r)
	if err != nil {
		return err
	}
	a := who(r)
	f := takedown.HoldFilter{OperationID: op.ID}
	if !a.SeesAll() && !a.MayCoordinate(op) {
		f.Agency = a.Agency() // an agency's own holds only
	}
	if r.URL.Query().Get("active") == "true" {
		f.ActiveAt = s.now()
	}
	hs, err := s.store.ListHolds(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"holds": nonNil(hs)})
}

func (s *Server) placeHold(w http.ResponseWriter, r *http.Request) error {
	op, err := s.operation(r)
	if err != nil {
		return err
	}
	a := who(r)
	if !a.MaySubmit(op) {
		return takedown.Errorf(takedown.EFORBIDDEN, "holds are placed by analysts and coordinators of a participating agency")
	}
	var in holdInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Days == 0 {
		in.Days = int(takedown.DefaultHoldDuration.Hours() / 24)
	}
	if err := holdDays(in.Days); err != nil {
		return err
	}
	h := &takedown.Hold{OperationID: op.ID, Agency: a.Agency(), Scope: in.Scope, ItemID: in.ItemID, Platform: in.Platform, Handle: in.Handle,
		Pattern: in.Pattern, Reason: in.Reason, Note: in.Note, ExpiresAt: s.now().Add(time.Duration(in.Days) * 24 * time.Hour)}
	if err := s.store.PlaceHold(r.Context(), h); err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/operations/"+op.Slug+"/holds/"+itoa(h.ID))
	return writeJSON(w, http.StatusCreated, h)
}

// holdDays checks a hold's run in days before it becomes a duration.
func holdDays(days int) error {
	if max := int(takedown.MaxHoldDuration.Hours() / 24); days < 0 || days > max {
		return takedown.Errorf(takedown.EINVALID, "days must be 1 to %d", max)
	}
	return nil
}

// hold returns the hold of the request's path if the actor may see it:
// its agency's, or any for coordinators and auditors.
func (s *Server) hold(r *http.Request) (*takedown.Operation, *takedown.Hold, error) {
	op, err := s.operation(r)
	if err != nil {
		return nil, nil, err
	}
	id, err := pathID(r, "hold")
	if err != nil {
		return nil, nil, err
	}
	h, err := s.store.FindHold(r.Context(), id)
	if err != nil {
		return nil, nil, err
	}
	if h.OperationID != op.ID || !who(r).MaySeeHold(op, h) {
		return nil, nil, takedown.Errorf(takedown.ENOTFOUND, "no hold %d in operation %q", id, op.Slug)
	}
	return op, h, nil
}

func (s *Server) getHold(w http.ResponseWriter, r *http.Request) error {
	_, h, err := s.hold(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, h)
}

// mayEndHold: the holder's analysts and coordinators, and the operation's
// coordinators; auditors see but change nothing.
func mayEndHold(a *takedown.Actor, op *takedown.Operation, h *takedown.Hold) error {
	if a.MayCoordinate(op) || (a.MaySubmit(op) && a.Agency() == h.Agency) {
		return nil
	}
	return takedown.Errorf(takedown.EFORBIDDEN, "only the holding agency and the coordinators renew or release a hold")
}

func (s *Server) renewHold(w http.ResponseWriter, r *http.Request) error {
	op, h, err := s.hold(r)
	if err != nil {
		return err
	}
	if err := mayEndHold(who(r), op, h); err != nil {
		return err
	}
	var in struct {
		Days int `json:"days"`
	}
	if r.ContentLength != 0 { // all of it is optional: no body renews for 30 days
		if err := decode(r, &in); err != nil {
			return err
		}
	}
	if in.Days == 0 {
		in.Days = int(takedown.DefaultHoldDuration.Hours() / 24)
	}
	if err := holdDays(in.Days); err != nil {
		return err
	}
	h, err = s.store.RenewHold(r.Context(), h.ID, s.now().Add(time.Duration(in.Days)*24*time.Hour))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, h)
}

func (s *Server) releaseHold(w http.ResponseWriter, r *http.Request) error {
	op, h, err := s.hold(r)
	if err != nil {
		return err
	}
	if err := mayEndHold(who(r), op, h); err != nil {
		return err
	}
	if h, err = s.store.ReleaseHold(r.Context(), h.ID); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, h)
}

// --- notifications ---

// notificationFilter is what the actor may read of an operation's
// notifications: its agency's, and the coordinators' for coordinators and
// auditors.
func notificationFilter(a *takedown.Actor, op *takedown.Operation) takedown.NotificationFilter {
	return takedown.NotificationFilter{OperationID: op.ID, Agency: a.Agency(), Coordinators: a.MayCoordinate(op), All: a.SeesAll()}
}

func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request) error {
	op, err := s.operation(r)
	if err != nil {
		return err
	}
	f := notificationFilter(who(r), op)
	f.Unread = r.URL.Query().Get("unread") == "true"
	ns, err := s.store.ListNotifications(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"notifications": nonNil(ns)})
}

func (s *Server) readNotification(w http.ResponseWriter, r *http.Request) error {
	op, err := s.operation(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "notification")
	if err != nil {
		return err
	}
	a := who(r)
	n, err := s.store.FindNotification(r.Context(), id)
	if err != nil {
		return err
	}
	f := notificationFilter(a, op)
	mine := n.OperationID == op.ID && (f.All || (n.Agency != "" && n.Agency == f.Agency) || (n.Agency == "" && f.Coordinators))
	if !mine {
		return takedown.Errorf(takedown.ENOTFOUND, "no notification %d", id)
	}
	if a.SeesAll() && !a.MayCoordinate(op) {
		return takedown.Errorf(takedown.EFORBIDDEN, "auditors change nothing")
	}
	if n, err = s.store.MarkNotificationRead(r.Context(), id); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, n)
}
