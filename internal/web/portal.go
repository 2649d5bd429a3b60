package web

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/web/locale"
)

// The provider portal: a provider's liaisons read the batches addressed
// to their provider, acknowledge them and answer per item. They never
// learn who put a batch together, nor that other providers' batches
// exist: those are "not found". Messages link here
// (PortalURL/portal/referrals/ID); a liaison not signed in is sent to the
// login page and back by adapt.

// liaison returns the code of the actor's provider, or EFORBIDDEN for
// anyone who is not a provider's liaison.
func liaison(a *takedown.Actor) (string, error) {
	if a.Local() || a.User == nil || !a.User.Has(takedown.RoleProvider) || a.User.Provider == "" {
		return "", uiErrorf(takedown.EFORBIDDEN, msgPortalOnly)
	}
	return a.User.Provider, nil
}

// pathID reads a positive ID from the path; anything else names nothing
// (notFound says so, with the path's value).
func pathID(r *http.Request, name string, notFound locale.Key) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, uiErrorf(takedown.ENOTFOUND, notFound, r.PathValue(name))
	}
	return id, nil
}

// portalReferral returns the referral of the path if it is addressed to
// the signed-in liaison's provider, else ENOTFOUND, whether it exists or
// not.
func (s *Server) portalReferral(r *http.Request) (*takedown.Actor, *takedown.Referral, error) {
	a, err := actor(r)
	if err != nil {
		return nil, nil, err
	}
	code, err := liaison(a)
	if err != nil {
		return nil, nil, err
	}
	id, err := pathID(r, "id", msgNoReferral)
	if err != nil {
		return nil, nil, err
	}
	ref, err := s.store.FindReferral(r.Context(), id)
	if takedown.ErrorCode(err) == takedown.ENOTFOUND || (err == nil && ref.Provider != code) {
		return nil, nil, uiErrorf(takedown.ENOTFOUND, msgNoReferral, id)
	} else if err != nil {
		return nil, nil, err
	}
	ref.CreatedBy = ""
	return a, ref, nil
}

// referralRow is a referral as the lists show it.
type referralRow struct {
	*takedown.Referral
	Basis           string
	Total, Answered int
	Clock           clock
	// Dead says a delivery is dead-lettered and waits for a person.
	Dead bool
}

func newReferralRow(l *locale.Localizer, ref *takedown.Referral, now time.Time) referralRow {
	row := referralRow{Referral: ref, Basis: labelOf(l, basisLabels, ref.LegalBasis), Clock: clockOf(l, ref, now)}
	for o, n := range ref.Counts {
		row.Total += n
		if o.Final() {
			row.Answered += n
		}
	}
	for _, d := range ref.Deliveries {
		row.Dead = row.Dead || d.State == takedown.DeliveryDead
	}
	return row
}

func (s *Server) portalPage(w http.ResponseWriter, r *http.Request) error {
	a, err := actor(r)
	if err != nil {
		return err
	}
	code, err := liaison(a)
	if err != nil {
		return err
	}
	refs, err := s.store.ListReferrals(r.Context(), takedown.ReferralFilter{Provider: code})
	if err != nil {
		return err
	}
	now, l := s.now(), s.localizer(r)
	rows := make([]referralRow, 0, len(refs))
	for _, ref := range refs {
		ref.CreatedBy = ""
		rows = append(rows, newReferralRow(l, ref, now))
	}
	s.render(w, r, http.StatusOK, "portal", map[string]any{"Provider": code, "Referrals": rows, "Now": now})
	return nil
}

// answerRow is one item of a batch on the portal's page: answered (and
// shown), or open, with what the form holds for it.
type answerRow struct {
	Item                                                    takedown.ReferralItem
	Outcome, Reason, ActedAt, Action, CannotComply, Details string
	Error                                                   string
}

// blank reports whether the row's inputs are all empty: a row left blank
// is skipped.
func (row *answerRow) blank() bool {
	return row.Outcome == "" && strings.TrimSpace(row.Reason) == "" && row.ActedAt == "" && row.Action == "" && row.CannotComply == "" && strings.TrimSpace(row.Details) == ""
}

// answer turns the row into an answer for a referral on basis, or sets
// its Error, in l's language, and returns false.
func (row *answerRow) answer(l *locale.Localizer, basis takedown.LegalBasis) (takedown.ItemAnswer, bool) {
	ans := takedown.ItemAnswer{ItemID: row.Item.ItemID, Outcome: takedown.Outcome(row.Outcome), Reason: strings.TrimSpace(row.Reason)}
	if row.Outcome == "" {
		row.Error = l.T(msgChooseOutcome)
		return ans, false
	}
	if basis == takedown.BasisRemovalOrder && (row.ActedAt != "" || row.Action != "" || row.CannotComply != "" || strings.TrimSpace(row.Details) != "") {
		f := &takedown.OrderFeedback{Action: row.Action, CannotComply: row.CannotComply, Details: strings.TrimSpace(row.Details)}
		if row.ActedAt != "" {
			at, err := parseLocalUTC(row.ActedAt)
			if err != nil {
				row.Error = l.T(msgActedAt)
				return ans, false
			}
			f.ActedAt = &at
		}
		ans.Feedback = f
	}
	if err := ans.Validate(basis); err != nil {
		if takedown.ErrorCode(err) != takedown.EINVALID {
			row.Error = l.T(msgInternal)
		} else {
			row.Error = errorMessage(l, err)
		}
		return ans, false
	}
	return ans, true
}

