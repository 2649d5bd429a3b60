package directory

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/takedown-project/takedown"
)

func TestBuiltin(t *testing.T) {
	t.Parallel()
	ps := Builtin()
	platforms := map[takedown.Platform]string{}
	for _, p := range ps {
		for _, pl := range p.Platforms {
			if other, ok := platforms[pl]; ok {
				t.Errorf("platform %s claimed by %s and %s", pl, other, p.Code)
			}
			platforms[pl] = p.Code
		}
		if p.Contacts.AbuseEmail != "" || p.Contacts.API != nil {
			t.Errorf("%s ships with contacts; they are the operator's to fill in", p.Code)
		}
	}
	for _, pl := range takedown.Platforms {
		if _, ok := platforms[pl]; !ok && pl != takedown.PlatformWeb {
			t.Errorf("no built-in provider for platform %s", pl)
		}
	}
}

func TestParseRoundTrip(t *testing.T) {
	t.Parallel()
	in := `
- code: hoster
  name: An example hosting company
  domains: [Hoster.example, sites.hoster.example]
  asns: [64500]
  languages: [de, en]
  contacts:
    abuse_email: abuse@hoster.example
    order_email: tco@hoster.example
    webhook: {url: "https://hooks.hoster.example/t", secret: whsec_c2VjcmV0}
    api: {url: "https://api.hoster.example/v1", token: tok}
`
	ps, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].Domains[0] != "hoster.example" || ps[0].Languages[0] != "de" || ps[0].Contacts.API.Token != "tok" {
		t.Fatalf("parsed %+v", ps[0])
	}
	b, err := Render(ps)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ps, again); diff != "" {
		t.Errorf("render and parse mismatch (-want +got):\n%s", diff)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, in, want string }{
		{"empty", "", "empty"},
		{"not a list", "code: x", "cannot unmarshal"},
		{"unknown field", "- {code: x, name: X, phone: 1}", "phone"},
		{"bad code", "- {code: 'X Y', name: X}", "provider code"},
		{"twice", "- {code: x, name: X}\n- {code: x, name: Y}", "appears twice"},
		{"bad mail", "- {code: x, name: X, contacts: {abuse_email: nope}}", "e-mail"},
		{"bad webhook", "- {code: x, name: X, contacts: {webhook: {url: 'ftp://x'}}}", "http"},
		{"web platform", "- {code: x, name: X, platforms: [web]}", "platform"},
	} {
		_, err := Parse([]byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(builtin)
	f.Add([]byte("- {code: x, name: X, domains: [a.example], asns: [1]}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, err := Parse(b)
		if err != nil {
			return
		}
		for _, p := range ps {
			if err := p.Validate(); err != nil {
				t.Fatalf("Parse returned an invalid provider: %v", err)
			}
		}
	})
}
