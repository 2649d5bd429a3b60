package api

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/takedown-project/takedown"
)

// MaxBatchSize bounds one batch submission; larger sets go through
// `takedown import`, which streams.
const MaxBatchSize = 5000

// itemInput is one submission as the API takes it.
type itemInput struct {
	URL        string            `json:"url"`
	Kind       string            `json:"kind,omitempty"`
	Platform   string            `json:"platform,omitempty"`
	Handle     string            `json:"handle,omitempty"`
	Title      string            `json:"title,omitempty"`
	Notes      string            `json:"notes,omitempty"`
	Tags       []string          `json:"tags,omitempty"`
	Language   string            `json:"language,omitempty"`
	FoundAt    *time.Time        `json:"found_at,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
	// Shared lets every agency of the operation read notes and attributes.
	Shared bool `json:"shared,omitempty"`
}

// submission turns an input into a submission ready to store, or an
// EINVALID error that says what is wrong with it.
func (s *Server) submission(in itemInput, agencyID int64, now time.Time) (takedown.NewSubmission, error) {
	if in.URL == "" {
		return takedown.NewSubmission{}, takedown.Errorf(takedown.EINVALID, "field \"url\" is required")
	}
	if in.Kind != "" && !takedown.ValidKind(takedown.Kind(in.Kind)) {
		return takedown.NewSubmission{}, takedown.Errorf(takedown.EINVALID, "unknown kind %q; kinds are %v", in.Kind, takedown.Kinds)
	}
	rec, err := s.recognize(in.URL)
	if err != nil {
		return takedown.NewSubmission{}, err
	}
	ns := takedown.NewSubmission{
		Item: rec.Refine(takedown.Kind(in.Kind)),
		Submission: takedown.Submission{
			AgencyID: agencyID, RawInput: in.URL,
			DeclaredKind: in.Kind, DeclaredPlatform: in.Platform, DeclaredHandle: in.Handle,
			Title: in.Title, Notes: in.Notes, Tags: in.Tags, Language: in.Language,
			FoundAt: in.FoundAt, Attributes: in.Attributes, Shared: in.Shared,
			Source: "api", SubmittedAt: now,
		},
	}
	return ns, ns.Validate()
}

// submitter returns the agency a submission to op is made for: the
// signed-in user's own. A user submits for its agency only; naming
// another is refused.
func (s *Server) submitter(r *http.Request, op *takedown.Operation, code string) (*takedown.Agency, error) {
	a := who(r)
	if !a.MaySubmit(op) {
		return nil, takedown.Errorf(takedown.EFORBIDDEN, "items are submitted by analysts and coordinators of a participating agency")
	}
	own := a.Agency()
	if code != "" && code != own {
		return nil, takedown.Errorf(takedown.EFORBIDDEN, "you submit for your agency %q only, not for %q", own, code)
	}
	if !slices.Contains(op.Agencies, own) {
		return nil, takedown.Errorf(takedown.EINVALID, "agency %q does not take part in operation %q", own, op.Slug)
	}
	return s.store.FindAgency(r.Context(), own)
}

func (s *Server) submitItem(w http.ResponseWriter, r *http.Request) error {
	op, err := s.operation(r)
	if err != nil {
		return err
	}
	var in struct {
		Agency string `json:"agency"`
		itemInput
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	agency, err := s.submitter(r, op, in.Agency)
	if err != nil {
		return err
	}
	ns, err := s.submission(in.itemInput, agency.ID, s.now())
	if err != nil {
		return err
	}
	res, err := s.store.Submit(r.Context(), op.ID, []takedown.NewSubmission{ns})
	if err != nil {
		return err
	}
	item, err := s.store.FindItem(r.Context(), res[0].ItemID)
	if err != nil {
		return err
	}
	who(r).Redact(op, item)
	status := http.StatusOK
	if res[0].Outcome == takedown.SubmitNewItem {
		status = http.StatusCreated
		w.Header().Set("Location", fmt.Sprintf("/api/v1/operations/%s/items/%d", op.Slug, item.ID))
	}
	return writeJSON(w, status, map[string]any{"outcome": res[0].Outcome, "item": item})
}

// batchResult is the fate of one entry of a batch: an outcome and item, or
// the problem that kept it out.
type batchResult struct {
	Index   int                    `json:"index"`
	Outcome takedown.SubmitOutcome `json:"outcome,omitempty"`
	ItemID  int64                  `json:"item_id,omitempty"`
	Error   *batchError            `json:"error,omitempty"`
}

type batchError struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

type batchSummary struct {
	Received   int `json:"received"`
	NewItems   int `json:"new_items"`
	Merged     int `json:"merged"`
	Duplicates int `json:"duplicates"`
	Rejected   int `json:"rejected"`
}

// submitBatch records the good entries of a batch and reports the bad ones
// one by one, the way an import does: a bad entry never costs a good one.
func (s *Server) submitBatch(w http.ResponseWriter, r *http.Request) error {
	op, err := s.operation(r)
	if err != nil {
		return err
	}
	var in struct {
		Agency string      `json:"agency"`
		Items  []itemInput `json:"items"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if len(in.Items) == 0 {
		return takedown.Errorf(takedown.EINVALID, "field \"items\" must hold at least one item")
	}
	if len(in.Items) > MaxBatchSize {
		return takedown.Errorf(takedown.EINVALID, "a batch holds at most %d items, this one %d; use `takedown import` for more", MaxBatchSize, len(in.Items))
	}
	agency, err := s.submitter(r, op, in.Agency)
	if err != nil {
		return err
	}
	now := s.now()
	results := make([]batchResult, len(in.Items))
	var good []takedown.NewSubmission
	var goodIndex []int
	sum := batchSummary{Received: len(in.Items)}
	for i, it := range in.Items {
		results[i].Index = i
		ns, err := s.submission(it, agency.ID, now)
		if err != nil {
			if takedown.ErrorCode(err) == takedown.EINTERNAL {
				return err
			}
			results[i].Error = &batchError{Code: takedown.ErrorCode(err), Detail: takedown.ErrorMessage(err)}
			sum.Rejected++
			continue
		}
		good = append(good, ns)
		goodIndex = append(goodIndex, i)
	}
	if len(good) > 0 {
		res, err := s.store.Submit(r.Context(), op.ID, good)
		if err != nil {
			return err
		}
		for j, rr := range res {
			results[goodIndex[j]].Outcome, results[goodIndex[j]].ItemID = rr.Outcome, rr.ItemID
			switch rr.Outcome {
			case takedown.SubmitNewItem:
				sum.NewItems++
			case takedown.SubmitMerged:
				sum.Merged++
			case takedown.SubmitDuplicate:
				sum.Duplicates++
			}
		}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"summary": sum, "results": results})
}

