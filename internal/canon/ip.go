package canon

import (
	"strconv"
	"strings"
)

// parseIPv4 recognises an IPv4 address in any notation inet_aton accepts:
// one to four parts, each decimal, octal (leading 0) or hex (0x), the last
// part filling the remaining bytes; "3279880203", "0xc3.0x7f.0.11" and
// "195.127.11" are all IPv4 addresses. It returns the dotted-decimal form.
func parseIPv4(h string) (string, bool) {
	if h == "" || !isIPChar(h[len(h)-1]) {
		return "", false
	}
	// Cheap rejection: names with letters other than hex digits and 'x'.
	for i := 0; i < len(h); i++ {
		if !isIPChar(h[i]) && h[i] != '.' {
			return "", false
		}
	}
	fields := strings.Split(h, ".")
	if len(fields) > 4 {
		return "", false
	}
	var vals [4]uint64
	for i, f := range fields {
		v, ok := parseIPPart(f)
		if !ok {
			return "", false
		}
		vals[i] = v
	}
	n := len(fields)
	for i := 0; i < n-1; i++ {
		if vals[i] > 255 {
			return "", false
		}
	}
	if vals[n-1] >= 1<<(8*(5-n)) {
		return "", false
	}
	var addr uint64
	for i := 0; i < n-1; i++ {
		addr |= vals[i] << (8 * (3 - i))
	}
	addr |= vals[n-1]
	var b []byte
	for i := 3; i >= 0; i-- {
		b = strconv.AppendUint(b, (addr>>(8*i))&255, 10)
		if i > 0 {
			b = append(b, '.')
		}
	}
	return string(b), true
}

func isIPChar(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || c == 'x'
}

func parseIPPart(f string) (uint64, bool) {
	if f == "" {
		return 0, false
	}
	base := 10
	switch {
	case len(f) > 1 && (f[:2] == "0x"):
		base, f = 16, f[2:]
		if f == "" {
			return 0, true // "0x" alone is zero, as inet_aton takes it
		}
	case len(f) > 1 && f[0] == '0':
		base, f = 8, f[1:]
	}
	v, err := strconv.ParseUint(f, base, 32)
	return v, err == nil
}
