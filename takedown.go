// Package takedown holds the domain of a referral action day: operations,
// agencies, the items they find and the submissions that report them, and
// the service interfaces the storage backends implement. It imports only the
// standard library; implementations live under internal/ and are wired
// together in cmd/takedown.
package takedown

import "regexp"

// slugPattern is what operation slugs and agency codes look like: short,
// lower case, safe in URLs, file names and shell commands.
var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// ValidSlug reports whether s can name an operation or an agency.
func ValidSlug(s string) bool { return slugPattern.MatchString(s) }
