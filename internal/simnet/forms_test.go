package simnet

import (
	"testing"

	"github.com/takedown-project/takedown/internal/canon"
)

// The exports' ground truth counts entities, and an import counts
// identities: the two agree only if every form the exports write of an
// entity is recognised as one identity, and no two entities share one.
func TestURLFormsAreOneIdentityPerEntity(t *testing.T) {
	t.Parallel()
	w, err := Generate(smallScenario(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	owner := map[string]int{}
	for _, e := range w.Entities {
		r := rng(1, "forms-test", uint64(e.ID))
		want := ""
		for i := 0; i < 12; i++ {
			u := w.urlForm(r, e)
			rec, err := canon.Recognize(u)
			if err != nil {
				t.Fatalf("entity %d (%s): form %q is not recognised: %v", e.ID, e.URL, u, err)
			}
			if want == "" {
				want = rec.Identity
			}
			if rec.Identity != want {
				t.Fatalf("entity %d (%s): form %q is %s, another form was %s", e.ID, e.URL, u, rec.Identity, want)
			}
			if got := w.Resolve(u); got != e {
				t.Fatalf("form %q of entity %d resolves to %v on the simulated internet", u, e.ID, got)
			}
		}
		if other, ok := owner[want]; ok {
			t.Fatalf("entities %d and %d share the identity %s", other, e.ID, want)
		}
		owner[want] = e.ID
	}
}
