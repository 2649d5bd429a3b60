package simnet

import (
	"bytes"
	"net/mail"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseScenario: any input gives a scenario that validates, or an
// error; never a panic, never a world too big to build.
func FuzzParseScenario(f *testing.F) {
	f.Add([]byte(demoScenario))
	f.Add([]byte("seed: 1\nnetwork: {items: 100}\n"))
	f.Add([]byte(`{"seed": 2, "network": {"items": 50, "outlets": 3}, "providers": {"x": {"reject": 0.5}}}`))
	f.Add([]byte("adversary: {delay: {median: 1d12h, p90: 3d}}\n"))
	f.Add([]byte("agencies: [{code: a, name: A, format: csv}, {code: a, name: B}]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseScenario(b)
		if err != nil {
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("ParseScenario returned a scenario that does not validate: %v", err)
		}
		if s.Network.Items > MaxItems || s.Network.Outlets < 1 {
			t.Fatalf("scenario out of bounds: %d items, %d outlets", s.Network.Items, s.Network.Outlets)
		}
		for _, p := range s.Providers {
			for _, d := range []Delay{p.RemovalDelay, p.OrderDelay, p.ReinstateDelay} {
				for _, u := range []float64{0, 0.5, 0.999999} {
					if d.Quantile(u) < 0 {
						t.Fatalf("negative delay from %+v", d)
					}
				}
			}
		}
	})
}

// FuzzMailMessage: whatever arrives at an abuse mailbox is read without a
// panic, and the URLs found are URLs from its text.
func FuzzMailMessage(f *testing.F) {
	f.Add([]byte("Subject: Removal order [RO-1]\r\n\r\nhttps://t.me/example_one\r\n"))
	f.Add([]byte("Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nhttps://x.com/a=\r\nb\r\n--b--\r\n"))
	f.Add([]byte("Content-Transfer-Encoding: base64\r\n\r\naHR0cHM6Ly90Lm1lL2E=\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		msg, err := mail.ReadMessage(bytes.NewReader(b))
		if err != nil {
			return
		}
		text, _ := messageText(msg)
		for _, u := range urlsIn(text) {
			if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				t.Fatalf("%q is not a URL", u)
			}
			if !strings.Contains(text, u) {
				t.Fatalf("%q is not in the text", u)
			}
		}
		if ref := referenceIn(string(b)); ref != "" && !utf8.ValidString(ref) {
			t.Fatalf("reference %q is not valid UTF-8", ref)
		}
	})
}
