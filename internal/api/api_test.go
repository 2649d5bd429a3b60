package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	validatorerrors "github.com/pb33f/libopenapi-validator/errors"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/attribute"
	"github.com/takedown-project/takedown/internal/auth"
	"github.com/takedown-project/takedown/internal/canon"
	"github.com/takedown-project/takedown/internal/refer"
	"github.com/takedown-project/takedown/internal/sqlite"
)

var fixedNow = time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)

type testBundle struct {
	srv       *httptest.Server
	db        *sqlite.DB
	validator validator.Validator
	// exercised records "METHOD pattern" of every route a test request hit.
	exercised map[string]bool
	mu        sync.Mutex
	// token authenticates the requests of do; doAs takes one.
	token string
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
	now := func() time.Time { return fixedNow }
	authn := auth.New(auth.Config{Users: db, Now: time.Now})
	s := New(Config{Store: db, Recognize: canon.Recognize, Auth: authn, Now: now, Plan: refer.Planner(db, attribute.Options{}, now)})
	b := &testBundle{exercised: map[string]bool{}, db: db}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := s.mux.Handler(r); pattern != "" {
			b.mu.Lock()
			b.exercised[pattern] = true
			b.mu.Unlock()
		}
		s.ServeHTTP(w, r)
	}))
	t.Cleanup(b.srv.Close)
	b.validator = newValidator(t)
	// The first administrator is made on the command line, as in a real
	// deployment; everything else goes through the API.
	b.token = b.user(t, &takedown.User{Name: "root-admin", Roles: []takedown.Role{takedown.RoleAdmin}}, takedown.ScopeWrite)
	return b
}

