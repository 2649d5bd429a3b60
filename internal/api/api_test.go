package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	validatorerrors "github.com/pb33f/libopenapi-validator/errors"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/canon"
	"github.com/takedown-project/takedown/internal/sqlite"
)

var fixedNow = time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)

type testBundle struct {
	srv       *httptest.Server
	validator validator.Validator
	// exercised records "METHOD pattern" of every route a test request hit.
	exercised map[string]bool
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "api.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	s := New(Config{Store: db, Recognize: canon.Recognize, Now: func() time.Time { return fixedNow }})
	b := &testBundle{exercised: map[string]bool{}}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := s.mux.Handler(r); pattern != "" {
			b.exercised[pattern] = true
		}
		s.ServeHTTP(w, r)
	}))
	t.Cleanup(b.srv.Close)
	b.validator = newValidator(t)
	return b
}

func newValidator(t *testing.T) validator.Validator {
	t.Helper()
	doc, err := libopenapi.NewDocument(openAPIDocument)
	if err != nil {
		t.Fatalf("parse openapi.json: %v", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("build validator: %v", errs)
	}
	return v
}

// do sends a request, checks request and response against the OpenAPI
// document, checks the status, and decodes the body into out (if not nil).
func (b *testBundle) do(t *testing.T, method, path string, body any, wantStatus int, out any) {
	t.Helper()
	var raw []byte
	if body != nil {
		var err error
		if s, ok := body.(string); ok {
			raw = []byte(s)
		} else if raw, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, b.srv.URL+path, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s %s: status %d, want %d; body: %s", method, path, resp.StatusCode, wantStatus, respBody)
	}
	if resp.StatusCode >= 400 {
		if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("%s %s: error Content-Type %q, want application/problem+json", method, path, ct)
		}
	}
	// The validator reads both bodies again.
	vreq, _ := http.NewRequest(method, "http://localhost"+path, bytes.NewReader(raw))
	if body != nil {
		vreq.Header.Set("Content-Type", "application/json")
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	// A request the test breaks on purpose is not checked against the
	// document, only the answer to it is.
	validate := b.validator.ValidateHttpRequestResponse
	if wantStatus >= 400 {
		validate = b.validator.ValidateHttpResponse
	}
	var errs []*validatorerrors.ValidationError
	if !strings.HasPrefix(path, undocumentedPath) {
		_, errs = validate(vreq, resp)
	}
	for _, e := range errs {
		t.Errorf("%s %s: does not match openapi.json: %s: %s\nresponse: %s", method, path, e.Message, e.Reason, respBody)
	}
	if out != nil {
		if err := json.Unmarshal(respBody, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, respBody, err)
		}
	}
}

// undocumentedPath starts paths that have no route on purpose; their
// answers cannot be looked up in the document.
const undocumentedPath = "/api/v1/no-such-route"

func TestOpenAPIDocumentIsValid(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	if ok, errs := v.ValidateDocument(); !ok {
		for _, e := range errs {
			t.Errorf("openapi.json: %s: %s", e.Message, e.Reason)
		}
	}
}

// TestOpenAPIDocumentMatchesRoutes keeps the document and the routing table
// in step: a route without documentation, or documentation without a route,
// fails.
func TestOpenAPIDocumentMatchesRoutes(t *testing.T) {
	t.Parallel()
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	var served []string
	for _, rt := range (&Server{}).routes() {
		served = append(served, rt.method+" "+rt.pattern)
	}
	slices.Sort(documented)
	slices.Sort(served)
	if diff := cmp.Diff(documented, served); diff != "" {
		t.Errorf("openapi.json paths and routes differ (-documented +served):\n%s", diff)
	}
}

func TestAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)

	// Agencies and an operation.
	b.do(t, "POST", "/api/v1/agencies", map[string]any{"code": "aa-iru", "name": "Agency A", "country": "NL"}, 201, nil)
	b.do(t, "POST", "/api/v1/agencies", map[string]any{"code": "bb-iru", "name": "Agency B"}, 201, nil)
	b.do(t, "POST", "/api/v1/agencies", map[string]any{"code": "cc-iru", "name": "Agency C"}, 201, nil)
	b.do(t, "POST", "/api/v1/agencies", map[string]any{"code": "aa-iru", "name": "again"}, 409, nil)
	b.do(t, "POST", "/api/v1/agencies", map[string]any{"code": "Bad Code", "name": "x"}, 400, nil)
	var agency takedown.Agency
	b.do(t, "GET", "/api/v1/agencies/aa-iru", nil, 200, &agency)
	if agency.Name != "Agency A" || agency.Country != "NL" {
		t.Errorf("agency = %+v", agency)
	}
	b.do(t, "GET", "/api/v1/agencies/zz", nil, 404, nil)
	var agencies struct{ Agencies []takedown.Agency }
	b.do(t, "GET", "/api/v1/agencies", nil, 200, &agencies)
	if len(agencies.Agencies) != 3 {
		t.Errorf("got %d agencies, want 3", len(agencies.Agencies))
	}

	b.do(t, "POST", "/api/v1/operations", map[string]any{"slug": "rad-1", "name": "Action day", "agencies": []string{"aa-iru"}}, 201, nil)
	b.do(t, "POST", "/api/v1/operations", map[string]any{"slug": "rad-2", "name": "Another day", "agencies": []string{"cc-iru"}}, 201, nil)
	b.do(t, "POST", "/api/v1/operations", map[string]any{"slug": "rad-1", "name": "dup"}, 409, nil)
	b.do(t, "POST", "/api/v1/operations", map[string]any{"slug": "rad-3", "name": "x", "agencies": []string{"nobody"}}, 400, nil)
	b.do(t, "POST", "/api/v1/operations", `{"slug": "rad-4", "name": "x", "agncies": []}`, 400, nil)
	b.do(t, "POST", "/api/v1/operations", `{"slug": `, 400, nil)
	var op takedown.Operation
	b.do(t, "POST", "/api/v1/operations/rad-1/agencies", map[string]any{"agency": "bb-iru"}, 200, &op)
	if diff := cmp.Diff([]string{"aa-iru", "bb-iru"}, op.Agencies); diff != "" {
		t.Errorf("participants mismatch (-want +got):\n%s", diff)
	}
	b.do(t, "GET", "/api/v1/operations/rad-1", nil, 200, &op)
	b.do(t, "GET", "/api/v1/operations/nope", nil, 404, nil)
	var ops struct{ Operations []takedown.Operation }
	b.do(t, "GET", "/api/v1/operations", nil, 200, &ops)
	if len(ops.Operations) != 2 {
		t.Errorf("got %d operations, want 2", len(ops.Operations))
	}

	// One item, then the same again, then another agency's form of it.
	var sub struct {
		Outcome takedown.SubmitOutcome
		Item    takedown.Item
	}
	first := map[string]any{"agency": "aa-iru", "url": "https://t.me/s/Example_Channel?utm_source=x", "title": "Example channel", "tags": []string{"media"}, "found_at": "2026-11-20T08:00:00Z"}
	b.do(t, "POST", "/api/v1/operations/rad-1/items", first, 201, &sub)
	if sub.Outcome != takedown.SubmitNewItem || sub.Item.Platform != takedown.PlatformTelegram || sub.Item.Handle != "example_channel" {
		t.Errorf("first submission = %+v", sub)
	}
	itemID := sub.Item.ID
	b.do(t, "POST", "/api/v1/operations/rad-1/items", first, 200, &sub)
	if sub.Outcome != takedown.SubmitDuplicate || sub.Item.SubmissionCount != 1 {
		t.Errorf("repeated submission = %+v", sub)
	}
	b.do(t, "POST", "/api/v1/operations/rad-1/items", map[string]any{"agency": "bb-iru", "url": "t.me/example_channel", "notes": "also seen"}, 200, &sub)
	if sub.Outcome != takedown.SubmitMerged || sub.Item.ID != itemID || sub.Item.SubmissionCount != 2 {
		t.Errorf("other agency's submission = %+v", sub)
	}
	b.do(t, "POST", "/api/v1/operations/rad-1/items", map[string]any{"agency": "cc-iru", "url": "https://t.me/x_example"}, 400, nil)
	b.do(t, "POST", "/api/v1/operations/rad-1/items", map[string]any{"agency": "aa-iru", "url": "not a url"}, 400, nil)
	b.do(t, "POST", "/api/v1/operations/rad-1/items", map[string]any{"agency": "aa-iru", "url": "https://x.com/someone_example", "kind": "spaceship"}, 400, nil)
	b.do(t, "POST", "/api/v1/operations/nope/items", first, 404, nil)

	// A batch with a bad entry: the good ones go in.
	var batch struct {
		Summary batchSummary
		Results []batchResult
	}
	b.do(t, "POST", "/api/v1/operations/rad-1/items/batch", map[string]any{"agency": "bb-iru", "items": []map[string]any{
		{"url": "https://x.com/Sample_Voice_01"},
		{"url": "::not a url::"},
		{"url": "https://twitter.com/sample_voice_01?s=20"},
		{"url": "https://www.youtube.com/watch?v=AbCdEfGhIjK", "title": "A video"},
	}}, 200, &batch)
	wantSummary := batchSummary{Received: 4, NewItems: 2, Merged: 1, Duplicates: 0, Rejected: 1}
	if diff := cmp.Diff(wantSummary, batch.Summary); diff != "" {
		t.Errorf("batch summary mismatch (-want +got):\n%s", diff)
	}
	if batch.Results[1].Error == nil || batch.Results[1].Error.Code != takedown.EINVALID {
		t.Errorf("bad entry result = %+v", batch.Results[1])
	}
	if batch.Results[2].ItemID != batch.Results[0].ItemID {
		t.Errorf("two forms of one account became items %d and %d", batch.Results[0].ItemID, batch.Results[2].ItemID)
	}
	b.do(t, "POST", "/api/v1/operations/rad-1/items/batch", map[string]any{"agency": "bb-iru", "items": []map[string]any{}}, 400, nil)

	// Lists, filters and paging.
	var page takedown.ItemPage
	b.do(t, "GET", "/api/v1/operations/rad-1/items", nil, 200, &page)
	if len(page.Items) != 3 || page.NextCursor != "" {
		t.Errorf("list: %d items, cursor %q; want 3 items on one page", len(page.Items), page.NextCursor)
	}
	b.do(t, "GET", "/api/v1/operations/rad-1/items?platform=telegram", nil, 200, &page)
	if len(page.Items) != 1 || page.Items[0].ID != itemID {
		t.Errorf("platform filter: %+v", page.Items)
	}
	b.do(t, "GET", "/api/v1/operations/rad-1/items?agency=aa-iru&status=submitted&kind=channel&q=EXAMPLE", nil, 200, &page)
	if len(page.Items) != 1 {
		t.Errorf("combined filter: %d items, want 1", len(page.Items))
	}
	var ids []int64
	cursor := ""
	for range 5 {
		page = takedown.ItemPage{}
		b.do(t, "GET", "/api/v1/operations/rad-1/items?limit=1&cursor="+cursor, nil, 200, &page)
		for _, it := range page.Items {
			ids = append(ids, it.ID)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if len(ids) != 3 || !slices.IsSortedFunc(ids, func(a, b int64) int { return int(b - a) }) {
		t.Errorf("paging gave ids %v, want 3 ids newest first", ids)
	}
	b.do(t, "GET", "/api/v1/operations/rad-1/items?platform=myspace", nil, 400, nil)
	b.do(t, "GET", "/api/v1/operations/rad-1/items?limit=0", nil, 400, nil)
	b.do(t, "GET", "/api/v1/operations/rad-1/items?cursor=garbage", nil, 400, nil)

	// One item with its submissions; not visible under another operation.
	var item takedown.Item
	b.do(t, "GET", "/api/v1/operations/rad-1/items/"+itoa(itemID), nil, 200, &item)
	gotAgencies := slices.Sorted(maps.Keys(map[string]bool{item.Submissions[0].Agency: true, item.Submissions[1].Agency: true}))
	if len(item.Submissions) != 2 || !slices.Equal(gotAgencies, []string{"aa-iru", "bb-iru"}) {
		t.Errorf("item submissions = %+v", item.Submissions)
	}
	if item.Submissions[0].RawInput != "https://t.me/s/Example_Channel?utm_source=x" {
		t.Errorf("raw input not kept: %q", item.Submissions[0].RawInput)
	}
	b.do(t, "GET", "/api/v1/operations/rad-2/items/"+itoa(itemID), nil, 404, nil)
	b.do(t, "GET", "/api/v1/operations/rad-1/items/999999", nil, 404, nil)
	b.do(t, "GET", "/api/v1/operations/rad-1/items/abc", nil, 404, nil)

	var rec takedown.Recognition
	b.do(t, "GET", "/api/v1/recognize?url=https%3A%2F%2Ftwitter.com%2FSample_Voice_01%2Fstatus%2F123", nil, 200, &rec)
	if rec.Platform != takedown.PlatformX || rec.Kind != takedown.KindPost {
		t.Errorf("recognize = %+v", rec)
	}
	b.do(t, "GET", "/api/v1/recognize", nil, 400, nil)
	b.do(t, "GET", "/api/v1/openapi.json", nil, 200, nil)
	b.do(t, "GET", undocumentedPath, nil, 404, nil)

	// Every route must have been exercised, so every route was checked
	// against the document.
	for _, rt := range (&Server{}).routes() {
		if !b.exercised[rt.method+" "+rt.pattern] {
			t.Errorf("route %s %s is not exercised by TestAPI", rt.method, rt.pattern)
		}
	}
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }
