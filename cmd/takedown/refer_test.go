package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/takedown-project/takedown"
)

const goodOrder = `issuing_authority: Example competent authority
reference: RO-2026-0017
contact: orders@authority.example
legal_basis: Regulation (EU) 2021/784, Article 3
reasons: terrorist content within Article 2(7)(a)
issued_at: 2026-11-24T10:00:00Z
redress: an administrative review before the issuing authority (Article 9)
disclosure_restricted: true
restricted_until: 2026-12-24T10:00:00Z
`

func TestParseOrder(t *testing.T) {
	t.Parallel()
	o, err := parseOrder([]byte(goodOrder), "order.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if o.Reference != "RO-2026-0017" || !o.DisclosureRestricted || o.RestrictedUntil == nil || o.IssuedAt.IsZero() {
		t.Errorf("order: %+v", o)
	}
	for name, bad := range map[string]string{
		"missing redress": strings.Replace(goodOrder, "redress:", "# redress:", 1),
		"unknown field":   goodOrder + "colour: red\n",
		"bad time":        strings.Replace(goodOrder, "2026-11-24T10:00:00Z", "yesterday", 1),
		"not yaml":        "{{{",
		"empty":           "",
	} {
		if _, err := parseOrder([]byte(bad), "order.yaml"); takedown.ErrorCode(err) != takedown.EINVALID || !strings.Contains(err.Error(), "order.yaml") {
			t.Errorf("%s: %v, want an EINVALID error naming the file", name, err)
		}
	}
	// Through the command: a removal order refused for a bad file, and
	// the referral basis refused with an order it cannot carry.
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	mustRun(t, "--db", db, "agency", "add", "aa-iru", "--name", "A")
	mustRun(t, "--db", db, "operation", "create", "rad-1", "--name", "One", "--agencies", "aa-iru")
	path := filepath.Join(dir, "order.yaml")
	os.WriteFile(path, []byte(strings.Replace(goodOrder, "contact:", "# contact:", 1)), 0o600)
	if code, _, errOut := runTakedown(t, "", "--db", db, "refer", "--operation", "rad-1", "--basis", "removal_order", "--order", path); code == 0 || !strings.Contains(errOut, "contact") {
		t.Errorf("an order without its contact: exit %d, %s", code, errOut)
	}
	if code, _, errOut := runTakedown(t, "", "--db", db, "refer", "--operation", "rad-1", "--basis", "removal_order"); code == 0 || !strings.Contains(errOut, "Annex I") {
		t.Errorf("a removal order without --order: exit %d, %s", code, errOut)
	}
}

func FuzzParseOrder(f *testing.F) {
	f.Add([]byte(goodOrder))
	f.Add([]byte("reference: [1, 2]\n"))
	f.Add([]byte("issued_at: 2026-13-45T99:00:00Z\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := parseOrder(b, "fuzz.yaml")
		if err != nil {
			if takedown.ErrorCode(err) != takedown.EINVALID {
				t.Fatalf("a bad order gave %v, want EINVALID", err)
			}
			return
		}
		if err := o.Validate(); err != nil {
			t.Fatalf("an accepted order does not validate: %v", err)
		}
	})
}