// user creates a user straight in the store and returns a token of it with
// the given scope (write includes read).
func (b *testBundle) user(t *testing.T, u *takedown.User, scope takedown.Scope) string {
	t.Helper()
	ctx := context.Background()
	if _, err := b.db.FindUser(ctx, u.Name); err != nil {
		if err := b.db.CreateUser(ctx, u, ""); err != nil {
			t.Fatal(err)
		}
	}
	scopes := []takedown.Scope{takedown.ScopeRead}
	if scope == takedown.ScopeWrite {
		scopes = append(scopes, takedown.ScopeWrite)
	}
	secret, prefix, hash := auth.NewToken()
	if err := b.db.CreateToken(ctx, &takedown.Token{User: u.Name, Prefix: prefix, Scopes: scopes, ExpiresAt: time.Now().Add(time.Hour)}, hash); err != nil {
		t.Fatal(err)
	}
	return secret
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

// do sends a request as b.token, checks request and response against the
// OpenAPI document, checks the status, and decodes the body into out (if
// not nil).
func (b *testBundle) do(t *testing.T, method, path string, body any, wantStatus int, out any) {
	t.Helper()
	b.doAs(t, b.token, method, path, body, wantStatus, out)
}

// doAs is do with the given token ("" for none), and returns the body.
func (b *testBundle) doAs(t *testing.T, token, method, path string, body any, wantStatus int, out any) []byte {
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
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
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
	if token != "" {
		vreq.Header.Set("Authorization", "Bearer "+token)
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
	return respBody
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

	// Agencies, a provider and users, as the administrator.
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
	b.do(t, "POST", "/api/v1/providers", map[string]any{"code": "telegram", "name": "Telegram", "platforms": []string{"telegram"}}, 201, nil)
	b.do(t, "GET", "/api/v1/providers/telegram", nil, 200, nil)
	b.do(t, "GET", "/api/v1/providers", nil, 200, nil)
	// Its contacts: the secrets are the administrators' alone.
	b.do(t, "PATCH", "/api/v1/providers/telegram", map[string]any{"languages": []string{"de", "en"}, "contacts": map[string]any{
		"abuse_email": "abuse@telegram.example", "webhook": map[string]any{"url": "https://hooks.telegram.example/in", "secret": "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ="},
		"api": map[string]any{"url": "https://api.telegram.example/v1", "token": "TOKEN-OF-TELEGRAM"}}}, 200, nil)
	b.do(t, "PATCH", "/api/v1/providers/telegram", map[string]any{"contacts": map[string]any{"webhook": map[string]any{"url": "ftp://nowhere"}}}, 400, nil)
	b.do(t, "PATCH", "/api/v1/providers/nobody", map[string]any{"name": "X"}, 404, nil)

	var created takedown.User
	b.do(t, "POST", "/api/v1/users", map[string]any{"name": "coord-a", "agency": "aa-iru", "roles": []string{"coordinator"}, "email": "coord@a.example", "password": "a long enough passphrase"}, 201, &created)
	if !created.HasPassword || created.Agency != "aa-iru" {
		t.Errorf("created user = %+v", created)
	}
	b.do(t, "POST", "/api/v1/users", map[string]any{"name": "analyst-b", "agency": "bb-iru", "roles": []string{"analyst"}}, 201, nil)
	b.do(t, "POST", "/api/v1/users", map[string]any{"name": "coord-c", "agency": "cc-iru", "roles": []string{"coordinator"}}, 201, nil)
	b.do(t, "POST", "/api/v1/users", map[string]any{"name": "bad", "roles": []string{"analyst"}}, 400, nil)
	b.do(t, "POST", "/api/v1/users", map[string]any{"name": "short-pw", "roles": []string{"auditor"}, "password": "short"}, 400, nil)
	b.do(t, "POST", "/api/v1/users", map[string]any{"name": "coord-a", "agency": "aa-iru", "roles": []string{"analyst"}}, 409, nil)
	var users struct{ Users []takedown.User }
	b.do(t, "GET", "/api/v1/users", nil, 200, &users)
	if len(users.Users) != 4 {
		t.Errorf("got %d users, want 4", len(users.Users))
	}
	b.do(t, "GET", "/api/v1/users/coord-a", nil, 200, nil)
	b.do(t, "PATCH", "/api/v1/users/coord-c", map[string]any{"display_name": "Coordinator C"}, 200, nil)
	b.do(t, "PATCH", "/api/v1/users/root-admin", map[string]any{"disabled": true}, 409, nil)

	// Tokens: made through the API, shown once, then used.
	var tok newToken
	b.do(t, "POST", "/api/v1/users/coord-a/tokens", map[string]any{"name": "tests", "scopes": []string{"read", "write"}, "expires_in_days": 7}, 201, &tok)
	if !strings.HasPrefix(tok.Secret, "tdk_") || !strings.HasPrefix(tok.Secret, tok.Prefix) {
		t.Fatalf("new token %+v", tok)
	}
	coordA := tok.Secret
	b.do(t, "POST", "/api/v1/users/analyst-b/tokens", map[string]any{"scopes": []string{"read", "write"}}, 201, &tok)
	analystB := tok.Secret
	b.do(t, "POST", "/api/v1/users/coord-c/tokens", map[string]any{"scopes": []string{"read", "write"}}, 201, &tok)
	coordC := tok.Secret
	b.do(t, "POST", "/api/v1/users/coord-c/tokens", map[string]any{"scopes": []string{"read"}}, 201, &tok)
	readC, readCID := tok.Secret, tok.ID
	var tokens struct{ Tokens []takedown.Token }
	b.do(t, "GET", "/api/v1/users/coord-c/tokens", nil, 200, &tokens)
	if len(tokens.Tokens) != 2 || strings.Contains(fmt.Sprint(tokens), "tdk_") && strings.Contains(fmt.Sprint(tokens), readC) {
		t.Errorf("tokens of coord-c: %+v", tokens)
	}
	var meOf me
	b.doAs(t, coordA, "GET", "/api/v1/me", nil, 200, &meOf)
	if meOf.User == nil || meOf.User.Name != "coord-a" || meOf.Via != takedown.ViaToken {
		t.Errorf("me = %+v", meOf)
	}
	b.doAs(t, "", "GET", "/api/v1/me", nil, 401, nil)
	b.doAs(t, "tdk_not-a-real-token-at-all-not-at-all-no", "GET", "/api/v1/me", nil, 401, nil)

	// Operations, run by coordinators.
	var op takedown.Operation
	b.doAs(t, coordA, "POST", "/api/v1/operations", map[string]any{"slug": "rad-1", "name": "Action day", "evidence": "off", "successors": "refer"}, 201, &op)
	if op.Successors != takedown.SuccessorsRefer {
		t.Errorf("the operation's successor policy: %q", op.Successors)
	}
	b.doAs(t, coordA, "POST", "/api/v1/operations", map[string]any{"slug": "rad-x", "name": "x", "successors": "sometimes"}, 400, nil)
	if diff := cmp.Diff([]string{"aa-iru"}, op.Agencies); diff != "" {
		t.Errorf("the coordinator's agency does not take part mismatch (-want +got):\n%s", diff)
	}
	b.doAs(t, coordC, "POST", "/api/v1/operations", map[string]any{"slug": "rad-2", "name": "Another day"}, 201, nil)
	b.doAs(t, coordA, "POST", "/api/v1/operations", map[string]any{"slug": "rad-1", "name": "dup"}, 409, nil)
	b.doAs(t, coordA, "POST", "/api/v1/operations", map[string]any{"slug": "rad-3", "name": "x", "agencies": []string{"nobody"}}, 400, nil)
	b.doAs(t, coordA, "POST", "/api/v1/operations", `{"slug": "rad-4", "name": "x", "agncies": []}`, 400, nil)
	b.doAs(t, coordA, "POST", "/api/v1/operations", `{"slug": `, 400, nil)
	b.do(t, "POST", "/api/v1/operations", map[string]any{"slug": "rad-5", "name": "admins run none"}, 403, nil)
	b.doAs(t, coordA, "POST", "/api/v1/operations/rad-1/agencies", map[string]any{"agency": "bb-iru"}, 200, &op)
	if diff := cmp.Diff([]string{"aa-iru", "bb-iru"}, op.Agencies); diff != "" {
		t.Errorf("participants mismatch (-want +got):\n%s", diff)
	}
	b.doAs(t, coordA, "GET", "/api/v1/operations/rad-1", nil, 200, &op)
	b.doAs(t, coordA, "GET", "/api/v1/operations/rad-2", nil, 404, nil) // not its operation
	b.doAs(t, coordA, "GET", "/api/v1/operations/nope", nil, 404, nil)
	var ops struct{ Operations []takedown.Operation }
	b.doAs(t, coordA, "GET", "/api/v1/operations", nil, 200, &ops)
	if len(ops.Operations) != 1 || ops.Operations[0].Slug != "rad-1" {
		t.Errorf("coord-a sees operations %+v, want rad-1 only", ops.Operations)
	}
	b.doAs(t, readC, "POST", "/api/v1/operations", map[string]any{"slug": "rad-6", "name": "read-only"}, 403, nil)

	// One item, then the same again, then another agency's form of it.
	var sub struct {
		Outcome takedown.SubmitOutcome
		Item    takedown.Item
	}
	first := map[string]any{"url": "https://t.me/s/Example_Channel?utm_source=x", "title": "Example channel", "tags": []string{"media"}, "found_at": "2026-11-20T08:00:00Z", "notes": "A's private note <script>alert(1)</script>"}
	b.doAs(t, coordA, "POST", "/api/v1/operations/rad-1/items", first, 201, &sub)
	if sub.Outcome != takedown.SubmitNewItem || sub.Item.Platform != takedown.PlatformTelegram || sub.Item.Handle != "example_channel" {
		t.Errorf("first submission = %+v", sub)
	}
	itemID := sub.Item.ID
	b.doAs(t, coordA, "POST", "/api/v1/operations/rad-1/items", first, 200, &sub)
	if sub.Outcome != takedown.SubmitDuplicate || sub.Item.SubmissionCount != 1 {
		t.Errorf("repeated submission = %+v", sub)
	}
	b.doAs(t, analystB, "POST", "/api/v1/operations/rad-1/items", map[string]any{"url": "t.me/example_channel", "notes": "B shares this", "shared": true}, 200, &sub)
	if sub.Outcome != takedown.SubmitMerged || sub.Item.ID != itemID || sub.Item.SubmissionCount != 2 {
		t.Errorf("other agency's submission = %+v", sub)
	}
	b.doAs(t, analystB, "POST", "/api/v1/operations/rad-1/items", map[string]any{"agency": "aa-iru", "url": "https://t.me/x_example"}, 403, nil)
	b.doAs(t, coordC, "POST", "/api/v1/operations/rad-1/items", map[string]any{"url": "https://t.me/x_example"}, 404, nil)
	b.doAs(t, coordA, "POST", "/api/v1/operations/rad-1/items", map[string]any{"url": "not a url"}, 400, nil)
	b.doAs(t, coordA, "POST", "/api/v1/operations/rad-1/items", map[string]any{"url": "https://x.com/someone_example", "kind": "spaceship"}, 400, nil)
	b.doAs(t, coordA, "POST", "/api/v1/operations/rad-1/items", map[string]any{"url": "https://x.com/someone_example", "notes": strings.Repeat("n", takedown.MaxNotesLength+1)}, 400, nil)
	b.doAs(t, coordA, "POST", "/api/v1/operations/rad-1/items", map[string]any{"url": "https://x.com/someone_example", "title": 12}, 400, nil)
	b.doAs(t, coordA, "POST", "/api/v1/operations/nope/items", first, 404, nil)

	// A batch with a bad entry: the good ones go in.
	var batch struct {
		Summary batchSummary
		Results []batchResult
	}
	b.doAs(t, analystB, "POST", "/api/v1/operations/rad-1/items/batch", map[string]any{"items": []map[string]any{
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
	b.doAs(t, analystB, "POST", "/api/v1/operations/rad-1/items/batch", map[string]any{"items": []map[string]any{}}, 400, nil)

	// Lists, filters and paging.
	var page takedown.ItemPage
	b.doAs(t, coordA, "GET", "/api/v1/operations/rad-1/items", nil, 200, &page)
	if len(page.Items) != 3 || page.NextCursor != "" {
		t.Errorf("list: %d items, cursor %q; want 3 items on one page", len(page.Items), page.NextCursor)
	}
	b.doAs(t, coordA, "GET", "/api/v1/operations/rad-1/items?platform=telegram", nil, 200, &page)
	if len(page.Items) != 1 || page.Items[0].ID != itemID {
		t.Errorf("platform filter: %+v", page.Items)
	}
	b.doAs(t, coordA, "GET", "/api/v1/operations/rad-1/items?agency=aa-iru&status=submitted&kind=channel&q=EXAMPLE", nil, 200, &page)
	if len(page.Items) != 1 {
		t.Errorf("combined filter: %d items, want 1", len(page.Items))
	}
	var ids []int64
	cursor := ""
	for range 5 {
		page = takedown.ItemPage{}
		b.doAs(t, coordA, "GET", "/api/v1/operations/rad-1/items?limit=1&cursor="+cursor, nil, 200, &page)
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
	b.doAs(t, coordA, "GET", "/api/v1/operations/rad-1/items?platform=myspace", nil, 400, nil)
	b.doAs(t, coordA, "GET", "/api/v1/operations/rad-1/items?limit=0", nil, 400, nil)
	b.doAs(t, coordA, "GET", "/api/v1/operations/rad-1/items?cursor=garbage", nil, 400, nil)

	// One item with its submissions, as each agency may read it: the
	// coordinator everything, B its own and what A shared (nothing).
	var item takedown.Item
	raw := b.doAs(t, coordA, "GET", "/api/v1/operations/rad-1/items/"+itoa(itemID), nil, 200, &item)
	gotAgencies := slices.Sorted(maps.Keys(map[string]bool{item.Submissions[0].Agency: true, item.Submissions[1].Agency: true}))
	if len(item.Submissions) != 2 || !slices.Equal(gotAgencies, []string{"aa-iru", "bb-iru"}) {
		t.Errorf("item submissions = %+v", item.Submissions)
	}
	if item.Submissions[0].RawInput != "https://t.me/s/Example_Channel?utm_source=x" {
		t.Errorf("raw input not kept: %q", item.Submissions[0].RawInput)
	}
	// HTML in notes is data: kept as written (the UI escapes it; JSON
	// answers are never rendered: nosniff and a CSP that allows nothing).
	if item.Submissions[0].Notes != "A's private note <script>alert(1)</script>" {
		t.Errorf("notes with HTML did not come back as written: %s", raw)
	}
	raw = b.doAs(t, analystB, "GET", "/api/v1/operations/rad-1/items/"+itoa(itemID), nil, 200, &item)
	if strings.Contains(string(raw), "private note") || !strings.Contains(string(raw), "B shares this") {
		t.Errorf("analyst B reads A's unshared note or misses its own: %s", raw)
	}
	b.doAs(t, coordC, "GET", "/api/v1/operations/rad-2/items/"+itoa(itemID), nil, 404, nil)
	// SQL in a URL is a strange page and stays text: stored and read back
	// as written, and nothing else changes.
	var odd struct{ Item takedown.Item }
	b.doAs(t, coordA, "POST", "/api/v1/operations/rad-1/items", map[string]any{"url": "https://x.com/x'; DROP TABLE items; --", "title": "<img src=x onerror=alert(1)>"}, 201, &odd)
	b.doAs(t, coordA, "GET", "/api/v1/operations/rad-1/items/"+itoa(odd.Item.ID), nil, 200, &item)
	if item.Submissions[0].RawInput != "https://x.com/x'; DROP TABLE items; --" || item.Title != "<img src=x onerror=alert(1)>" {
		t.Errorf("an odd submission did not come back as written: %+v", item)
	}
	b.doAs(t, coordA, "GET", "/api/v1/operations/rad-1/items?limit=10", nil, 200, &page)
	if len(page.Items) != 4 {
		t.Errorf("%d items after the odd one, want 4", len(page.Items))
	}
	b.doAs(t, coordA, "GET", "/api/v1/operations/rad-1/items/999999", nil, 404, nil)
	b.doAs(t, coordA, "GET", "/api/v1/operations/rad-1/items/abc", nil, 404, nil)

	// A hold by B: A's coordinator sees who and why; A's analyst-level
	// view (here: nobody else of A) would see only the notice.
	var hold takedown.Hold
	b.doAs(t, analystB, "POST", "/api/v1/operations/rad-1/holds", map[string]any{"scope": "handle", "platform": "telegram", "handle": "example_channel", "reason": "investigation", "note": "B's case 17"}, 201, &hold)
	b.doAs(t, analystB, "POST", "/api/v1/operations/rad-1/holds", map[string]any{"scope": "pattern", "pattern": "*", "reason": "other"}, 400, nil)
	var holds struct{ Holds []takedown.Hold }
	b.doAs(t, coordA, "GET", "/api/v1/operations/rad-1/holds", nil, 200, &holds)
	if len(holds.Holds) != 1 || holds.Holds[0].Note != "B's case 17" {
		t.Errorf("the coordinator's view of holds: %+v", holds)
	}
	b.doAs(t, coordA, "GET", "/api/v1/operations/rad-1/holds/"+itoa(hold.ID), nil, 200, nil)
	b.doAs(t, analystB, "POST", "/api/v1/operations/rad-1/holds/"+itoa(hold.ID)+"/renew", map[string]any{"days": 60}, 200, nil)
	b.doAs(t, coordA, "GET", "/api/v1/operations/rad-1/items/"+itoa(itemID), nil, 200, &item)
	if item.Hold == nil || !item.Hold.Held || len(item.Hold.Holds) != 1 {
		t.Errorf("the coordinator's view of a held item: %+v", item.Hold)
	}
	// A is told its item is held, not by whom; the coordinators are told
	// both sides.
	var notes struct{ Notifications []takedown.Notification }
	b.doAs(t, coordA, "GET", "/api/v1/operations/rad-1/notifications?unread=true", nil, 200, &notes)
	kinds := map[string]takedown.Notification{}
	for _, n := range notes.Notifications {
		kinds[n.Kind] = n
	}
	if n, ok := kinds[takedown.NoticeItemHeld]; !ok || n.HoldID != 0 || strings.Contains(n.Message, "bb-iru") {
		t.Errorf("A's notice of its held item: %+v", notes.Notifications)
	}
	if _, ok := kinds[takedown.NoticeCoordination]; !ok {
		t.Errorf("the coordinators' notice: %+v", notes.Notifications)
	}
	b.doAs(t, coordA, "POST", "/api/v1/operations/rad-1/notifications/"+itoa(kinds[takedown.NoticeItemHeld].ID)+"/read", nil, 200, nil)
	b.doAs(t, coordA, "GET", "/api/v1/operations/rad-1/notifications?unread=true", nil, 200, &notes)
	if len(notes.Notifications) != 1 {
		t.Errorf("unread after reading one: %+v", notes.Notifications)
	}

	// A referral leaves the held item out; released, it may go.
	var refd struct {
		Referral takedown.Referral
		Held     []int64
	}
	b.doAs(t, coordA, "POST", "/api/v1/operations/rad-1/referrals", map[string]any{"provider": "telegram", "legal_basis": "referral", "item_ids": []int64{itemID, batch.Results[0].ItemID}}, 201, &refd)
	if len(refd.Held) != 1 || refd.Held[0] != itemID || len(refd.Referral.Items) != 1 {
		t.Errorf("referral with a held item: %+v", refd)
	}
	b.doAs(t, coordA, "GET", "/api/v1/operations/rad-1/referrals", nil, 200, nil)
	b.doAs(t, coordA, "GET", "/api/v1/operations/rad-1/referrals/"+itoa(refd.Referral.ID), nil, 200, nil)
	b.doAs(t, analystB, "POST", "/api/v1/operations/rad-1/referrals", map[string]any{"provider": "telegram", "legal_basis": "referral", "item_ids": []int64{itemID}}, 403, nil)
	b.doAs(t, analystB, "POST", "/api/v1/operations/rad-1/holds/"+itoa(hold.ID)+"/release", nil, 200, nil)
	// A removal order needs what Annex I asks for.
	b.doAs(t, coordA, "POST", "/api/v1/operations/rad-1/referrals", map[string]any{"provider": "telegram", "legal_basis": "removal_order", "item_ids": []int64{itemID}}, 400, nil)
	order := map[string]any{"issuing_authority": "Example competent authority", "reference": "RO-17", "contact": "orders@authority.example",
		"legal_basis": "Regulation (EU) 2021/784, Article 3", "reasons": "synthetic test reasons", "issued_at": "2026-11-24T08:00:00Z", "redress": "review by the authority"}
	b.doAs(t, coordA, "POST", "/api/v1/operations/rad-1/referrals", map[string]any{"provider": "telegram", "legal_basis": "removal_order", "order": order, "item_ids": []int64{itemID}}, 201, &refd)
	if refd.Referral.Order == nil || refd.Referral.Order.Reference != "RO-17" || refd.Referral.Status != takedown.ReferralSending {
		t.Errorf("the removal order: %+v", refd.Referral)
	}
	raw = b.doAs(t, coordA, "GET", "/api/v1/providers/telegram", nil, 200, nil)
	if strings.Contains(string(raw), "TOKEN-OF-TELEGRAM") || strings.Contains(string(raw), "whsec_") || !strings.Contains(string(raw), "hooks.telegram.example") {
		t.Errorf("a coordinator reads a provider's secrets, or misses its contacts: %s", raw)
	}
	liaison := b.user(t, &takedown.User{Name: "tg-liaison", Provider: "telegram", Roles: []takedown.Role{takedown.RoleProvider}}, takedown.ScopeWrite)
	var refs struct{ Referrals []takedown.Referral }
	b.doAs(t, liaison, "GET", "/api/v1/referrals", nil, 200, &refs)
	if len(refs.Referrals) != 2 || refs.Referrals[0].CreatedBy != "" {
		t.Errorf("the provider's referrals: %+v", refs.Referrals)
	}
	// The liaison acknowledges the order (its clock starts) and answers.
	orderPath := "/api/v1/referrals/" + itoa(refd.Referral.ID)
	var got takedown.Referral
	b.doAs(t, liaison, "GET", orderPath, nil, 200, &got)
	if len(got.Items) != 1 || got.CreatedBy != "" {
		t.Errorf("the liaison's view of the order: %+v", got)
	}
	b.doAs(t, liaison, "POST", orderPath+"/acknowledge", nil, 200, &got)
	if got.AcknowledgedAt == nil || got.Deadline == nil || !got.Deadline.Equal(got.ReceivedAt.Add(takedown.OrderDeadline)) || got.Status != takedown.ReferralDelivered {
		t.Errorf("after acknowledging: %+v", got)
	}
	// The time left, as of the server's clock.
	if want := int64(got.Deadline.Sub(fixedNow) / time.Second); got.SecondsLeft == nil || *got.SecondsLeft != want || got.PastDeadline != (want < 0) {
		t.Errorf("time left %v (overdue %v), want %d s", got.SecondsLeft, got.PastDeadline, want)
	}
	b.doAs(t, liaison, "POST", orderPath+"/answers", map[string]any{"answers": []map[string]any{{"item_id": itemID + 1000, "outcome": "removed"}}}, 400, nil)
	b.doAs(t, liaison, "POST", orderPath+"/answers", map[string]any{"answers": []map[string]any{{"item_id": itemID, "outcome": "rejected"}}}, 400, nil)
	b.doAs(t, liaison, "POST", orderPath+"/answers", map[string]any{"answers": []map[string]any{{"item_id": itemID, "outcome": "removed",
		"feedback": map[string]any{"action": "removed", "acted_at": "2026-11-24T09:10:00Z"}}}}, 200, &got)
	if got.Status != takedown.ReferralAnswered || got.Items[0].Outcome != takedown.OutcomeRemoved || got.Items[0].Feedback == nil {
		t.Errorf("after answering: %+v", got)
	}
	// Probes: two offline observations ten minutes apart confirm the
	// removal; the item, its observations and the figures show it.
	t1 := time.Now().UTC().Truncate(time.Second).Add(time.Minute)
	obs := []takedown.Observation{
		{ItemID: itemID, At: t1, Verdict: takedown.VerdictOffline, Reason: takedown.ReasonRemoved, Rule: "telegram-removed", Status: 200, FinalURL: "https://t.me/s/example_channel", Bytes: 900, LatencyMS: 12},
		{ItemID: itemID, At: t1.Add(11 * time.Minute), Verdict: takedown.VerdictOffline, Reason: takedown.ReasonRemoved, Rule: "telegram-removed", Status: 200, Bytes: 900, LatencyMS: 9},
	}
	if _, err := b.db.RecordObservations(context.Background(), obs, takedown.DefaultSchedule); err != nil {
		t.Fatal(err)
	}
	item = takedown.Item{}
	b.doAs(t, coordA, "GET", "/api/v1/operations/rad-1/items/"+itoa(itemID), nil, 200, &item)
	if v := item.Verification; v == nil || v.Status != takedown.ItemConfirmed || v.TimeToRemovalSeconds == nil || v.RemovedAt == nil || !v.RemovedAt.Equal(t1) {
		t.Errorf("the verification of a confirmed item: %+v", item.Verification)
	}
	var seen struct{ Observations []takedown.Observation }
	b.doAs(t, analystB, "GET", "/api/v1/operations/rad-1/items/"+itoa(itemID)+"/observations?limit=10", nil, 200, &seen)
	if len(seen.Observations) != 2 || seen.Observations[0].Rule != "telegram-removed" || !seen.Observations[1].At.Equal(t1) {
		t.Errorf("observations: %+v", seen.Observations)
	}
	b.doAs(t, coordA, "GET", "/api/v1/operations/rad-1/items/"+itoa(itemID)+"/observations?limit=0", nil, 400, nil)
	// Its evidence: a capture with its file's hash, and one that failed.
	sha := strings.Repeat("0a", 32)
	for _, c := range []*takedown.Capture{
		{ItemID: itemID, At: t1.Add(-time.Hour), URL: "https://t.me/s/example", State: takedown.CaptureDone, Status: 200, SHA256: sha, Size: 4096, Location: "0a/" + sha + ".warc.gz", Records: 5, Resources: 1},
		{ItemID: itemID, At: t1, URL: "https://t.me/s/example", State: takedown.CaptureFailed, Reason: takedown.CaptureRemoved, Status: 200},
	} {
		if err := b.db.RecordCapture(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	var caps struct{ Captures []takedown.Capture }
	b.doAs(t, analystB, "GET", "/api/v1/operations/rad-1/items/"+itoa(itemID)+"/captures", nil, 200, &caps)
	if len(caps.Captures) != 2 || caps.Captures[0].Reason != takedown.CaptureRemoved || caps.Captures[1].SHA256 != sha {
		t.Errorf("captures: %+v", caps.Captures)
	}
	b.doAs(t, coordA, "GET", "/api/v1/operations/rad-1/items/999999/captures", nil, 404, nil)
	var figs takedown.Figures
	b.doAs(t, analystB, "GET", "/api/v1/operations/rad-1/figures", nil, 200, &figs)
	if figs.Items[takedown.ItemConfirmed] != 1 || !figs.Preliminary || len(figs.TimeToRemoval.ByProvider) != 1 || figs.TimeToRemoval.ByProvider[0].Group != "telegram" || figs.TimeToRemoval.ByPlatform[0].Group != "telegram" {
		t.Errorf("figures: %+v", figs)
	}
	b.doAs(t, coordC, "GET", "/api/v1/operations/rad-1/figures", nil, 404, nil)

	// Planning batches what is left: the x.com items have no provider
	// yet, and wait in the unattributed queue.
	var plan refer.Result
	b.doAs(t, coordA, "POST", "/api/v1/operations/rad-1/referrals/plan", map[string]any{"legal_basis": "referral"}, 201, &plan)
	if len(plan.Referrals) != 0 || plan.Unattributed == 0 {
		t.Errorf("the plan without an x provider: %+v", plan)
	}
	b.do(t, "POST", "/api/v1/providers", map[string]any{"code": "x", "name": "X", "platforms": []string{"x"}}, 201, nil)
	b.doAs(t, coordA, "POST", "/api/v1/operations/rad-1/referrals/plan", map[string]any{"legal_basis": "removal_order"}, 400, nil)
	b.doAs(t, coordA, "POST", "/api/v1/operations/rad-1/referrals/plan", map[string]any{"legal_basis": "referral", "providers": []string{"x"}}, 201, &plan)
	if len(plan.Referrals) != 1 || plan.Referrals[0].Provider != "x" || plan.Referrals[0].Counts[takedown.OutcomePending] == 0 {
		t.Errorf("the plan with an x provider: %+v", plan)
	}
	b.doAs(t, analystB, "POST", "/api/v1/operations/rad-1/referrals/plan", map[string]any{"legal_basis": "referral"}, 403, nil)
	// The odd URL on x.com went to x; by hand, it goes to telegram.
	page = takedown.ItemPage{}
	b.doAs(t, coordA, "GET", "/api/v1/operations/rad-1/items?provider=x", nil, 200, &page)
	if len(page.Items) == 0 || page.Items[0].Provider != "x" || page.Items[0].Attribution != "platform" {
		t.Errorf("items of provider x: %+v", page.Items)
	}
	b.doAs(t, coordA, "GET", "/api/v1/operations/rad-1/items?unattributed=maybe", nil, 400, nil)
	page = takedown.ItemPage{}
	b.doAs(t, coordA, "GET", "/api/v1/operations/rad-1/items?unattributed=true", nil, 200, &page)
	if len(page.Items) != 1 || page.Items[0].Platform != takedown.PlatformYouTube || page.Items[0].Provider != "" || !strings.HasPrefix(page.Items[0].Attribution, "none: ") {
		t.Errorf("the unattributed queue should hold the video, whose platform has no provider here: %+v", page.Items)
	}
	b.doAs(t, coordA, "POST", "/api/v1/operations/rad-1/items/"+itoa(odd.Item.ID)+"/attribution", map[string]any{"provider": "nobody"}, 400, nil)
	b.doAs(t, analystB, "POST", "/api/v1/operations/rad-1/items/"+itoa(odd.Item.ID)+"/attribution", map[string]any{"provider": "telegram"}, 403, nil)
	b.doAs(t, coordA, "POST", "/api/v1/operations/rad-1/items/"+itoa(odd.Item.ID)+"/attribution", map[string]any{"provider": "telegram"}, 200, &item)
	if item.Provider != "telegram" || !strings.HasPrefix(item.Attribution, "by hand (user:coord") {
		t.Errorf("attributed by hand: %q %q", item.Provider, item.Attribution)
	}
	// A dead letter, sent again.
	xref := plan.Referrals[0]
	if err := b.db.RecordDelivery(context.Background(), xref.ID, takedown.DeliveryUpdate{Channel: takedown.ChannelEmail, State: takedown.DeliveryDead, Error: "550 no such mailbox"}); err != nil {
		t.Fatal(err)
	}
	b.doAs(t, coordA, "POST", "/api/v1/operations/rad-1/referrals/"+itoa(xref.ID)+"/redeliver", map[string]any{"channel": "webhook"}, 404, nil)
	b.doAs(t, analystB, "POST", "/api/v1/operations/rad-1/referrals/"+itoa(xref.ID)+"/redeliver", map[string]any{"channel": "email"}, 403, nil)
	var redone takedown.Referral
	b.doAs(t, coordA, "POST", "/api/v1/operations/rad-1/referrals/"+itoa(xref.ID)+"/redeliver", map[string]any{"channel": "email"}, 200, &redone)
	if i := slices.IndexFunc(redone.Deliveries, func(d takedown.Delivery) bool { return d.Channel == takedown.ChannelEmail }); i < 0 || redone.Deliveries[i].State != takedown.DeliveryPending {
		t.Errorf("after redelivery: %+v", redone.Deliveries)
	}
	b.doAs(t, coordA, "POST", "/api/v1/operations/rad-1/referrals/"+itoa(xref.ID)+"/redeliver", map[string]any{"channel": "email"}, 409, nil)

	// Resurgence: the matcher lists a candidate successor; an analyst
	// confirms it, and in an operation that refers successors it is
	// submitted in the analyst's agency's name.
	var old, fresh struct{ Item takedown.Item }
	b.doAs(t, coordA, "POST", "/api/v1/operations/rad-1/items", map[string]any{"url": "https://t.me/gone_relay"}, 201, &old)
	b.doAs(t, coordA, "POST", "/api/v1/operations/rad-1/items", map[string]any{"url": "https://t.me/gone_relay2"}, 201, &fresh)
	rad1, err := b.db.FindOperation(context.Background(), "rad-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.db.RecordMatches(context.Background(), rad1.ID, fixedNow, []takedown.CandidateMatches{{SuccessorID: fresh.Item.ID,
		Pairs: []takedown.ScoredPair{{PredecessorID: old.Item.ID, Score: 0.93, Signals: map[string]float64{"posts": 0.9, "handle": 0.95}}}}}); err != nil {
		t.Fatal(err)
	}
	var ms struct {
		Matches   []takedown.Match
		NextAfter int64 `json:"next_after"`
	}
	b.doAs(t, analystB, "GET", "/api/v1/operations/rad-1/matches?state=open&limit=1", nil, 200, &ms)
	if len(ms.Matches) != 1 || ms.NextAfter != ms.Matches[0].ID || ms.Matches[0].Successor.URL != "https://t.me/gone_relay2" || ms.Matches[0].Signals["handle"] != 0.95 {
		t.Fatalf("open matches %+v", ms)
	}
	b.doAs(t, analystB, "GET", "/api/v1/operations/rad-1/matches?state=maybe", nil, 400, nil)
	b.doAs(t, analystB, "GET", "/api/v1/operations/rad-1/matches?item=x", nil, 400, nil)
	mpath := "/api/v1/operations/rad-1/matches/" + itoa(ms.Matches[0].ID)
	b.doAs(t, analystB, "GET", mpath, nil, 200, nil)
	b.doAs(t, analystB, "GET", "/api/v1/operations/rad-1/matches/999999", nil, 404, nil)
	b.doAs(t, analystB, "POST", mpath+"/review", map[string]any{"state": "maybe"}, 400, nil)
	var reviewed takedown.Match
	b.doAs(t, analystB, "POST", mpath+"/review", map[string]any{"state": "confirmed", "note": "same logo, same posts"}, 200, &reviewed)
	if reviewed.State != takedown.MatchConfirmed || !strings.Contains(reviewed.ReviewedBy, "analyst-b") || reviewed.Note != "same logo, same posts" {
		t.Errorf("reviewed %+v", reviewed)
	}
	b.doAs(t, analystB, "POST", mpath+"/review", map[string]any{"state": "rejected"}, 409, nil)
	var back takedown.Resurgence
	b.doAs(t, coordA, "GET", "/api/v1/operations/rad-1/resurgence", nil, 200, &back)
	if back.Matches.Confirmed != 1 || !back.Preliminary || back.Operation != "rad-1" {
		t.Errorf("resurgence figures %+v", back)
	}

	// Revoke a token: it stops working at once.
	b.do(t, "DELETE", "/api/v1/tokens/"+itoa(readCID), nil, 200, nil)
	b.doAs(t, readC, "GET", "/api/v1/me", nil, 401, nil)

	// The audit chain, for auditors.
	auditor := b.user(t, &takedown.User{Name: "auditor", Roles: []takedown.Role{takedown.RoleAuditor}}, takedown.ScopeRead)
	var evs struct{ Events []takedown.AuditEvent }
	b.doAs(t, auditor, "GET", "/api/v1/audit?operation=rad-1&limit=500", nil, 200, &evs)
	if len(evs.Events) == 0 {
		t.Error("no audit events of rad-1")
	}
	var verified auditVerification
	b.doAs(t, auditor, "GET", "/api/v1/audit/verify", nil, 200, &verified)
	if !verified.OK || verified.Events < 20 {
		t.Errorf("audit verification %+v", verified)
	}
	b.doAs(t, auditor, "GET", "/api/v1/audit?after=x", nil, 400, nil)

	var rec takedown.Recognition
	b.do(t, "GET", "/api/v1/recognize?url=https%3A%2F%2Ftwitter.com%2FSample_Voice_01%2Fstatus%2F123", nil, 200, &rec)
	if rec.Platform != takedown.PlatformX || rec.Kind != takedown.KindPost {
		t.Errorf("recognize = %+v", rec)
	}
	b.do(t, "GET", "/api/v1/recognize", nil, 400, nil)
	b.doAs(t, "", "GET", "/api/v1/openapi.json", nil, 200, nil)
	b.do(t, "GET", undocumentedPath, nil, 404, nil)

	// Every route must have been exercised, so every route was checked
	// against the document.
	for _, rt := range (&Server{}).routes() {
		if !b.exercised[rt.method+" "+rt.pattern] {
			t.Errorf("route %s %s is not exercised by TestAPI", rt.method, rt.pattern)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := `{"code": "x", "name": "` + strings.Repeat("a", maxBodyBytes+10) + `"}`
	b.do(t, "POST", "/api/v1/agencies", body, 413, nil)
}