// parseLocalUTC reads an <input type="datetime-local">, whose value has
// no zone; the form says it is UTC.
func parseLocalUTC(v string) (time.Time, error) {
	var err error
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		var t time.Time
		if t, err = time.ParseInLocation(layout, strings.TrimSpace(v), time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}

func (s *Server) portalReferralPage(w http.ResponseWriter, r *http.Request) error {
	_, ref, err := s.portalReferral(r)
	if err != nil {
		return err
	}
	return s.renderPortalReferral(w, r, ref, r.URL.Query().Get("page"), http.StatusOK, nil, map[string]any{"Done": s.done(r)})
}

// openPerPage bounds the rows of the answer form: a batch may hold
// thousands of items, and a form of them all would be too long to read
// and to post. Answered items leave the form, so the next ones come up.
const openPerPage = 100

// renderPortalReferral shows a batch with a page of its open items; open
// holds the rows of a form sent back with errors, by item.
func (s *Server) renderPortalReferral(w http.ResponseWriter, r *http.Request, ref *takedown.Referral, page string, status int, open map[int64]*answerRow, data map[string]any) error {
	var answered []takedown.ReferralItem
	var pending []*answerRow
	for _, it := range ref.Items {
		if it.Outcome.Final() {
			answered = append(answered, it)
			continue
		}
		row := open[it.ItemID]
		if row == nil {
			row = &answerRow{}
		}
		row.Item = it
		pending = append(pending, row)
	}
	// Items awaiting a first answer before those the provider asked about.
	slices.SortStableFunc(pending, func(a, b *answerRow) int {
		return cmp.Compare(b2i(a.Item.Outcome != takedown.OutcomePending), b2i(b.Item.Outcome != takedown.OutcomePending))
	})
	n, _ := strconv.Atoi(page)
	pages := max(1, (len(pending)+openPerPage-1)/openPerPage)
	n = min(max(n, 1), pages)
	total := len(pending)
	pending = pending[(n-1)*openPerPage : min(n*openPerPage, total)]
	if data == nil {
		data = map[string]any{}
	}
	data["Referral"], data["Row"] = ref, newReferralRow(s.localizer(r), ref, s.now())
	data["Answered"], data["Pending"] = answered, pending
	data["Page"], data["Pages"], data["OpenTotal"] = n, pages, total
	data["OpenFrom"], data["OpenTo"] = (n-1)*openPerPage+1, (n-1)*openPerPage+len(pending)
	data["Outcomes"], data["CannotComply"] = takedown.Outcomes, takedown.CannotComplyReasons
	data["IsOrder"] = ref.LegalBasis == takedown.BasisRemovalOrder
	s.render(w, r, status, "portal_referral", data)
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (s *Server) acknowledge(w http.ResponseWriter, r *http.Request) error {
	_, ref, err := s.portalReferral(r)
	if err != nil {
		return err
	}
	if _, err := s.store.AcknowledgeReferral(r.Context(), ref.ID); err != nil {
		return err
	}
	s.forget(ref.OperationID)
	http.Redirect(w, r, portalPath(ref.ID)+"?done=acknowledged", http.StatusSeeOther)
	return nil
}

func portalPath(id int64) string { return "/portal/referrals/" + strconv.FormatInt(id, 10) }

// answer records the answers of the portal's form: one row per open item,
// rows left blank skipped. Nothing is recorded unless every filled row is
// a valid answer.
func (s *Server) answer(w http.ResponseWriter, r *http.Request) error {
	a, ref, err := s.portalReferral(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return uiErrorf(takedown.EINVALID, msgCannotReadForm, err)
	}
	f := r.PostForm
	items := map[int64]takedown.ReferralItem{}
	for _, it := range ref.Items {
		items[it.ItemID] = it
	}
	l := s.localizer(r)
	rows := map[int64]*answerRow{}
	var answers []takedown.ItemAnswer
	bad := false
	for _, v := range f["item"] {
		id, err := strconv.ParseInt(v, 10, 64)
		it, ok := items[id]
		if err != nil || !ok {
			return uiErrorf(takedown.EINVALID, msgNotInReferral, ref.ID, v)
		}
		if _, seen := rows[id]; seen || it.Outcome.Final() {
			continue // answered meanwhile: a final answer stays
		}
		k := "_" + v
		row := &answerRow{Item: it, Outcome: f.Get("outcome" + k), Reason: f.Get("reason" + k), ActedAt: f.Get("acted_at" + k),
			Action: f.Get("action" + k), CannotComply: f.Get("cannot_comply" + k), Details: f.Get("details" + k)}
		rows[id] = row
		if row.blank() {
			continue
		}
		ans, ok := row.answer(l, ref.LegalBasis)
		bad = bad || !ok
		answers = append(answers, ans)
	}
	again := func(msg string) error {
		return s.renderPortalReferral(w, r, ref, f.Get("page"), http.StatusBadRequest, rows, map[string]any{"Error": msg})
	}
	switch {
	case bad:
		return again(l.T(msgRowsInvalid))
	case len(answers) == 0:
		return again(l.T(msgNothingAnswered))
	}
	if _, err := s.store.AnswerReferral(r.Context(), ref.ID, answers, "provider "+a.User.Provider+" (user "+a.User.Name+")"); err != nil {
		if takedown.ErrorCode(err) == takedown.EINVALID {
			return again(l.T(msgNotRecorded, errorMessage(l, err)))
		}
		return err
	}
	s.forget(ref.OperationID)
	http.Redirect(w, r, portalPath(ref.ID)+"?done=answered", http.StatusSeeOther)
	return nil
}
