package auth_test

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/auth"
)

// phcOf hashes pw with the given parameters, as another version of
// takedown (or a cheaper test) would have.
func phcOf(pw string, m, t uint32, p uint8) string {
	salt := []byte("0123456789abcdef")
	key := argon2.IDKey([]byte(pw), salt, t, m, p, 32)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", m, t, p, enc.EncodeToString(salt), enc.EncodeToString(key))
}

func TestHashPassword(t *testing.T) {
	t.Parallel()
	const pw = "correct horse battery staple"
	h, err := auth.HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^\$argon2id\$v=19\$m=65536,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`).MatchString(h) {
		t.Errorf("hash %q is not the expected PHC string", h)
	}
	h2, _ := auth.HashPassword(pw)
	if h == h2 {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	for _, c := range []struct {
		pw   string
		want bool
	}{
		{pw, true},
		{"correct horse battery stapl", false},
		{"Correct horse battery staple", false},
		{pw + " ", false},
		{"", false},
	} {
		if got := auth.CheckPassword(h, c.pw); got != c.want {
			t.Errorf("CheckPassword(hash, %q) = %v, want %v", c.pw, got, c.want)
		}
	}
	if auth.NeedsRehash(h) {
		t.Error("NeedsRehash of a fresh hash = true")
	}
}

func TestPasswordPolicy(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, pw string
		ok       bool
		msg      string // in the error
	}{
		{"empty", "", false, "at least 12 characters"},
		{"eleven", "abcdefghijk", false, "at least 12 characters; this one has 11"},
		{"twelve", "abcdefghijkl", true, ""},
		{"twelve runes, more bytes", "пароль-парол", true, ""},
		{"one character", strings.Repeat("a", 20), false, "one character repeated"},
		{"one multi-byte character", strings.Repeat("é", 20), false, "one character repeated"},
		{"two characters", strings.Repeat("ab", 10), true, ""},
		{"longest", strings.Repeat("ab", 512), true, ""},
		{"too long", strings.Repeat("ab", 512) + "c", false, "at most 1024 bytes"},
		{"not UTF-8", "abcdefghijkl\xff", false, "UTF-8"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h, err := auth.HashPassword(c.pw)
			if c.ok {
				if err != nil {
					t.Fatalf("HashPassword: %v", err)
				}
				if !auth.CheckPassword(h, c.pw) {
					t.Fatal("the password does not match its hash")
				}
				return
			}
			if takedown.ErrorCode(err) != takedown.EINVALID || !strings.Contains(takedown.ErrorMessage(err), c.msg) {
				t.Fatalf("HashPassword error = %v, want EINVALID with %q", err, c.msg)
			}
		})
	}
}

func TestCheckPasswordTampered(t *testing.T) {
	t.Parallel()
	const pw = "correct horse battery staple"
	good := phcOf(pw, 64, 1, 1)
	if !auth.CheckPassword(good, pw) {
		t.Fatal("the untampered hash does not match")
	}
	f := strings.Split(good, "$") // "", argon2id, v=19, params, salt, hash
	with := func(i int, v string) string {
		g := append([]string(nil), f...)
		g[i] = v
		return strings.Join(g, "$")
	}
	for _, c := range []struct{ name, encoded string }{
		{"empty", ""},
		{"4 GiB memory", with(3, "m=4294967295,t=1,p=1")},
		{"1 GiB memory", with(3, "m=1048576,t=1,p=1")},
		{"memory overflows 32 bits", with(3, "m=4294967296,t=1,p=1")},
		{"a thousand passes", with(3, "m=64,t=1000,p=1")},
		{"too costly together", with(3, "m=262144,t=10,p=1")},
		{"no passes", with(3, "m=64,t=0,p=1")},
		{"no lanes", with(3, "m=64,t=1,p=0")},
		{"255 lanes", with(3, "m=65536,t=1,p=255")},
		{"memory below 8 per lane", with(3, "m=8,t=1,p=2")},
		{"signed number", with(3, "m=+64,t=1,p=1")},
		{"negative number", with(3, "m=-64,t=1,p=1")},
		{"parameters out of order", with(3, "t=1,m=64,p=1")},
		{"missing parameter", with(3, "m=64,t=1")},
		{"extra parameter", with(3, "m=64,t=1,p=1,k=1")},
		{"argon2i", with(1, "argon2i")},
		{"version 16", with(2, "v=16")},
		{"salt not base64", with(4, "!!!!")},
		{"short salt", with(4, "AAAA")},
		{"padded hash", with(5, f[5]+"=")},
		{"short hash", with(5, f[5][:16])},
		{"huge hash", with(5, strings.Repeat("A", 200))},
		{"wrong hash", with(5, strings.Repeat("A", 43))},
		{"extra field", good + "$x"},
		{"no leading dollar", strings.TrimPrefix(good, "$")},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			if auth.CheckPassword(c.encoded, pw) {
				t.Errorf("CheckPassword(%q) accepted the password", c.encoded)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("CheckPassword(%q) took %v", c.encoded, d)
			}
			if !auth.NeedsRehash(c.encoded) {
				t.Errorf("NeedsRehash(%q) = false for an unusable hash", c.encoded)
			}
		})
	}
}

func TestNeedsRehash(t *testing.T) {
	t.Parallel()
	const pw = "correct horse battery staple"
	for _, c := range []struct {
		name    string
		m, t    uint32
		p       uint8
		rehash  bool
		matches bool
	}{
		{"OWASP minimum", 19 * 1024, 2, 1, true, true},
		{"fewer passes", 64 * 1024, 1, 1, true, true},
		{"more lanes", 64 * 1024, 2, 2, true, true},
		{"current", 64 * 1024, 2, 1, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := phcOf(pw, c.m, c.t, c.p)
			if got := auth.CheckPassword(h, pw); got != c.matches {
				t.Errorf("CheckPassword = %v", got)
			}
			if got := auth.NeedsRehash(h); got != c.rehash {
				t.Errorf("NeedsRehash(%s) = %v, want %v", h, got, c.rehash)
			}
		})
	}
}

func TestNewToken(t *testing.T) {
	t.Parallel()
	format := regexp.MustCompile(`^tdk_[A-Za-z0-9_-]{43}$`)
	seen := map[string]bool{}
	for range 1000 {
		secret, prefix, hash := auth.NewToken()
		if !format.MatchString(secret) {
			t.Fatalf("secret %q has the wrong form", secret)
		}
		if prefix != secret[:12] || !strings.HasPrefix(prefix, "tdk_") {
			t.Fatalf("prefix %q of %q", prefix, secret)
		}
		if string(hash) != string(auth.HashSecret(secret)) || len(hash) != 32 {
			t.Fatalf("hash of %q is not its SHA-256", secret)
		}
		if seen[secret] || seen[prefix] {
			t.Fatalf("secret or prefix %q repeats", secret)
		}
		seen[secret], seen[prefix] = true, true

		id, idHash := auth.NewSessionID()
		if !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).MatchString(id) || string(idHash) != string(auth.HashSecret(id)) {
			t.Fatalf("session ID %q or its hash is wrong", id)
		}
		if seen[id] {
			t.Fatalf("session ID %q repeats", id)
		}
		seen[id] = true
	}
	// The well-known SHA-256 of "abc".
	if got := fmt.Sprintf("%x", auth.HashSecret("abc")); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("HashSecret(abc) = %s", got)
	}
}

func TestParseBearer(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		header, want string
		ok           bool
	}{
		{"Bearer tdk_abc", "tdk_abc", true},
		{"bearer tdk_abc", "tdk_abc", true},
		{"BEARER   tdk_abc", "tdk_abc", true},
		{"Bearer a-b.c_d~e+f/g==", "a-b.c_d~e+f/g==", true},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Bearer tdk abc", "", false},
		{"Bearer tdk_abc ", "", false},
		{"Bearer ==", "", false},
		{"Bearer a=b", "", false},
		{"Basic dXNlcjpwYXNz", "", false},
		{"Bearertdk_abc", "", false},
		{"Bearer\ttdk_abc", "", false},
		{"", "", false},
	} {
		got, ok := auth.ParseBearer(c.header)
		if got != c.want || ok != c.ok {
			t.Errorf("ParseBearer(%q) = %q, %v; want %q, %v", c.header, got, ok, c.want, c.ok)
		}
	}
}

const fuzzPassword = "correct horse battery staple"

func FuzzCheckPassword(f *testing.F) {
	cheap := phcOf(fuzzPassword, 8, 1, 1) // the smallest argon2id: fast to fuzz
	f.Add(cheap, fuzzPassword)
	f.Add(cheap, "wrong")
	f.Add(phcOf(fuzzPassword, 64, 2, 2), fuzzPassword)
	f.Add(strings.Replace(cheap, "m=8,", "m=4294967295,", 1), fuzzPassword)
	f.Add(strings.Replace(cheap, "t=1,", "t=99999,", 1), fuzzPassword)
	f.Add("$argon2id$v=19$m=8,t=1,p=1$$", "")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, encoded, pw string) {
		if auth.CheckPassword(encoded, pw) && pw != fuzzPassword {
			t.Fatalf("CheckPassword(%q, %q) accepted a wrong password", encoded, pw)
		}
		if pw != fuzzPassword && auth.CheckPassword(cheap, pw) {
			t.Fatalf("CheckPassword(good hash, %q) accepted a wrong password", pw)
		}
		auth.NeedsRehash(encoded)
	})
}

func FuzzParseBearer(f *testing.F) {
	for _, s := range []string{"Bearer tdk_abc", "bearer  x==", "Basic x", "Bearer", "Bearer a b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		tok, ok := auth.ParseBearer(header)
		if !ok {
			if tok != "" {
				t.Fatalf("ParseBearer(%q) = %q with false", header, tok)
			}
			return
		}
		if tok == "" || strings.ContainsAny(tok, " \t\r\n") || !strings.HasSuffix(header, tok) ||
			!strings.EqualFold(header[:6], "bearer") {
			t.Fatalf("ParseBearer(%q) = %q", header, tok)
		}
		if again, ok := auth.ParseBearer("Bearer " + tok); !ok || again != tok {
			t.Fatalf("ParseBearer does not read back %q", tok)
		}
	})
}

func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := auth.HashPassword("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
