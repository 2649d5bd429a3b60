package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/takedown-project/takedown"
)

// The successors page lists the matches with the signals that made them;
// the operation's analysts confirm or reject them; others read, or find
// nothing; the item page shows the item's place in the chain.
func TestMatchesPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.db.RecordMatches(ctx, b.op.ID, b.now, []takedown.CandidateMatches{
		{SuccessorID: b.items["other"], Pairs: []takedown.ScoredPair{{PredecessorID: b.items["one"], Score: 0.912, Signals: map[string]float64{"posts": 0.8, "<script>": 1}}}},
		{SuccessorID: b.items["order"], Pairs: []takedown.ScoredPair{{PredecessorID: b.items["one"], Score: 0.74, Signals: map[string]float64{"avatar": 1}}}},
	}); err != nil {
		t.Fatal(err)
	}
	ms, err := b.db.ListMatches(ctx, takedown.MatchFilter{OperationID: b.op.ID})
	if err != nil || len(ms) != 2 {
		t.Fatalf("matches %v, %v", ms, err)
	}
	path := "/operations/rad-1/matches"
	p := b.get(t, "ana", path)
	wantStatus(t, p, http.StatusOK, "the successors page")
	wantIn(t, p, "the successors page", "0.91", "posts 0.80", "&lt;script&gt; 1.00", "Confirm match "+strconv.FormatInt(ms[0].ID, 10), "Resurgence: did the network come back?",
		`href="/operations/rad-1/items/`+b.item("one")+`"`)
	wantNotIn(t, p, "the successors page", "<script>")
	wantIn(t, b.get(t, "aud", path), "an auditor's successors page", "0.91")
	wantNotIn(t, b.get(t, "aud", path), "an auditor's successors page", "Confirm match")
	wantStatus(t, b.get(t, "liaison-a", path), http.StatusNotFound, "a liaison")
	wantStatus(t, b.get(t, "ana", path+"?state=maybe"), http.StatusBadRequest, "a bad state")

	review := func(user string, id int64, state string) page {
		return b.post(t, user, path+"/"+strconv.FormatInt(id, 10)+"/review", url.Values{"state": {state}, "note": {"same <b>posts</b>"}})
	}
	wantStatus(t, review("aud", ms[0].ID, "confirmed"), http.StatusForbidden, "an auditor's review")
	p = review("ana", ms[0].ID, "confirmed")
	if p.status != http.StatusSeeOther || p.loc != path+"?done=confirmed" {
		t.Fatalf("confirm: %d %q", p.status, p.loc)
	}
	wantIn(t, b.get(t, "ana", p.loc), "after confirming", "The match is confirmed")
	wantStatus(t, review("ana", ms[0].ID, "rejected"), http.StatusBadRequest, "a second review")
	wantStatus(t, review("ana", ms[1].ID, "maybe"), http.StatusBadRequest, "a bad verdict")
	wantStatus(t, review("ana", 999999, "rejected"), http.StatusNotFound, "no match")
	p = b.get(t, "ana", path+"?state=confirmed")
	wantIn(t, p, "confirmed matches", "confirmed", "same &lt;b&gt;posts&lt;/b&gt;", "user:ana")
	// The item page shows both sides.
	wantIn(t, b.get(t, "ana", "/operations/rad-1/items/"+b.item("one")), "the removed item's page", "a candidate successor of this one", `href="/operations/rad-1/items/`+b.item("other")+`"`)
	wantIn(t, b.get(t, "ana", "/operations/rad-1/items/"+b.item("other")), "the successor's page", "the removed item this one may re-create")
	wantIn(t, b.get(t, "ana", "/operations/rad-1"), "the operation's page", `href="/operations/rad-1/matches"`, "Resurgence: did the network come back?")
}
