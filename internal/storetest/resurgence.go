package storetest

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/takedown-project/takedown"
)

// confirmOffline refers items and observes them offline twice, so that
// they are confirmed offline.
func (hb *holdBundle) confirmOffline(t *testing.T, at time.Time, names ...string) {
	t.Helper()
	hb.refer(t, at, names...)
	var obs []takedown.Observation
	for _, n := range names {
		for _, d := range []time.Duration{time.Minute, 12 * time.Minute} {
			obs = append(obs, takedown.Observation{ItemID: hb.items[n], At: at.Add(d), Verdict: takedown.VerdictOffline, Reason: takedown.ReasonNotFound})
		}
	}
	if _, err := hb.db.RecordObservations(ctx, obs, testSchedule); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if v := hb.verification(t, n); v.Status != takedown.ItemConfirmed {
			t.Fatalf("%s is %s, want confirmed offline", n, v.Status)
		}
	}
}

func channelFound(handle, via string) takedown.Discovery {
	return takedown.Discovery{Via: via, Recognition: takedown.Recognition{Identity: "telegram:" + handle, Canonical: "https://t.me/" + handle,
		Platform: takedown.PlatformTelegram, Kind: takedown.KindChannel, Handle: handle}}
}

func recordIDs(rs []*takedown.SignalRecord) []int64 {
	out := []int64{}
	for _, r := range rs {
		out = append(out, r.ItemID)
	}
	return out
}

