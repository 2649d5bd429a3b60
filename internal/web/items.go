package web

import (
	"net/http"
	neturl "net/url"
	"strconv"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/evidence"
	"github.com/takedown-project/takedown/internal/web/locale"
)

// An operation's page, its items and an item's page: what every member
// of the operation sees (analysts of its agencies, its coordinators, and
// auditors), redacted as the API redacts it. Provider liaisons have the
// portal, not these.

// visible returns the operation of the path if the actor may see it; an
// operation it may not see is not found, whether it exists or not.
func (s *Server) visible(r *http.Request) (*takedown.Actor, *takedown.Operation, error) {
	a, err := actor(r)
	if err != nil {
		return nil, nil, err
	}
	slug := r.PathValue("slug")
	op, err := s.store.FindOperation(r.Context(), slug)
	if takedown.ErrorCode(err) == takedown.ENOTFOUND || (err == nil && !a.MaySeeOperation(op)) {
		return nil, nil, uiErrorf(takedown.ENOTFOUND, msgNoOperation, slug)
	}
	return a, op, err
}

// statusRow is one line of an operation's counts by status.
type statusRow struct {
	Status takedown.ItemStatus
	Label  string
	Count  int
}

func (s *Server) operationPage(w http.ResponseWriter, r *http.Request) error {
	a, op, err := s.visible(r)
	if err != nil {
		return err
	}
	rep, err := s.report(r.Context(), op)
	if err != nil {
		return err
	}
	l := s.localizer(r)
	rows := make([]statusRow, 0, len(takedown.ItemStatuses))
	for _, st := range takedown.ItemStatuses {
		rows = append(rows, statusRow{st, labelOf(l, statusLabels, st), rep.ByStatus[st]})
	}
	// While the operation is open the page reloads itself every half
	// minute (no script needed); ?live=0 stops it, for reading at leisure.
	refresh, live := 0, r.URL.Query().Get("live") != "0"
	if rep.Preliminary && live {
		refresh = 30
	}
	s.render(w, r, http.StatusOK, "operation", map[string]any{
		"Operation": op, "Figures": rep, "Statuses": rows, "Total": rep.Items, "Resurgence": rep.Resurgence,
		"Breakdown": breakdownTables(l, op, rep), "Charts": operationCharts(rep), "Refresh": refresh, "Live": live,
		"Referrals": a.MayCoordinate(op) || a.SeesAll(),
	})
	return nil
}

