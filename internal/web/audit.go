package web

import (
	"net/http"
	"strconv"

	"github.com/takedown-project/takedown"
)

// The audit chain in the UI, for auditors: its events page by page, and
// whether the whole chain verifies against the head the store keeps.

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) error {
	a, err := actor(r)
	if err != nil {
		return err
	}
	if !a.Has(takedown.RoleAuditor) {
		return uiErrorf(takedown.EFORBIDDEN, msgAuditorsOnly)
	}
	q := r.URL.Query()
	f := takedown.AuditFilter{Operation: q.Get("operation"), Subject: q.Get("subject"), Limit: 100}
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return uiErrorf(takedown.EINVALID, msgAuditAfter, v)
		}
		f.AfterSeq = n
	}
	evs, err := s.store.ListAudit(r.Context(), f)
	if err != nil {
		return err
	}
	data := map[string]any{"Events": evs, "Filter": f}
	if len(evs) == f.Limit {
		data["Next"] = evs[len(evs)-1].Seq
	}
	if q.Get("verify") == "1" {
		head, n, err := takedown.VerifyAudit(r.Context(), s.store)
		data["Verified"] = true
		data["Head"], data["Count"] = head, n
		if err != nil {
			data["Broken"] = errorMessage(s.localizer(r), err)
		}
	}
	s.render(w, r, http.StatusOK, "audit", data)
	return nil
}