func (s *Server) listItems(w http.ResponseWriter, r *http.Request) error {
	op, err := s.operation(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := takedown.ItemFilter{
		OperationID: op.ID,
		Platform:    takedown.Platform(q.Get("platform")),
		Kind:        takedown.Kind(q.Get("kind")),
		Agency:      q.Get("agency"),
		Status:      takedown.ItemStatus(q.Get("status")),
		Text:        q.Get("q"),
		Provider:    q.Get("provider"),
		Cursor:      q.Get("cursor"),
	}
	switch q.Get("unattributed") {
	case "", "false":
	case "true":
		f.Unattributed = true
	default:
		return takedown.Errorf(takedown.EINVALID, "unattributed must be true or false, not %q", q.Get("unattributed"))
	}
	if f.Platform != "" && !takedown.ValidPlatform(f.Platform) {
		return takedown.Errorf(takedown.EINVALID, "unknown platform %q; platforms are %v", f.Platform, takedown.Platforms)
	}
	if f.Kind != "" && !takedown.ValidKind(f.Kind) {
		return takedown.Errorf(takedown.EINVALID, "unknown kind %q; kinds are %v", f.Kind, takedown.Kinds)
	}
	if f.Status != "" && !slices.Contains(takedown.ItemStatuses, f.Status) {
		return takedown.Errorf(takedown.EINVALID, "unknown status %q; statuses are %v", f.Status, takedown.ItemStatuses)
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > takedown.MaxPageSize {
			return takedown.Errorf(takedown.EINVALID, "limit must be a number from 1 to %d, not %q", takedown.MaxPageSize, l)
		}
		f.Limit = n
	}
	page, err := s.store.ListItems(r.Context(), f)
	if err != nil {
		return err
	}
	page.Items = nonNil(page.Items)
	a := who(r)
	for _, it := range page.Items {
		a.Redact(op, it)
	}
	return writeJSON(w, http.StatusOK, page)
}

func (s *Server) getItem(w http.ResponseWriter, r *http.Request) error {
	op, err := s.operation(r)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("item"), 10, 64)
	if err != nil || id <= 0 {
		return takedown.Errorf(takedown.ENOTFOUND, "no item %q in operation %q", r.PathValue("item"), op.Slug)
	}
	item, err := s.itemIn(r, op, id)
	if err != nil {
		return err
	}
	who(r).Redact(op, item)
	if item.Verification, err = s.store.FindVerification(r.Context(), item.ID); err != nil {
		return err
	}
	item.Verification.Derive()
	return writeJSON(w, http.StatusOK, item)
}

func (s *Server) recognizeURL(w http.ResponseWriter, r *http.Request) error {
	raw := r.URL.Query().Get("url")
	if raw == "" {
		return takedown.Errorf(takedown.EINVALID, "query parameter \"url\" is required")
	}
	rec, err := s.recognize(raw)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rec)
}
