// Package storetest is the behaviour every storage backend must show: one
// conformance suite, run by each backend's tests against a real database.
package storetest

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/riverqueue/river"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/jobqueue"
)

// Backend is a store as the suite exercises it: the domain store plus the
// job queue.
type Backend interface {
	takedown.Store
	StartJobs(ctx context.Context, cfg jobqueue.Config) error
	StopJobs(ctx context.Context) error
	Enqueue(ctx context.Context, args river.JobArgs) error
	Analyze(ctx context.Context) error
	// Transact runs f in a write transaction in which enqueue inserts
	// jobs; they exist exactly when the transaction commits. f's error
	// rolls back and is returned as it is.
	Transact(ctx context.Context, f func(enqueue func(river.JobArgs) error) error) error
}

// Opener returns a new, empty, migrated backend for one test; the backend
// closes it at cleanup.
type Opener func(t *testing.T) Backend

// Exercise runs the whole suite against the backend open returns.
func Exercise(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"Agencies", testAgencies},
		{"Operations", testOperations},
		{"SubmitOutcomes", testSubmitOutcomes},
		{"SubmitRefusals", testSubmitRefusals},
		{"SubmissionRoundTrip", testSubmissionRoundTrip},
		{"ListItems", testListItems},
		{"ConcurrentSubmit", testConcurrentSubmit},
		{"Jobs", testJobs},
		{"Providers", testProviders},
		{"Users", testUsers},
		{"Tokens", testTokens},
		{"Sessions", testSessions},
		{"Logins", testLogins},
		{"Holds", testHolds},
		{"Referrals", testReferrals},
		{"HoldReferralRace", testHoldReferralRace},
		{"Audit", testAudit},
		{"AuditTamper", testAuditTamper},
		{"SharedSubmissions", testSharedSubmissions},
		{"HoldNotices", testHoldNotices},
		{"ProviderDirectory", testProviderDirectory},
		{"Attribution", testAttribution},
		{"ReferralDelivery", testReferralDelivery},
		{"ReferableItems", testReferableItems},
		{"Resurgence", testResurgence},
		{"HashSeeds", testHashSeeds},
		{"Breakdown", testBreakdown},
		{"CountsFollowChanges", testCountsFollowChanges},
		{"Search", testSearch},
		{"ReportSnapshots", testReportSnapshots},
		{"VerificationReceipt", testVerificationReceipt},
		{"ClaimDueProbes", testClaimDueProbes},
		{"ConcurrentClaims", testConcurrentClaims},
		{"RecordObservations", testRecordObservations},
		{"ProbeTargets", testProbeTargets},
		{"ObservationBatch", testObservationBatch},
		{"Captures", testCaptures},
		{"EvidenceGate", testEvidenceGate},
		{"DueCaptures", testDueCaptures},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open)
		})
	}
}

var ctx = context.Background()

// bundle is one test's fixture: a backend with two agencies taking part in
// one operation and a third agency that does not.
type bundle struct {
	db       Backend
	op       *takedown.Operation
	a, b, c  *takedown.Agency
	baseTime time.Time
}

