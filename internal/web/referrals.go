package web

import (
	"net/http"
	neturl "net/url"
	"strconv"

	"github.com/takedown-project/takedown"
)

// The coordinators' view of an operation's referrals: batches with their
// deliveries and answers, dead letters to send again, and the queue of
// items no provider was found for. Auditors read all of it and change
// nothing; an operation's analysts are refused (403), and anyone who may
// not see the operation learns nothing of it (404).

// coordinated returns the operation of the path if the actor may read its
// referrals, and whether it may also change them.
func (s *Server) coordinated(r *http.Request) (*takedown.Actor, *takedown.Operation, bool, error) {
	a, err := actor(r)
	if err != nil {
		return nil, nil, false, err
	}
	slug := r.PathValue("slug")
	op, err := s.store.FindOperation(r.Context(), slug)
	if err != nil {
		return nil, nil, false, err
	}
	if !a.MaySeeOperation(op) {
		return nil, nil, false, uiErrorf(takedown.ENOTFOUND, msgNoOperation, slug)
	}
	if !a.MayCoordinate(op) && !a.SeesAll() {
		return nil, nil, false, uiErrorf(takedown.EFORBIDDEN, msgCoordinatorsOnly)
	}
	return a, op, a.MayCoordinate(op), nil
}

// opReferral returns referral id if it belongs to op, else ENOTFOUND.
func (s *Server) opReferral(r *http.Request, op *takedown.Operation) (*takedown.Referral, error) {
	id, err := pathID(r, "id", msgNoReferral)
	if err != nil {
		return nil, err
	}
	ref, err := s.store.FindReferral(r.Context(), id)
	if takedown.ErrorCode(err) == takedown.ENOTFOUND || (err == nil && ref.OperationID != op.ID) {
		return nil, uiErrorf(takedown.ENOTFOUND, msgNoReferralIn, id, op.Slug)
	}
	return ref, err
}

func opPath(op *takedown.Operation, rest string) string {
	return "/operations/" + neturl.PathEscape(op.Slug) + rest
}

func (s *Server) referralsPage(w http.ResponseWriter, r *http.Request) error {
	_, op, may, err := s.coordinated(r)
	if err != nil {
		return err
	}
	return s.renderReferrals(w, r, op, may, http.StatusOK, map[string]any{"Done": s.done(r)})
}

func (s *Server) renderReferrals(w http.ResponseWriter, r *http.Request, op *takedown.Operation, may bool, status int, data map[string]any) error {
	refs, err := s.store.ListReferrals(r.Context(), takedown.ReferralFilter{OperationID: op.ID})
	if err != nil {
		return err
	}
	now, l := s.now(), s.localizer(r)
	rows := make([]referralRow, 0, len(refs))
	for _, ref := range refs {
		rows = append(rows, newReferralRow(l, ref, now))
	}
	data["Operation"], data["Referrals"], data["MayChange"] = op, rows, may
	s.render(w, r, status, "referrals", data)
	return nil
}

func (s *Server) referralPage(w http.ResponseWriter, r *http.Request) error {
	_, op, may, err := s.coordinated(r)
	if err != nil {
		return err
	}
	ref, err := s.opReferral(r, op)
	if err != nil {
		return err
	}
	return s.renderReferral(w, r, op, ref, may, http.StatusOK, map[string]any{"Done": s.done(r)})
}

func (s *Server) renderReferral(w http.ResponseWriter, r *http.Request, op *takedown.Operation, ref *takedown.Referral, may bool, status int, data map[string]any) error {
	data["Operation"], data["Referral"], data["Row"], data["MayChange"] = op, ref, newReferralRow(s.localizer(r), ref, s.now()), may
	data["IsOrder"] = ref.LegalBasis == takedown.BasisRemovalOrder
	s.render(w, r, status, "referral", data)
	return nil
}