func (s *Server) itemsPage(w http.ResponseWriter, r *http.Request) error {
	a, op, err := s.visible(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := takedown.ItemFilter{
		OperationID: op.ID, Status: takedown.ItemStatus(q.Get("status")), Platform: takedown.Platform(q.Get("platform")),
		Kind: takedown.Kind(q.Get("kind")), Agency: q.Get("agency"), Unattributed: q.Get("unattributed") == "true",
		Provider: q.Get("provider"), Text: q.Get("q"), Cursor: q.Get("cursor"), Limit: 100,
	}
	page, err := s.store.ListItems(r.Context(), f)
	if err != nil {
		return err
	}
	for _, it := range page.Items {
		a.Redact(op, it)
	}
	next := ""
	if page.NextCursor != "" {
		nq := neturl.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("cursor", page.NextCursor)
		next = opPath(op, "/items?"+nq.Encode())
	}
	s.render(w, r, http.StatusOK, "items", map[string]any{
		"Operation": op, "Items": page.Items, "Next": next, "Filter": f,
		"Statuses": takedown.ItemStatuses, "Platforms": takedown.Platforms,
	})
	return nil
}

func (s *Server) itemPage(w http.ResponseWriter, r *http.Request) error {
	a, op, err := s.visible(r)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return uiErrorf(takedown.ENOTFOUND, msgNoItem, r.PathValue("id"), op.Slug)
	}
	it, err := s.itemIn(r, op, id)
	if err != nil {
		return err
	}
	a.Redact(op, it)
	v, err := s.store.FindVerification(r.Context(), it.ID)
	if err != nil {
		return err
	}
	obs, err := s.store.ListObservations(r.Context(), it.ID, 200)
	if err != nil {
		return err
	}
	caps, err := s.store.ListCaptures(r.Context(), it.ID)
	if err != nil {
		return err
	}
	// The item's place in the network's chains: the removed items it may
	// succeed, and the candidates that may succeed it.
	ms, err := s.store.ListMatches(r.Context(), takedown.MatchFilter{ItemID: it.ID, Limit: takedown.MaxPageSize})
	if err != nil {
		return err
	}
	var predecessors, successors []*takedown.Match
	for _, m := range ms {
		if m.SuccessorID == it.ID {
			predecessors = append(predecessors, m)
		} else {
			successors = append(successors, m)
		}
	}
	// The referral trail and the audit trail, for those who see the
	// operation's referrals and its audit: its coordinators and auditors.
	type trailRow struct {
		*takedown.Referral
		Outcome takedown.Outcome
	}
	var trail []trailRow
	var events []*takedown.AuditEvent
	overseer := a.MayCoordinate(op) || a.SeesAll()
	if overseer {
		refs, err := s.store.ListReferrals(r.Context(), takedown.ReferralFilter{ItemID: it.ID})
		if err != nil {
			return err
		}
		for _, ref := range refs {
			full, err := s.store.FindReferral(r.Context(), ref.ID)
			if err != nil {
				return err
			}
			row := trailRow{Referral: full}
			for _, ri := range full.Items {
				if ri.ItemID == it.ID {
					row.Outcome = ri.Outcome
				}
			}
			trail = append(trail, row)
		}
	}
	// The audit chain is the auditors' (as in the API).
	auditor := a.SeesAll()
	if auditor {
		if events, err = s.store.ListAudit(r.Context(), takedown.AuditFilter{Subject: "item:" + strconv.FormatInt(it.ID, 10), Limit: 200}); err != nil {
			return err
		}
	}
	l := s.localizer(r)
	ttr := ""
	if d, ok := v.TimeToRemoval(); ok {
		ttr = humanDuration(l, d)
	}
	s.render(w, r, http.StatusOK, "item", map[string]any{
		"Operation": op, "Item": it, "Verification": v, "TimeToRemoval": ttr, "Observations": obs,
		"StatusLabel": labelOf(l, statusLabels, v.Status), "Captures": caps,
		"Predecessors": matchRows(predecessors), "Successors": matchRows(successors),
		"Overseer": overseer, "Auditor": auditor, "Trail": trail, "Events": events, "MayHold": a.MaySubmit(op), "Reasons": takedown.HoldReasons,
		"Done": s.done(r),
	})
	return nil
}

// itemIn returns item id of op: an item of no operation, or of another,
// is not found.
func (s *Server) itemIn(r *http.Request, op *takedown.Operation, id int64) (*takedown.Item, error) {
	it, err := s.store.FindItem(r.Context(), id)
	if takedown.ErrorCode(err) == takedown.ENOTFOUND || (err == nil && it.OperationID != op.ID) {
		return nil, uiErrorf(takedown.ENOTFOUND, msgNoItem, id, op.Slug)
	}
	return it, err
}

// capture returns the capture of the path, of the item of the path, of
// an operation the actor sees.
func (s *Server) capture(r *http.Request) (*takedown.Operation, *takedown.Item, *takedown.Capture, error) {
	_, op, err := s.visible(r)
	if err != nil {
		return nil, nil, nil, err
	}
	id, err1 := strconv.ParseInt(r.PathValue("id"), 10, 64)
	cid, err2 := strconv.ParseInt(r.PathValue("capture"), 10, 64)
	if err1 != nil || err2 != nil {
		return nil, nil, nil, uiErrorf(takedown.ENOTFOUND, msgNoCapture)
	}
	it, err := s.itemIn(r, op, id)
	if err != nil {
		return nil, nil, nil, err
	}
	caps, err := s.store.ListCaptures(r.Context(), id)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, c := range caps {
		if c.ID == cid {
			if c.Location == "" {
				return nil, nil, nil, uiErrorf(takedown.ENOTFOUND, msgCaptureNoFile, cid, c.Reason)
			}
			if s.evidence == nil {
				return nil, nil, nil, uiErrorf(takedown.EUNAVAILABLE, msgNoEvidenceStore)
			}
			return op, it, c, nil
		}
	}
	return nil, nil, nil, uiErrorf(takedown.ENOTFOUND, msgNoCaptureOfItem, cid, id)
}