func setup(t *testing.T, open Opener) *bundle {
	t.Helper()
	db := open(t)
	b := &bundle{db: db, baseTime: time.Date(2026, 11, 20, 8, 0, 0, 123456000, time.UTC)}
	for _, a := range []**takedown.Agency{&b.a, &b.b, &b.c} {
		*a = &takedown.Agency{Code: fmt.Sprintf("agency-%c", 'a'+len(b.agencies())), Name: "Agency"}
	}
	b.a.Code, b.b.Code, b.c.Code = "aa-iru", "bb-iru", "cc-iru"
	for _, a := range b.agencies() {
		if err := db.CreateAgency(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	b.op = &takedown.Operation{Slug: "rad-1", Name: "Action day", Status: takedown.OperationOpen, Agencies: []string{"bb-iru", "aa-iru"}, Evidence: takedown.EvidenceOff}
	if err := db.CreateOperation(ctx, b.op); err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *bundle) agencies() []*takedown.Agency {
	var out []*takedown.Agency
	for _, a := range []*takedown.Agency{b.a, b.b, b.c} {
		if a != nil {
			out = append(out, a)
		}
	}
	return out
}

// sub makes a submission of identity by agency.
func (b *bundle) sub(agency *takedown.Agency, identity string, notes string) takedown.NewSubmission {
	return takedown.NewSubmission{
		Item: takedown.Recognition{Identity: "telegram:" + identity, Canonical: "https://t.me/" + identity, Platform: takedown.PlatformTelegram, Kind: takedown.KindChannel, Handle: identity},
		Submission: takedown.Submission{
			AgencyID: agency.ID, RawInput: "https://t.me/s/" + identity, Notes: notes,
			Source: "test", SubmittedAt: b.baseTime,
		},
	}
}

func (b *bundle) submit(t *testing.T, subs ...takedown.NewSubmission) []takedown.SubmitResult {
	t.Helper()
	res, err := b.db.Submit(ctx, b.op.ID, subs)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := takedown.ErrorCode(err); got != code {
		t.Errorf("error %v has code %q, want %q", err, got, code)
	}
}

func testAgencies(t *testing.T, open Opener) {
	db := open(t)
	a := &takedown.Agency{Code: "nl-iru", Name: "Unit", Country: "NL"}
	if err := db.CreateAgency(ctx, a); err != nil {
		t.Fatal(err)
	}
	if a.ID == 0 || a.CreatedAt.IsZero() {
		t.Errorf("CreateAgency did not set ID and CreatedAt: %+v", a)
	}
	wantCode(t, db.CreateAgency(ctx, &takedown.Agency{Code: "nl-iru", Name: "Again"}), takedown.ECONFLICT)
	wantCode(t, db.CreateAgency(ctx, &takedown.Agency{Code: "NL IRU", Name: "Bad"}), takedown.EINVALID)
	wantCode(t, db.CreateAgency(ctx, &takedown.Agency{Code: "x", Name: "Bad country", Country: "nl"}), takedown.EINVALID)
	if err := db.CreateAgency(ctx, &takedown.Agency{Code: "be-iru", Name: "Other"}); err != nil {
		t.Fatal(err)
	}
	got, err := db.FindAgency(ctx, "nl-iru")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, got); diff != "" {
		t.Errorf("FindAgency mismatch (-want +got):\n%s", diff)
	}
	_, err = db.FindAgency(ctx, "nobody")
	wantCode(t, err, takedown.ENOTFOUND)
	all, err := db.ListAgencies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Code != "be-iru" || all[1].Code != "nl-iru" {
		t.Errorf("ListAgencies not ordered by code: %v", all)
	}
}

func testOperations(t *testing.T, open Opener) {
	b := setup(t, open)
	if diff := cmp.Diff([]string{"aa-iru", "bb-iru"}, b.op.Agencies); diff != "" {
		t.Errorf("participants not sorted mismatch (-want +got):\n%s", diff)
	}
	got, err := b.db.FindOperation(ctx, "rad-1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(b.op, got); diff != "" {
		t.Errorf("FindOperation mismatch (-want +got):\n%s", diff)
	}
	wantCode(t, b.db.CreateOperation(ctx, &takedown.Operation{Slug: "rad-1", Name: "x", Status: takedown.OperationOpen}), takedown.ECONFLICT)
	wantCode(t, b.db.CreateOperation(ctx, &takedown.Operation{Slug: "rad-2", Name: "x", Status: takedown.OperationOpen, Agencies: []string{"nobody"}}), takedown.EINVALID)
	if _, err := b.db.FindOperation(ctx, "rad-2"); takedown.ErrorCode(err) != takedown.ENOTFOUND {
		t.Errorf("an operation refused for an unknown agency was stored anyway (%v)", err)
	}
	wantCode(t, b.db.CreateOperation(ctx, &takedown.Operation{Slug: "", Name: "x", Status: takedown.OperationOpen}), takedown.EINVALID)
	_, err = b.db.FindOperation(ctx, "nope")
	wantCode(t, err, takedown.ENOTFOUND)

	later := &takedown.Operation{Slug: "rad-2", Name: "Later", Status: takedown.OperationOpen}
	if err := b.db.CreateOperation(ctx, later); err != nil {
		t.Fatal(err)
	}
	if len(later.Agencies) != 0 {
		t.Errorf("operation without agencies has %v", later.Agencies)
	}
	for range 2 { // idempotent
		if err := b.db.AddParticipant(ctx, "rad-2", "cc-iru"); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, b.db.AddParticipant(ctx, "rad-2", "nobody"), takedown.ENOTFOUND)
	wantCode(t, b.db.AddParticipant(ctx, "nope", "cc-iru"), takedown.ENOTFOUND)
	ops, err := b.db.ListOperations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 2 || ops[0].Slug != "rad-2" || len(ops[0].Agencies) != 1 || ops[0].Agencies[0] != "cc-iru" {
		t.Errorf("ListOperations = %+v, want rad-2 (with cc-iru) first", ops)
	}
}

func outcomes(res []takedown.SubmitResult) []takedown.SubmitOutcome {
	var o []takedown.SubmitOutcome
	for _, r := range res {
		o = append(o, r.Outcome)
	}
	return o
}

func testSubmitOutcomes(t *testing.T, open Opener) {
	b := setup(t, open)
	const (
		n = takedown.SubmitNewItem
		m = takedown.SubmitMerged
		d = takedown.SubmitDuplicate
	)
	// Within one batch: the same identity twice, the same submission twice.
	first := b.sub(b.a, "chan_one", "")
	first.Submission.Title = ""
	titled := b.sub(b.b, "chan_one", "from b")
	titled.Submission.Title = "Channel one"
	titled.Submission.SubmittedAt = b.baseTime.Add(time.Hour)
	res := b.submit(t, first, b.sub(b.a, "chan_two", ""), titled, first)
	if diff := cmp.Diff([]takedown.SubmitOutcome{n, n, m, d}, outcomes(res)); diff != "" {
		t.Errorf("first batch outcomes mismatch (-want +got):\n%s", diff)
	}
	if res[0].ItemID != res[2].ItemID || res[0].ItemID != res[3].ItemID || res[0].ItemID == res[1].ItemID {
		t.Errorf("item IDs %v: want 1st, 3rd, 4th the same item, 2nd another", res)
	}
	// The same again later: nothing new.
	res2 := b.submit(t, first, titled)
	if diff := cmp.Diff([]takedown.SubmitOutcome{d, d}, outcomes(res2)); diff != "" {
		t.Errorf("repeat outcomes mismatch (-want +got):\n%s", diff)
	}
	item, err := b.db.FindItem(ctx, res[0].ItemID)
	if err != nil {
		t.Fatal(err)
	}
	if item.SubmissionCount != 2 || len(item.Submissions) != 2 {
		t.Errorf("item has count %d and %d submissions, want 2", item.SubmissionCount, len(item.Submissions))
	}
	if item.Title != "Channel one" {
		t.Errorf("item title %q, want the first non-empty title %q", item.Title, "Channel one")
	}
	if !item.FirstSubmittedAt.Equal(b.baseTime) || !item.LastSubmittedAt.Equal(b.baseTime.Add(time.Hour)) {
		t.Errorf("item submitted %v..%v, want %v..%v", item.FirstSubmittedAt, item.LastSubmittedAt, b.baseTime, b.baseTime.Add(time.Hour))
	}
	if item.Status != takedown.ItemSubmitted || item.OperationID != b.op.ID {
		t.Errorf("item status %q operation %d", item.Status, item.OperationID)
	}
	if item.Submissions[0].Agency != "aa-iru" || item.Submissions[1].Agency != "bb-iru" {
		t.Errorf("submissions not oldest first with agency codes: %s, %s", item.Submissions[0].Agency, item.Submissions[1].Agency)
	}
	// Another operation has items of its own.
	other := &takedown.Operation{Slug: "rad-other", Name: "Other", Status: takedown.OperationOpen, Agencies: []string{"aa-iru"}}
	if err := b.db.CreateOperation(ctx, other); err != nil {
		t.Fatal(err)
	}
	res3, err := b.db.Submit(ctx, other.ID, []takedown.NewSubmission{first})
	if err != nil {
		t.Fatal(err)
	}
	if res3[0].Outcome != n || res3[0].ItemID == res[0].ItemID {
		t.Errorf("the same identity in another operation: %+v, want a new item", res3[0])
	}
	_, err = b.db.FindItem(ctx, 1<<40)
	wantCode(t, err, takedown.ENOTFOUND)
}

func testSubmitRefusals(t *testing.T, open Opener) {
	b := setup(t, open)
	good := b.sub(b.a, "good_chan", "")
	outsider := b.sub(b.c, "outsider_chan", "")
	_, err := b.db.Submit(ctx, b.op.ID, []takedown.NewSubmission{good, outsider})
	wantCode(t, err, takedown.EINVALID)
	bad := b.sub(b.a, "bad_chan", "")
	bad.Item.Kind = "spaceship"
	_, err = b.db.Submit(ctx, b.op.ID, []takedown.NewSubmission{good, bad})
	wantCode(t, err, takedown.EINVALID)
	_, err = b.db.Submit(ctx, 1<<40, []takedown.NewSubmission{good})
	wantCode(t, err, takedown.ENOTFOUND)
	page, err := b.db.ListItems(ctx, takedown.ItemFilter{OperationID: b.op.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 0 {
		t.Errorf("refused batches left %d items behind", len(page.Items))
	}
}

func testSubmissionRoundTrip(t *testing.T, open Opener) {
	b := setup(t, open)
	found := time.Date(2026, 11, 19, 23, 59, 58, 999999000, time.UTC)
	full := b.sub(b.a, "full_chan", "notes with ünïcode and\nnewline")
	full.Submission.DeclaredKind, full.Submission.DeclaredPlatform, full.Submission.DeclaredHandle = "group", "telegram", "Full_Chan"
	full.Submission.Title, full.Submission.Language = "Full", "ar"
	full.Submission.Tags = []string{"media", "relay"}
	full.Submission.Attributes = map[string]string{"case_ref": "A-1", "empty": ""}
	full.Submission.FoundAt = &found
	bare := b.sub(b.b, "full_chan", "")
	res := b.submit(t, full, bare)
	item, err := b.db.FindItem(ctx, res[0].ItemID)
	if err != nil {
		t.Fatal(err)
	}
	want := full.Submission
	want.ID, want.ItemID, want.Agency = item.Submissions[0].ID, res[0].ItemID, "aa-iru"
	if diff := cmp.Diff(&want, item.Submissions[0]); diff != "" {
		t.Errorf("submission round trip mismatch (-want +got):\n%s", diff)
	}
	got := item.Submissions[1]
	if got.Tags != nil || got.Attributes != nil || got.FoundAt != nil {
		t.Errorf("a submission without tags, attributes and found_at reads back as %v, %v, %v; want nil", got.Tags, got.Attributes, got.FoundAt)
	}
}

func testListItems(t *testing.T, open Opener) {
	b := setup(t, open)
	var subs []takedown.NewSubmission
	for i := range 25 {
		s := b.sub(b.a, fmt.Sprintf("list_chan_%02d", i), "")
		if i%5 == 0 {
			s.Item.Platform, s.Item.Kind, s.Item.Identity = takedown.PlatformWeb, takedown.KindFile, fmt.Sprintf("web:files.example/%d.pdf", i)
			s.Item.Canonical, s.Item.Handle = fmt.Sprintf("https://files.example/%d.pdf", i), ""
		}
		if i%3 == 0 {
			s.Submission.AgencyID = b.b.ID
			s.Submission.Title = "Mirror Of Something"
		}
		subs = append(subs, s)
	}
	res := b.submit(t, subs...)
	var all []int64
	for _, r := range res {
		all = append(all, r.ItemID)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] > all[j] })

	list := func(f takedown.ItemFilter) []int64 {
		t.Helper()
		f.OperationID = b.op.ID
		var ids []int64
		for range 100 {
			page, err := b.db.ListItems(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Items {
				ids = append(ids, it.ID)
			}
			if page.NextCursor == "" {
				return ids
			}
			f.Cursor = page.NextCursor
		}
		t.Fatal("paging does not end")
		return nil
	}
	// filter lists the items of the submissions keep picks, newest
	// (highest ID) first.
	filter := func(keep func(i int) bool) []int64 {
		var ids []int64
		for i := range res {
			if keep(i) {
				ids = append(ids, res[i].ItemID)
			}
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] > ids[j] })
		return ids
	}
	tests := []struct {
		name string
		f    takedown.ItemFilter
		want []int64
	}{
		{"all, one page", takedown.ItemFilter{}, all},
		{"all, pages of 4", takedown.ItemFilter{Limit: 4}, all},
		{"pages of 1", takedown.ItemFilter{Limit: 1}, all},
		{"platform", takedown.ItemFilter{Platform: takedown.PlatformWeb, Limit: 2}, filter(func(i int) bool { return i%5 == 0 })},
		{"kind", takedown.ItemFilter{Kind: takedown.KindChannel}, filter(func(i int) bool { return i%5 != 0 })},
		{"agency", takedown.ItemFilter{Agency: "bb-iru", Limit: 3}, filter(func(i int) bool { return i%3 == 0 })},
		{"agency without items", takedown.ItemFilter{Agency: "cc-iru"}, nil},
		{"status", takedown.ItemFilter{Status: takedown.ItemSubmitted}, all},
		{"text in handle, any case", takedown.ItemFilter{Text: "CHAN_1"}, filter(func(i int) bool { return i >= 10 && i < 20 && i%5 != 0 })},
		{"text in title", takedown.ItemFilter{Text: "mirror of"}, filter(func(i int) bool { return i%3 == 0 })},
		{"text in url", takedown.ItemFilter{Text: "files.example/1"}, filter(func(i int) bool { return i == 10 || i == 15 })},
		{"text with wildcard characters", takedown.ItemFilter{Text: "%_"}, nil},
		{"combined", takedown.ItemFilter{Platform: takedown.PlatformTelegram, Agency: "bb-iru", Text: "list"}, filter(func(i int) bool { return i%3 == 0 && i%5 != 0 })},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, list(tt.f)); diff != "" {
			t.Errorf("%s: mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
	for _, f := range []takedown.ItemFilter{{Cursor: "garbage"}, {Limit: -1}, {Limit: takedown.MaxPageSize + 1}} {
		f.OperationID = b.op.ID
		_, err := b.db.ListItems(ctx, f)
		wantCode(t, err, takedown.EINVALID)
	}
}

// testConcurrentSubmit: two agencies submitting overlapping identities at
// once end with one item per identity and every submission counted.
func testConcurrentSubmit(t *testing.T, open Opener) {
	b := setup(t, open)
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 4 {
		agency := b.a
		if w%2 == 1 {
			agency = b.b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for start := 0; start < n; start += 50 {
				var batch []takedown.NewSubmission
				for i := start; i < start+50; i++ {
					// Workers walk the identities in different orders.
					j := i
					if w >= 2 {
						j = n - 1 - i
					}
					batch = append(batch, b.sub(agency, fmt.Sprintf("race_chan_%03d", j), fmt.Sprintf("worker %d", w)))
				}
				if _, err := b.db.Submit(ctx, b.op.ID, batch); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var items []*takedown.Item
	f := takedown.ItemFilter{OperationID: b.op.ID, Limit: takedown.MaxPageSize}
	page, err := b.db.ListItems(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	items = page.Items
	if len(items) != n {
		t.Fatalf("%d items, want %d", len(items), n)
	}
	for _, it := range items {
		if it.SubmissionCount != 4 {
			t.Errorf("item %s has %d submissions, want 4", it.Identity, it.SubmissionCount)
		}
	}
}

// testJobArgs is a job kind that exists only in this suite.
type testJobArgs struct {
	Note string `json:"note"`
}

func (testJobArgs) Kind() string { return "storetest.note" }

type testJobWorker struct {
	river.WorkerDefaults[testJobArgs]
	done chan string
}

func (w *testJobWorker) Work(ctx context.Context, job *river.Job[testJobArgs]) error {
	w.done <- job.Args.Note
	return nil
}

func testJobs(t *testing.T, open Opener) {
	db := open(t)
	w := &testJobWorker{done: make(chan string, 10)}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	if err := db.Enqueue(ctx, testJobArgs{Note: "before start"}); err != nil {
		t.Fatal(err)
	}
	enqueueTx(t, db, "committed", nil)
	enqueueTx(t, db, "rolled back", fmt.Errorf("the change fails"))
	if err := db.StartJobs(ctx, jobqueue.Config{Workers: workers, FetchPoll: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.StopJobs(ctx) })
	got := map[string]bool{}
	timeout := time.After(20 * time.Second)
	for len(got) < 2 {
		select {
		case note := <-w.done:
			got[note] = true
		case <-timeout:
			t.Fatalf("jobs worked: %v; want %q and %q", got, "before start", "committed")
		}
	}
	if err := db.Enqueue(ctx, testJobArgs{Note: "while running"}); err != nil {
		t.Fatal(err)
	}
	select {
	case note := <-w.done:
		got[note] = true
	case <-time.After(20 * time.Second):
		t.Fatal("a job enqueued while the queue runs was not worked")
	}
	if got["rolled back"] {
		t.Error("a job enqueued in a rolled-back transaction ran")
	}
	if err := db.StopJobs(ctx); err != nil {
		t.Errorf("StopJobs: %v", err)
	}
	if err := db.Analyze(ctx); err != nil {
		t.Errorf("Analyze: %v", err)
	}
}

// enqueueTx enqueues a job in a transaction that ends with fail.
func enqueueTx(t *testing.T, db Backend, note string, fail error) {
	t.Helper()
	err := db.Transact(ctx, func(enqueue func(river.JobArgs) error) error {
		if err := enqueue(testJobArgs{Note: note}); err != nil {
			t.Fatal(err)
		}
		return fail
	})
	if err != fail {
		t.Fatalf("Transact returned %v, want %v", err, fail)
	}
}
