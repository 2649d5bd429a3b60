// Package auth authenticates takedown's users: password hashes, API
// tokens, browser sessions, logins with rate limits, and optional login
// through an OpenID Connect provider.
//
// The store (takedown.UserService) sees only hashes: argon2id PHC strings
// for passwords, SHA-256 for token secrets and session IDs. Token secrets
// and session IDs are 256 random bits, so a fast hash is enough for them;
// passwords are chosen by people and need a slow, memory-hard one.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/takedown-project/takedown"
)

// Argon2id parameters for new hashes. OWASP's password storage cheat
// sheet lists m=19 MiB, t=2, p=1 as the minimum; RFC 9106 recommends
// 64 MiB where memory allows. 64 MiB with two passes costs about 75 ms on
// one core of the 2-core reference server (BenchmarkHashPassword): slow
// enough to cost a guesser dearly, quick enough for a login. p=1 because
// more lanes only buy latency with cores, and logins run side by side:
// Authenticator lets at most GOMAXPROCS hashes run at once, which also
// caps the memory they take (64 MiB each).
const (
	argonMemory  = 64 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	saltLen      = 16
)

// Bounds on the parameters CheckPassword accepts from a stored hash, so
// that a tampered hash cannot make a login allocate gigabytes or run for
// minutes. They leave room to raise the parameters above.
const (
	maxArgonMemory = 256 * 1024 // KiB
	maxArgonTime   = 10
	maxArgonLanes  = 8
	// maxArgonCost bounds memory × passes: at most four times the work
	// of a current hash.
	maxArgonCost = 4 * argonMemory * argonTime
	minSaltLen   = 8
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 64
)

// Password policy (NIST SP 800-63B: length matters, composition rules do
// not). The upper bound keeps the hash's input reasonable.
const (
	MinPasswordChars = 12
	MaxPasswordBytes = 1024
)

var b64 = base64.RawStdEncoding.Strict()

// checkPolicy returns an EINVALID error for a password that may not be
// set.
func checkPolicy(pw string) error {
	switch n := utf8.RuneCountInString(pw); {
	case !utf8.ValidString(pw):
		return takedown.Errorf(takedown.EINVALID, "a password must be text (UTF-8)")
	case n < MinPasswordChars:
		return takedown.Errorf(takedown.EINVALID, "a password needs at least %d characters; this one has %d", MinPasswordChars, n)
	case len(pw) > MaxPasswordBytes:
		return takedown.Errorf(takedown.EINVALID, "a password may be at most %d bytes long", MaxPasswordBytes)
	case oneChar(pw):
		return takedown.Errorf(takedown.EINVALID, "a password may not be one character repeated")
	}
	return nil
}

// oneChar reports whether pw repeats a single character.
func oneChar(pw string) bool {
	first, _ := utf8.DecodeRuneInString(pw)
	for _, r := range pw {
		if r != first {
			return false
		}
	}
	return true
}

// HashPassword checks pw against the password policy and returns its
// argon2id hash as a PHC string:
// $argon2id$v=19$m=65536,t=2,p=1$<salt>$<hash>, base64 without padding.
func HashPassword(pw string) (string, error) {
	if err := checkPolicy(pw); err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	rand.Read(salt) // never fails (crypto/rand, Go 1.24+)
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return encodePHC(phc{memory: argonMemory, time: argonTime, lanes: argonThreads, salt: salt, key: key}), nil
}

// phc is a parsed argon2id hash.
type phc struct {
	memory, time uint32
	lanes        uint8
	salt, key    []byte
}

func encodePHC(h phc) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, h.memory, h.time, h.lanes,
		b64.EncodeToString(h.salt), b64.EncodeToString(h.key))
}