func (hb *holdBundle) itemID(t *testing.T, handle string) int64 {
	t.Helper()
	page, err := hb.db.ListItems(ctx, takedown.ItemFilter{OperationID: hb.op.ID, Limit: takedown.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range page.Items {
		if it.Handle == handle {
			return it.ID
		}
	}
	t.Fatalf("no item %s", handle)
	return 0
}

// testResurgence: signals from captures and watch reads, candidates found
// on watched pages, matching rounds, review, and the figures.
func testResurgence(t *testing.T, open Opener) {
	hb := setupHolds(t, open, "old_news", "sister_news", "quiet_posts")
	db := hb.db
	t0 := hb.now.Truncate(time.Second).Add(-2 * time.Hour)
	hb.confirmOffline(t, t0, "old_news")

	// Signals come from an item's newest successful capture, once.
	sha := strings.Repeat("ef", 32)
	c := &takedown.Capture{ItemID: hb.items["old_news"], At: t0.Add(-time.Hour), URL: "https://t.me/old_news", State: takedown.CaptureDone,
		Status: 200, SHA256: sha, Size: 10, Location: "ef/" + sha + ".warc.gz", Records: 3}
	if err := db.RecordCapture(ctx, c); err != nil {
		t.Fatal(err)
	}
	due, err := db.DueSignals(ctx, 0, 10)
	if err != nil || len(due) != 1 || due[0].ItemID != hb.items["old_news"] || due[0].CaptureID != c.ID || due[0].Location != c.Location || due[0].Operation != "rad-1" {
		t.Fatalf("due signals %+v, %v", due, err)
	}
	if later, err := db.DueSignals(ctx, c.ID, 10); err != nil || len(later) != 0 {
		t.Errorf("due signals after the capture: %+v, %v", later, err)
	}
	oldSignals := &takedown.ItemSignals{ItemID: hb.items["old_news"], At: t0.Add(-time.Hour), CaptureID: c.ID, Title: "Old News",
		Description: "the news as it is", Posts: []string{"first post", "second post"}, Links: []string{"https://files.example/a"},
		AvatarPDQ: strings.Repeat("0f", 32), AvatarQuality: 100}
	if err := db.RecordSignals(ctx, []*takedown.ItemSignals{oldSignals}); err != nil {
		t.Fatal(err)
	}
	if due, err := db.DueSignals(ctx, 0, 10); err != nil || len(due) != 0 {
		t.Errorf("due signals after recording them: %+v, %v", due, err)
	}
	for name, bad := range map[string]*takedown.ItemSignals{
		"no item":      {ItemID: 999999, At: t0},
		"bad hash":     {ItemID: hb.items["quiet_posts"], At: t0, AvatarPDQ: "abc"},
		"high quality": {ItemID: hb.items["quiet_posts"], At: t0, AvatarPDQ: strings.Repeat("0f", 32), AvatarQuality: 101},
	} {
		if err := db.RecordSignals(ctx, []*takedown.ItemSignals{bad}); err == nil {
			t.Errorf("%s: recorded", name)
		}
	}

	// The watch reads live channels, never-read first; a read records
	// signals and the channels its page points to, once.
	tw := hb.now.Truncate(time.Second)
	watch, err := db.DueWatch(ctx, takedown.WatchPolicy{ReadBefore: tw.Add(-time.Hour)}, 10)
	if err != nil {
		t.Fatal(err)
	}
	var watched []int64
	for _, w := range watch {
		watched = append(watched, w.ItemID)
	}
	want := []int64{hb.items["sister_news"], hb.items["quiet_posts"]}
	slices.Sort(want)
	if !slices.Equal(watched, want) {
		t.Errorf("due watch %v, want %v (the confirmed offline item is not read)", watched, want)
	}
	sister := &takedown.ItemSignals{ItemID: hb.items["sister_news"], At: tw, Title: "Sister News", Posts: []string{"→ https://t.me/new_news"}}
	found, err := db.RecordWatch(ctx, []takedown.WatchResult{{ItemID: hb.items["sister_news"], At: tw, Signals: sister,
		Found: []takedown.Discovery{channelFound("new_news", "link"), channelFound("old_news", "mention")}}})
	if err != nil || found != 1 {
		t.Fatalf("record watch: %d found, %v; want 1 (old_news is known)", found, err)
	}
	newID := hb.itemID(t, "new_news")
	it, err := db.FindItem(ctx, newID)
	if err != nil || it.Status != takedown.ItemCandidate || it.SubmissionCount != 0 || it.URL != "https://t.me/new_news" {
		t.Fatalf("the candidate: %+v, %v", it, err)
	}
	evs, err := db.ListAudit(ctx, takedown.AuditFilter{Subject: "item:" + strconv.FormatInt(newID, 10)})
	if err != nil || len(evs) != 1 || evs[0].Action != "item.discovered" || !strings.Contains(string(evs[0].Details), `"found_on_item":`+strconv.FormatInt(hb.items["sister_news"], 10)) {
		t.Errorf("the discovery in the chain: %+v, %v", evs, err)
	}
	watch, err = db.DueWatch(ctx, takedown.WatchPolicy{ReadBefore: tw.Add(-time.Hour)}, 10)
	if err != nil || len(watch) != 2 || watch[1].ItemID != newID || watch[1].HasSignals || watch[1].Status != takedown.ItemCandidate || watch[0].ItemID != hb.items["quiet_posts"] {
		t.Errorf("due watch after a read: %+v, %v", watch, err)
	}
	if _, err := db.RecordWatch(ctx, []takedown.WatchResult{{ItemID: 999999, At: tw}}); takedown.ErrorCode(err) != takedown.ENOTFOUND {
		t.Errorf("watch of no item: %v", err)
	}
	newSignals := &takedown.ItemSignals{ItemID: newID, At: tw.Add(time.Minute), Title: "Old News 2", Posts: []string{"first post!", "second post"}}
	if _, err := db.RecordWatch(ctx, []takedown.WatchResult{{ItemID: newID, At: tw.Add(time.Minute), Signals: newSignals}}); err != nil {
		t.Fatal(err)
	}
	// Candidates are never referred on their own.
	referable, err := db.ReferableItems(ctx, hb.op.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range referable {
		if it.ID == newID {
			t.Errorf("a candidate is referable")
		}
	}

	// A matching round reads the removed items and the candidates.
	removed, err := db.MatchInputs(ctx, takedown.MatchInputFilter{OperationID: hb.op.ID, Removed: true})
	if err != nil || !slices.Equal(recordIDs(removed), []int64{hb.items["old_news"]}) {
		t.Fatalf("removed inputs %v, %v", recordIDs(removed), err)
	}
	r := removed[0]
	if r.Title != "Old News" || !slices.Equal(r.Posts, oldSignals.Posts) || !slices.Equal(r.Links, oldSignals.Links) || r.AvatarPDQ != oldSignals.AvatarPDQ ||
		r.AvatarQuality != 100 || r.Handle != "old_news" || r.Status != takedown.ItemConfirmed || r.Operation != "rad-1" || r.Since.Before(t0) {
		t.Errorf("removed input %+v", r)
	}
	if later, err := db.MatchInputs(ctx, takedown.MatchInputFilter{OperationID: hb.op.ID, Removed: true, ChangedAfter: r.Since}); err != nil || len(later) != 0 {
		t.Errorf("removed inputs changed after the last: %v, %v", recordIDs(later), err)
	}
	cands, err := db.MatchInputs(ctx, takedown.MatchInputFilter{OperationID: hb.op.ID, Unmatched: true})
	if want := []int64{hb.items["sister_news"], newID}; err != nil || !slices.Equal(recordIDs(cands), want) {
		t.Fatalf("candidate inputs %v, %v; want %v", recordIDs(cands), err, want)
	}
	round := tw.Add(2 * time.Minute)
	results := []takedown.CandidateMatches{
		{SuccessorID: newID, SignalsAt: cands[1].At, Pairs: []takedown.ScoredPair{{PredecessorID: hb.items["old_news"], Score: 0.9, Signals: map[string]float64{"posts": 0.8, "title": 0.7}}}},
		{SuccessorID: hb.items["sister_news"], SignalsAt: cands[0].At, Pairs: []takedown.ScoredPair{{PredecessorID: hb.items["old_news"], Score: 0.71, Signals: map[string]float64{"avatar": 1}}}},
	}
	if n, err := db.RecordMatches(ctx, hb.op.ID, round, results); err != nil || n != 2 {
		t.Fatalf("record matches: %d new, %v", n, err)
	}
	if cands, err := db.MatchInputs(ctx, takedown.MatchInputFilter{OperationID: hb.op.ID, Unmatched: true}); err != nil || len(cands) != 0 {
		t.Errorf("unmatched after a round: %v, %v", recordIDs(cands), err)
	}
	// Again: the open pairs get their new score, nothing is new.
	results[0].Pairs[0].Score = 0.92
	if n, err := db.RecordMatches(ctx, hb.op.ID, round.Add(time.Minute), results[:1]); err != nil || n != 0 {
		t.Errorf("a round again: %d new, %v", n, err)
	}
	// A pair across operations is refused.
	if _, err := db.RecordMatches(ctx, hb.op.ID, round, []takedown.CandidateMatches{{SuccessorID: newID, Pairs: []takedown.ScoredPair{{PredecessorID: 999999, Score: 0.9}}}}); err == nil {
		t.Errorf("a match with an unknown predecessor was recorded")
	}
	ms, err := db.ListMatches(ctx, takedown.MatchFilter{OperationID: hb.op.ID, State: takedown.MatchOpen})
	if err != nil || len(ms) != 2 {
		t.Fatalf("open matches %+v, %v", ms, err)
	}
	m := ms[0]
	if m.SuccessorID != newID || m.PredecessorID != hb.items["old_news"] || m.Score != 0.92 || m.Signals["posts"] != 0.8 || m.State != takedown.MatchOpen ||
		!m.FoundAt.Equal(round) || m.Successor.URL != "https://t.me/new_news" || m.Successor.Status != takedown.ItemCandidate ||
		m.Predecessor.Handle != "old_news" || m.Predecessor.Status != takedown.ItemConfirmed || m.Operation != "rad-1" {
		t.Errorf("match %+v", m)
	}
	if byItem, err := db.ListMatches(ctx, takedown.MatchFilter{ItemID: hb.items["sister_news"]}); err != nil || len(byItem) != 1 || byItem[0].ID != ms[1].ID {
		t.Errorf("matches of an item: %+v, %v", byItem, err)
	}
	if page, err := db.ListMatches(ctx, takedown.MatchFilter{OperationID: hb.op.ID, AfterID: m.ID}); err != nil || len(page) != 1 || page[0].ID != ms[1].ID {
		t.Errorf("matches after the first: %+v, %v", page, err)
	}

	// Review: an operation that reviews only links the successor.
	rej, err := db.ReviewMatch(ctx, ms[1].ID, takedown.MatchReview{State: takedown.MatchRejected, Note: "a sister channel, not a successor"})
	if err != nil || rej.State != takedown.MatchRejected || rej.ReviewedAt == nil || rej.ReviewedBy == "" || rej.Note == "" {
		t.Fatalf("reject: %+v, %v", rej, err)
	}
	if _, err := db.ReviewMatch(ctx, ms[1].ID, takedown.MatchReview{State: takedown.MatchConfirmed}); takedown.ErrorCode(err) != takedown.ECONFLICT {
		t.Errorf("review of a reviewed match: %v", err)
	}
	if _, err := db.ReviewMatch(ctx, m.ID, takedown.MatchReview{State: "maybe"}); takedown.ErrorCode(err) != takedown.EINVALID {
		t.Errorf("a bad review: %v", err)
	}
	if _, err := db.ReviewMatch(ctx, 999999, takedown.MatchReview{State: takedown.MatchConfirmed}); takedown.ErrorCode(err) != takedown.ENOTFOUND {
		t.Errorf("review of no match: %v", err)
	}
	conf, err := db.ReviewMatch(ctx, m.ID, takedown.MatchReview{State: takedown.MatchConfirmed, Agency: "aa-iru"})
	if err != nil || conf.State != takedown.MatchConfirmed || conf.Successor.Status != takedown.ItemCandidate {
		t.Fatalf("confirm under review: %+v, %v", conf, err)
	}
	counts, err := db.CountMatches(ctx, hb.op.ID)
	if want := (takedown.MatchCounts{Confirmed: 1, Rejected: 1, Candidates: 1, Successors: 1}); err != nil || *counts != want {
		t.Errorf("counts %+v, %v; want %+v", counts, err, want)
	}
	times, err := db.ResurgenceTimes(ctx, hb.op.ID)
	if err != nil || len(times) != 1 || times[0].ItemID != hb.items["old_news"] || times[0].BackAt == nil || !times[0].BackAt.Equal(tw) ||
		!times[0].RemovedAt.Equal(t0.Add(time.Minute)) || times[0].Platform != takedown.PlatformTelegram {
		t.Errorf("resurgence times %+v, %v", times, err)
	}
	// An agency that submits a candidate makes it an item like any other.
	if res := hb.submit(t, hb.sub(hb.b, "new_news", "seen by B")); res[0].ItemID != newID {
		t.Errorf("the submission went to item %d, want the candidate %d", res[0].ItemID, newID)
	}
	if it, err := db.FindItem(ctx, newID); err != nil || it.Status != takedown.ItemSubmitted || it.SubmissionCount != 1 {
		t.Errorf("a submitted candidate: %+v, %v", it, err)
	}

	// An operation that refers successors submits a confirmed candidate
	// in the reviewer's agency's name.
	op2 := &takedown.Operation{Slug: "rad-2", Name: "Second day", Status: takedown.OperationOpen, Agencies: []string{"aa-iru"},
		Evidence: takedown.EvidenceOff, Successors: takedown.SuccessorsRefer}
	if err := db.CreateOperation(ctx, op2); err != nil {
		t.Fatal(err)
	}
	if got, err := db.FindOperation(ctx, "rad-2"); err != nil || got.Successors != takedown.SuccessorsRefer {
		t.Fatalf("the operation's successor policy: %+v, %v", got, err)
	}
	res, err := db.Submit(ctx, op2.ID, []takedown.NewSubmission{hb.sub(hb.a, "gone_two", "")})
	if err != nil {
		t.Fatal(err)
	}
	goneID := res[0].ItemID
	if _, err := db.RecordWatch(ctx, []takedown.WatchResult{{ItemID: goneID, At: tw, Found: []takedown.Discovery{channelFound("gone_three", "link")}}}); err != nil {
		t.Fatal(err)
	}
	var succID int64
	page, err := db.ListItems(ctx, takedown.ItemFilter{OperationID: op2.ID, Status: takedown.ItemCandidate})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("candidates of the second operation: %+v, %v", page, err)
	}
	succID = page.Items[0].ID
	if _, err := db.RecordMatches(ctx, op2.ID, round, []takedown.CandidateMatches{{SuccessorID: succID, Pairs: []takedown.ScoredPair{{PredecessorID: goneID, Score: 0.95, Signals: map[string]float64{"posts": 1}}}}}); err != nil {
		t.Fatal(err)
	}
	ms2, err := db.ListMatches(ctx, takedown.MatchFilter{OperationID: op2.ID})
	if err != nil || len(ms2) != 1 {
		t.Fatalf("matches of the second operation: %+v, %v", ms2, err)
	}
	for _, agency := range []string{"", "bb-iru"} {
		if _, err := db.ReviewMatch(ctx, ms2[0].ID, takedown.MatchReview{State: takedown.MatchConfirmed, Agency: agency}); takedown.ErrorCode(err) != takedown.EINVALID {
			t.Errorf("confirmed for referral in the name of agency %q: %v", agency, err)
		}
	}
	if got, err := db.FindMatch(ctx, ms2[0].ID); err != nil || got.State != takedown.MatchOpen {
		t.Errorf("a refused review changed the match: %+v, %v", got, err)
	}
	if _, err := db.ReviewMatch(ctx, ms2[0].ID, takedown.MatchReview{State: takedown.MatchConfirmed, Agency: "aa-iru"}); err != nil {
		t.Fatal(err)
	}
	succ, err := db.FindItem(ctx, succID)
	if err != nil || succ.Status != takedown.ItemSubmitted || succ.SubmissionCount != 1 || succ.Submissions[0].Agency != "aa-iru" ||
		succ.Submissions[0].Source != "resurgence" || !strings.Contains(succ.Submissions[0].Notes, "successor of item "+strconv.FormatInt(goneID, 10)) {
		t.Fatalf("the confirmed successor: %+v, %v", succ, err)
	}
	referable, err = db.ReferableItems(ctx, op2.ID, 0, 100)
	if err != nil || !slices.ContainsFunc(referable, func(it *takedown.Item) bool { return it.ID == succID }) {
		t.Errorf("the confirmed successor is not referable: %v", err)
	}
	evs, err = db.ListAudit(ctx, takedown.AuditFilter{Subject: "match:" + strconv.FormatInt(ms2[0].ID, 10)})
	if err != nil || len(evs) != 2 || evs[0].Action != "match.found" || evs[1].Action != "match.confirmed" || !strings.Contains(string(evs[1].Details), `"to_referral":true`) {
		t.Errorf("the match in the chain: %+v, %v", evs, err)
	}
	if _, _, err := takedown.VerifyAudit(ctx, db); err != nil {
		t.Errorf("the chain: %v", err)
	}
}

// testBreakdown: the operation's items counted by kind, platform,
// submitting agency and provider, each by status.
func testBreakdown(t *testing.T, open Opener) {
	hb := setupHolds(t, open, "one", "one/5")
	db := hb.db
	hb.submit(t, hb.sub(hb.b, "one", "seen by B too"))
	if err := db.SetAttributions(ctx, []takedown.ItemAttribution{{ItemID: hb.items["one"], Provider: "telegram", Via: "platform"}}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Breakdown(ctx, hb.op.ID)
	if err != nil {
		t.Fatal(err)
	}
	row := func(dim, group string, n int) takedown.BreakdownRow {
		return takedown.BreakdownRow{Dimension: dim, Group: group, Status: takedown.ItemSubmitted, Count: n}
	}
	want := []takedown.BreakdownRow{
		row("kind", "channel", 1), row("kind", "post", 1),
		row("platform", "telegram", 2),
		row("agency", "aa-iru", 2), row("agency", "bb-iru", 1),
		row("provider", "", 1), row("provider", "telegram", 1),
	}
	if !slices.Equal(got, want) {
		t.Errorf("breakdown %v, want %v", got, want)
	}
	other := &takedown.Operation{Slug: "rad-2", Name: "Quiet", Status: takedown.OperationOpen}
	if err := db.CreateOperation(ctx, other); err != nil {
		t.Fatal(err)
	}
	if rows, err := db.Breakdown(ctx, other.ID); err != nil || len(rows) != 0 {
		t.Errorf("breakdown of an empty operation: %v, %v", rows, err)
	}
	if _, err := db.Breakdown(ctx, 99999); takedown.ErrorCode(err) != takedown.ENOTFOUND {
		t.Errorf("breakdown of no operation: %v", err)
	}
}

// testCountsFollowChanges: the breakdown and the counts by status, which
// the stores keep as items change rather than count when asked, equal a
// count of the items themselves after submissions by two agencies (the
// same agency twice on one item), attribution, referral, confirmation,
// a candidate found by the watcher and then submitted, and items of a
// second operation.
func testCountsFollowChanges(t *testing.T, open Opener) { CountsFollowChanges(t, open) }

// CountsFollowChanges is testCountsFollowChanges for a backend's own
// tests, e.g. with its count deltas folded at every read.
func CountsFollowChanges(t *testing.T, open Opener) {
	hb := setupHolds(t, open, "c1", "c2", "c1/5", "c3")
	db := hb.db
	hb.submit(t, hb.sub(hb.b, "c1", "B too"), hb.sub(hb.b, "c2", "B once"), hb.sub(hb.b, "c2", "B twice"), hb.sub(hb.b, "c4", "B only"))
	other := &takedown.Operation{Slug: "rad-2", Name: "Other", Status: takedown.OperationOpen, Agencies: []string{"aa-iru"}}
	if err := db.CreateOperation(ctx, other); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Submit(ctx, other.ID, []takedown.NewSubmission{hb.sub(hb.a, "c1", "elsewhere"), hb.sub(hb.a, "c9", "elsewhere")}); err != nil {
		t.Fatal(err)
	}
	var attr []takedown.ItemAttribution
	for _, n := range []string{"c1", "c2", "c1/5"} {
		attr = append(attr, takedown.ItemAttribution{ItemID: hb.items[n], Provider: "telegram", Via: "platform"})
	}
	if err := db.SetAttributions(ctx, attr); err != nil {
		t.Fatal(err)
	}
	ConfirmOffline(t, db, hb.op.ID, "telegram", []int64{hb.items["c1"], hb.items["c1/5"]})
	candidate := hb.sub(hb.a, "c5", "")
	if _, err := db.RecordWatch(ctx, []takedown.WatchResult{{ItemID: hb.items["c1"], At: time.Now(), Found: []takedown.Discovery{{Recognition: candidate.Item, Via: "link"}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RecordWatch(ctx, []takedown.WatchResult{{ItemID: hb.items["c2"], At: time.Now(), Found: []takedown.Discovery{{Recognition: hb.sub(hb.a, "c6", "").Item, Via: "mention"}}}}); err != nil {
		t.Fatal(err)
	}
	hb.submit(t, hb.sub(hb.b, "c5", "B confirms the successor"))

	for _, op := range []*takedown.Operation{hb.op, other} {
		want := map[takedown.BreakdownRow]int{}
		wantStatus := map[takedown.ItemStatus]int{}
		page, err := db.ListItems(ctx, takedown.ItemFilter{OperationID: op.ID, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			full, err := db.FindItem(ctx, it.ID)
			if err != nil {
				t.Fatal(err)
			}
			groups := map[[2]string]bool{{"kind", string(it.Kind)}: true, {"platform", string(it.Platform)}: true, {"provider", it.Provider}: true}
			for _, s := range full.Submissions {
				groups[[2]string{"agency", s.Agency}] = true
			}
			for g := range groups {
				want[takedown.BreakdownRow{Dimension: g[0], Group: g[1], Status: it.Status}]++
			}
			wantStatus[it.Status]++
		}
		rows, err := db.Breakdown(ctx, op.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := map[takedown.BreakdownRow]int{}
		for _, r := range rows {
			n := r.Count
			r.Count = 0
			got[r] += n
		}
		if diff := gocmp.Diff(want, got); diff != "" {
			t.Errorf("%s: breakdown mismatch (-want +got):\n%s", op.Slug, diff)
		}
		counts, err := db.CountByStatus(ctx, op.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(wantStatus, counts); diff != "" {
			t.Errorf("%s: counts by status mismatch (-want +got):\n%s", op.Slug, diff)
		}
	}
	if got, _ := db.CountByStatus(ctx, hb.op.ID); got[takedown.ItemConfirmed] != 2 || got[takedown.ItemCandidate] != 1 {
		t.Errorf("counts by status %v: want 2 confirmed offline and 1 candidate (c6)", got)
	}
}

// ConfirmOffline refers items to provider in one referral its provider
// received an hour ago, and observes each offline twice, 20 minutes
// apart, so that they are confirmed offline: what verification would do,
// for the tests beyond this suite that need removed items (resurgence
// against the simulator).
func ConfirmOffline(t testing.TB, st takedown.Store, operationID int64, provider string, ids []int64) {
	t.Helper()
	r := &takedown.Referral{OperationID: operationID, Provider: provider, LegalBasis: takedown.BasisReferral}
	if _, err := st.CreateReferral(ctx, r, ids); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if err := st.RecordDelivery(ctx, r.ID, takedown.DeliveryUpdate{Channel: takedown.ChannelEmail, State: takedown.DeliveryDelivered, At: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var obs []takedown.Observation
	for _, id := range ids {
		for _, d := range []time.Duration{50 * time.Minute, 30 * time.Minute} {
			obs = append(obs, takedown.Observation{ItemID: id, At: now.Add(-d), Verdict: takedown.VerdictOffline, Reason: takedown.ReasonNotFound})
		}
	}
	if _, err := st.RecordObservations(ctx, obs, takedown.DefaultSchedule); err != nil {
		t.Fatal(err)
	}
}

// testSearch: the item list's text search finds the same items before
// and after the search index is filled, newest first, across pages, and
// finds a title given after an item was indexed once it is indexed again.
func testSearch(t *testing.T, open Opener) {
	hb := setupHolds(t, open, "alpha_relay", "beta_relay", "gamma_other", "delta_relay")
	db := hb.db
	find := func(step, text string, limit int) []string {
		t.Helper()
		var got []string
		f := takedown.ItemFilter{OperationID: hb.op.ID, Text: text, Limit: limit}
		for {
			page, err := db.ListItems(ctx, f)
			if err != nil {
				t.Fatalf("%s: %v", step, err)
			}
			for _, it := range page.Items {
				got = append(got, it.Handle)
			}
			if page.NextCursor == "" {
				return got
			}
			f.Cursor = page.NextCursor
		}
	}
	// Newest first: the IDs in submission order.
	want := []string{"delta_relay", "beta_relay", "alpha_relay"}
	slices.SortFunc(want, func(a, b string) int { return int(hb.items[b] - hb.items[a]) })
	if got := find("before indexing", "RELAY", 2); !slices.Equal(got, want) {
		t.Errorf("before indexing: %v, want %v", got, want)
	}
	// Index two of the four: the search reads the index and the rest.
	if _, err := db.IndexSearch(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if got := find("half indexed", "relay", 1); !slices.Equal(got, want) {
		t.Errorf("half indexed: %v, want %v", got, want)
	}
	for {
		n, err := db.IndexSearch(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	if got := find("indexed", "relay", 2); !slices.Equal(got, want) {
		t.Errorf("indexed: %v, want %v", got, want)
	}
	if got := find("a URL's part", "t.me/gamma", 10); !slices.Equal(got, []string{"gamma_other"}) {
		t.Errorf("by URL: %v", got)
	}
	if got := find("two letters", "ta", 10); len(got) != 2 {
		t.Errorf("a two-letter search (scanned): %v", got) // beta, delta
	}
	if got := find("quotes", `"relay`, 10); len(got) != 0 {
		t.Errorf("a search with a quote: %v", got)
	}
	// What people type is text, not a pattern: % and _ are themselves.
	for _, text := range []string{"a%y", "a_relay%", `\`} {
		if got := find("wildcards", text, 10); len(got) != 0 {
			t.Errorf("a search for %q: %v, want nothing", text, got)
		}
	}
	if got := find("underscore", "ta_rel", 10); !slices.Equal(got, []string{"delta_relay", "beta_relay"}) && !slices.Equal(got, []string{"beta_relay", "delta_relay"}) {
		t.Errorf(`a search for "ta_rel": %v, want beta_relay and delta_relay`, got)
	}
	// A title given after indexing is found once indexed again.
	s := hb.sub(hb.b, "gamma_other", "")
	s.Submission.Title = "Weather Bulletin"
	hb.submit(t, s)
	if _, err := db.IndexSearch(ctx, 100); err != nil {
		t.Fatal(err)
	}
	if got := find("a title given later", "bulletin", 10); !slices.Equal(got, []string{"gamma_other"}) {
		t.Errorf("a title given after indexing: %v", got)
	}
}

// testReportSnapshots: an operation's latest report is kept whole; an
// older one does not replace it.
func testReportSnapshots(t *testing.T, open Opener) {
	hb := setupHolds(t, open, "one")
	db := hb.db
	if _, err := db.LoadReportSnapshot(ctx, hb.op.ID); takedown.ErrorCode(err) != takedown.ENOTFOUND {
		t.Errorf("no report yet: %v", err)
	}
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	r := &takedown.Report{Operation: "rad-1", Name: "Action day", AsOf: t0, Preliminary: true, Items: 1, TakenOffline: 0,
		ByStatus:    map[takedown.ItemStatus]int{takedown.ItemSubmitted: 1},
		StillOnline: []takedown.SurvivalCurve{{Group: "telegram", Items: 1, Points: []takedown.SurvivalPoint{{Seconds: 0, Survival: 1, AtRisk: 1}}}}}
	if err := db.SaveReportSnapshot(ctx, hb.op.ID, r); err != nil {
		t.Fatal(err)
	}
	older := *r
	older.AsOf, older.Items = t0.Add(-time.Hour), 99
	if err := db.SaveReportSnapshot(ctx, hb.op.ID, &older); err != nil {
		t.Fatal(err)
	}
	got, err := db.LoadReportSnapshot(ctx, hb.op.ID)
	if err != nil || !got.AsOf.Equal(t0) || got.Items != 1 || got.ByStatus[takedown.ItemSubmitted] != 1 || len(got.StillOnline) != 1 || got.StillOnline[0].Points[0].AtRisk != 1 {
		t.Errorf("the kept report: %+v, %v", got, err)
	}
	newer := *r
	newer.AsOf, newer.Items = t0.Add(time.Minute), 2
	if err := db.SaveReportSnapshot(ctx, hb.op.ID, &newer); err != nil {
		t.Fatal(err)
	}
	if got, err := db.LoadReportSnapshot(ctx, hb.op.ID); err != nil || got.Items != 2 {
		t.Errorf("a newer report did not replace it: %+v, %v", got, err)
	}
}