// redeliver sends a dead-lettered delivery again; a delivery that is not
// dead (or is queued still) is a conflict, shown on the page it came from.
func (s *Server) redeliver(w http.ResponseWriter, r *http.Request) error {
	a, op, may, err := s.coordinated(r)
	if err != nil {
		return err
	}
	if !may {
		return uiErrorf(takedown.EFORBIDDEN, msgReadOnly)
	}
	ref, err := s.opReferral(r, op)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return uiErrorf(takedown.EINVALID, msgCannotReadForm, err)
	}
	fromDetail := r.PostForm.Get("from") == "referral"
	err = s.store.RedeliverReferral(r.Context(), ref.ID, takedown.Channel(r.PostForm.Get("channel")), "user "+a.User.Name)
	if code := takedown.ErrorCode(err); code == takedown.ECONFLICT || code == takedown.ENOTFOUND {
		status := http.StatusConflict
		if code == takedown.ENOTFOUND {
			status = http.StatusBadRequest
		}
		data := map[string]any{"Error": errorMessage(s.localizer(r), err)}
		if fromDetail {
			return s.renderReferral(w, r, op, ref, may, status, data)
		}
		return s.renderReferrals(w, r, op, may, status, data)
	} else if err != nil {
		return err
	}
	back := opPath(op, "/referrals")
	if fromDetail {
		back += "/" + strconv.FormatInt(ref.ID, 10)
	}
	http.Redirect(w, r, back+"?done=redelivered", http.StatusSeeOther)
	return nil
}

// --- the unattributed queue ---

func (s *Server) unattributedPage(w http.ResponseWriter, r *http.Request) error {
	_, op, may, err := s.coordinated(r)
	if err != nil {
		return err
	}
	return s.renderUnattributed(w, r, op, may, r.URL.Query().Get("cursor"), http.StatusOK, map[string]any{"Done": s.done(r)})
}

func (s *Server) renderUnattributed(w http.ResponseWriter, r *http.Request, op *takedown.Operation, may bool, cursor string, status int, data map[string]any) error {
	page, err := s.store.ListItems(r.Context(), takedown.ItemFilter{OperationID: op.ID, Unattributed: true, Cursor: cursor})
	if err != nil {
		return err
	}
	var providers []*takedown.Provider
	if may {
		if providers, err = s.store.ListProviders(r.Context()); err != nil {
			return err
		}
	}
	data["Operation"], data["Items"], data["Cursor"], data["NextCursor"] = op, page.Items, cursor, page.NextCursor
	data["Providers"], data["MayChange"] = providers, may
	s.render(w, r, status, "unattributed", data)
	return nil
}

// attribute sends an item of the queue to a provider by hand.
func (s *Server) attribute(w http.ResponseWriter, r *http.Request) error {
	a, op, may, err := s.coordinated(r)
	if err != nil {
		return err
	}
	if !may {
		return uiErrorf(takedown.EFORBIDDEN, msgReadOnly)
	}
	if err := r.ParseForm(); err != nil {
		return uiErrorf(takedown.EINVALID, msgCannotReadForm, err)
	}
	f := r.PostForm
	cursor := f.Get("cursor")
	if cursor != "" {
		if _, err := takedown.DecodeCursor(cursor); err != nil {
			cursor = ""
		}
	}
	l := s.localizer(r)
	again := func(msg string) error {
		return s.renderUnattributed(w, r, op, may, cursor, http.StatusBadRequest, map[string]any{"Error": msg})
	}
	id, err := strconv.ParseInt(f.Get("item"), 10, 64)
	if err != nil || id <= 0 {
		return again(l.T(msgChooseQueueItem))
	}
	if _, err := s.itemIn(r, op, id); takedown.ErrorCode(err) == takedown.ENOTFOUND {
		return again(l.T(msgNoQueueItem, id))
	} else if err != nil {
		return err
	}
	code := f.Get("provider")
	if code == "" {
		return again(l.T(msgChooseProvider, id))
	}
	if _, err := s.store.FindProvider(r.Context(), code); takedown.ErrorCode(err) == takedown.ENOTFOUND {
		return again(l.T(msgNoProvider, code))
	} else if err != nil {
		return err
	}
	err = s.store.SetAttributions(r.Context(), []takedown.ItemAttribution{{ItemID: id, Provider: code, Via: "by hand (user " + a.User.Name + ")"}})
	if takedown.ErrorCode(err) == takedown.EINVALID {
		return again(errorMessage(l, err))
	} else if err != nil {
		return err
	}
	s.forget(op.ID)
	q := neturl.Values{"done": {"attributed"}}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	http.Redirect(w, r, opPath(op, "/unattributed")+"?"+q.Encode(), http.StatusSeeOther)
	return nil
}