// parsePHC reads an argon2id PHC string strictly, refusing parameters
// outside the bounds above.
func parsePHC(s string) (phc, bool) {
	var h phc
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != "v="+strconv.Itoa(argon2.Version) {
		return h, false
	}
	ps := strings.Split(f[3], ",")
	if len(ps) != 3 {
		return h, false
	}
	m, ok1 := param(ps[0], "m=", maxArgonMemory)
	t, ok2 := param(ps[1], "t=", maxArgonTime)
	p, ok3 := param(ps[2], "p=", maxArgonLanes)
	if !ok1 || !ok2 || !ok3 || t < 1 || p < 1 || m < 8*p || uint64(m)*uint64(t) > maxArgonCost {
		return h, false
	}
	salt, err1 := b64.DecodeString(f[4])
	key, err2 := b64.DecodeString(f[5])
	if err1 != nil || err2 != nil || len(salt) < minSaltLen || len(salt) > maxSaltLen || len(key) < minKeyLen || len(key) > maxKeyLen {
		return h, false
	}
	return phc{memory: m, time: t, lanes: uint8(p), salt: salt, key: key}, true
}

// param reads "name=decimal" with a value of at most limit.
func param(s, name string, limit uint32) (uint32, bool) {
	v, ok := strings.CutPrefix(s, name)
	if !ok || len(v) == 0 || len(v) > 10 {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n > uint64(limit) {
		return 0, false
	}
	return uint32(n), true
}

// CheckPassword reports whether pw matches the PHC string encoded. A
// malformed hash, or one whose parameters are out of bounds, matches
// nothing.
func CheckPassword(encoded, pw string) bool {
	h, ok := parsePHC(encoded)
	if !ok || len(pw) > MaxPasswordBytes {
		return false
	}
	key := argon2.IDKey([]byte(pw), h.salt, h.time, h.memory, h.lanes, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1
}

// NeedsRehash reports whether encoded was made with other parameters
// than HashPassword uses now (or cannot be read): after a successful
// login, the password should be hashed again and stored.
func NeedsRehash(encoded string) bool {
	h, ok := parsePHC(encoded)
	return !ok || h.memory != argonMemory || h.time != argonTime || h.lanes != argonThreads ||
		len(h.key) != argonKeyLen || len(h.salt) != saltLen
}

// Token secrets look like "tdk_" and 43 characters of base64url (256
// random bits); the prefix makes a leaked token easy to recognize for
// secret scanners, and its first 12 characters tell tokens apart in lists.
const (
	TokenPrefix    = "tdk_"
	tokenRandBytes = 32
	tokenLen       = len(TokenPrefix) + 43
	tokenPrefixLen = 12
	sessionIDLen   = 43
)

// NewToken returns a new token secret (shown once to its owner), its
// prefix (stored in clear, to tell tokens apart) and its hash (stored).
func NewToken() (secret, prefix string, hash []byte) {
	secret = TokenPrefix + randomString()
	return secret, secret[:tokenPrefixLen], HashSecret(secret)
}

// HashSecret returns the SHA-256 hash of a token secret or session ID:
// what the store keeps and looks them up by. The secrets are random and
// long, so a fast unsalted hash is enough; a copy of the database gives
// no working credential.
func HashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// NewSessionID returns a new session ID (the cookie's value) and its hash
// (stored).
func NewSessionID() (id string, hash []byte) {
	id = randomString()
	return id, HashSecret(id)
}

// randomString returns 256 random bits in base64url: 43 characters.
func randomString() string {
	b := make([]byte, tokenRandBytes)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParseBearer returns the token of an Authorization header of the Bearer
// scheme (RFC 6750: the scheme in any case, one or more spaces, a
// b64token). It reports false for another scheme or a malformed token.
func ParseBearer(header string) (string, bool) {
	scheme, tok, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimLeft(tok, " ")
	if !isB64Token(tok) {
		return "", false
	}
	return tok, true
}

// isB64Token reports whether s is an RFC 6750 b64token:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" || len(s) > 4096 {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/':
		default:
			return false
		}
	}
	return true
}

// wellFormedToken reports whether s has the shape of a token secret or
// session ID, so that garbage costs no database lookup.
func wellFormedToken(s string) bool {
	return len(s) == tokenLen && strings.HasPrefix(s, TokenPrefix) && isBase64URL(s[len(TokenPrefix):])
}

func wellFormedSessionID(s string) bool { return len(s) == sessionIDLen && isBase64URL(s) }

func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
