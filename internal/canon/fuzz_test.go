package canon

import (
	"net/url"
	"testing"
	"unicode/utf8"
)

var fuzzSeeds = []string{
	"http://host/%25%32%35", "www.google.com", "http://3279880203/blah", "http://\x01\x80.com/",
	"https://telegram.me/s/Some_Channel?utm_source=x", "t.me/some_channel", "https://t.me/+AbCd",
	"https://x.com/a/status/1", "https://www.youtube.com/watch?v=AbCdEfGhIjK", "https://bücher.example/",
	"http://[2001:db8::1]:8080/x", "tg://resolve?domain=abcd", "https://www.facebook.com/profile.php?id=1",
	"http://a.b/%%%25%32%35asd%%", "http://x.example/a/../../b//c?d//e#f", "mailto:x@y.z", "%20x.example",
}

// FuzzCanonicalize: no panic, and a canonical URL is its own canonical form.
func FuzzCanonicalize(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, err := Canonicalize(in)
		if err != nil {
			return
		}
		again, err := Canonicalize(c)
		if err != nil {
			t.Fatalf("Canonicalize(%q) = %q, which fails: %v", in, c, err)
		}
		if again != c {
			t.Fatalf("not idempotent: Canonicalize(%q) = %q, Canonicalize(%q) = %q", in, c, c, again)
		}
	})
}

// FuzzRecognize: no panic; what is recognised is valid UTF-8, parses as a
// URL, and recognises as itself.
func FuzzRecognize(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r, err := Recognize(in)
		if err != nil {
			return
		}
		if !utf8.ValidString(r.Canonical) || !utf8.ValidString(r.Identity) {
			t.Fatalf("Recognize(%q) = %+v: not valid UTF-8", in, r)
		}
		if _, err := url.Parse(r.Canonical); err != nil {
			t.Fatalf("Recognize(%q).Canonical = %q does not parse: %v", in, r.Canonical, err)
		}
		again, err := Recognize(r.Canonical)
		if err != nil {
			t.Fatalf("Recognize(%q) = %q, which fails: %v", in, r.Canonical, err)
		}
		if again != r {
			t.Fatalf("canonical does not recognise as itself:\n in    %q\n first %+v\n again %+v", in, r, again)
		}
	})
}