// capturePage shows a capture as data: each answer's headers, the text
// of its page, its images. Nothing of the captured page runs.
func (s *Server) capturePage(w http.ResponseWriter, r *http.Request) error {
	op, it, c, err := s.capture(r)
	if err != nil {
		return err
	}
	v, err := evidence.ReadView(r.Context(), s.evidence, c.Location)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "capture", map[string]any{"Operation": op, "Item": it, "Capture": c, "View": v})
	return nil
}

func (s *Server) captureImage(w http.ResponseWriter, r *http.Request) error {
	_, _, c, err := s.capture(r)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil {
		return uiErrorf(takedown.ENOTFOUND, msgNoImage, r.PathValue("n"))
	}
	body, ct, err := evidence.ReadResource(r.Context(), s.evidence, c.Location, n)
	if err != nil {
		return takedown.Errorf(takedown.ENOTFOUND, "%v", err)
	}
	evidence.ServeImage(w, body, ct)
	return nil
}

var (
	msgDurationSeconds = key("duration.seconds", "seconds")
	msgDurationMinutes = key("duration.minutes", "minutes", "seconds")
	msgDurationHours   = key("duration.hours", "hours", "minutes")
	msgDurationDays    = key("duration.days", "days", "hours")
)

// humanDuration says a duration the way a report would: "3 h 12 min",
// "2 d 4 h", "45 s".
func humanDuration(l *locale.Localizer, d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return l.T(msgDurationSeconds, int(d.Seconds()))
	case d < time.Hour:
		return l.T(msgDurationMinutes, int(d.Minutes()), int(d.Seconds())%60)
	case d < 24*time.Hour:
		return l.T(msgDurationHours, int(d.Hours()), int(d.Minutes())%60)
	}
	return l.T(msgDurationDays, int(d.Hours())/24, int(d.Hours())%24)
}

// seconds says a figure given in seconds.
func seconds(l *locale.Localizer, s int64) string {
	return humanDuration(l, time.Duration(s)*time.Second)
}

// breakdownRow is one group of a breakdown table.
type breakdownRow struct {
	Group, Link                           string
	Total, Offline, Referred, NotReferred int
}

// breakdownTable is one dimension of an operation's breakdown; Dimension
// and Title are said in the page's language.
type breakdownTable struct {
	Dimension, Title string
	Rows             []breakdownRow
}

var msgNoProviderYet = key("operation.no_provider_yet")

// breakdownTables groups a report's breakdown by dimension, each group
// with its link to the items behind it.
func breakdownTables(l *locale.Localizer, op *takedown.Operation, rep *takedown.Report) []breakdownTable {
	var out []breakdownTable
	for _, dim := range takedown.Dimensions {
		t := breakdownTable{Dimension: labelOf(l, dimensionLabels, dim), Title: labelOf(l, dimensionTitles, dim)}
		index := map[string]int{}
		for _, b := range rep.Breakdown {
			if b.Dimension != dim {
				continue
			}
			i, ok := index[b.Group]
			if !ok {
				i = len(t.Rows)
				index[b.Group] = i
				row := breakdownRow{Group: b.Group}
				q := neturl.Values{dim: {b.Group}}
				if b.Group == "" {
					row.Group, q = l.T(msgNoProviderYet), neturl.Values{"unattributed": {"true"}}
				}
				row.Link = opPath(op, "/items") + "?" + q.Encode()
				t.Rows = append(t.Rows, row)
			}
			r := &t.Rows[i]
			r.Total += b.Count
			switch b.Status {
			case takedown.ItemConfirmed:
				r.Offline += b.Count
			case takedown.ItemSubmitted, takedown.ItemCandidate:
				r.NotReferred += b.Count
			default:
				r.Referred += b.Count
			}
		}
		out = append(out, t)
	}
	return out
}
