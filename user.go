package takedown

import (
	"context"
	"net/mail"
	"slices"
	"strings"
	"time"
)

// Role is what a user may do (DESIGN.md, "Users and roles").
type Role string

const (
	// RoleAdmin manages agencies, providers, users and tokens; it sees
	// no items.
	RoleAdmin Role = "admin"
	// RoleCoordinator runs the operations its agency takes part in: it
	// sees everything in them, every agency's notes and the details of
	// every hold, and publishes figures.
	RoleCoordinator Role = "coordinator"
	// RoleAnalyst submits items, places holds and reviews successors in
	// the operations its agency takes part in; it sees other agencies'
	// notes and attributes only where they were shared.
	RoleAnalyst Role = "analyst"
	// RoleProvider is a provider's liaison: it sees and answers only the
	// referrals addressed to its provider.
	RoleProvider Role = "provider"
	// RoleAuditor reads everything, changes nothing, and verifies the
	// audit chain and the evidence.
	RoleAuditor Role = "auditor"
)

// Roles lists every role.
var Roles = []Role{RoleAdmin, RoleCoordinator, RoleAnalyst, RoleProvider, RoleAuditor}

// User is a person who logs in (or a service that uses a token).
type User struct {
	ID          int64  `json:"-"`
	Name        string `json:"name"` // login name, a slug
	DisplayName string `json:"display_name,omitempty"`
	Email       string `json:"email,omitempty"`
	// A user belongs to one agency or one provider: its tenant.
	Agency     string `json:"agency,omitempty"`
	AgencyID   int64  `json:"-"`
	Provider   string `json:"provider,omitempty"`
	ProviderID int64  `json:"-"`
	Roles      []Role `json:"roles"`
	Disabled   bool   `json:"disabled"`
	// OIDCSubject links the user to an identity provider's account
	// ("issuer#subject"); "" for none.
	OIDCSubject string    `json:"oidc_subject,omitempty"`
	HasPassword bool      `json:"has_password"`
	CreatedAt   time.Time `json:"created_at"`
}

// Has reports whether u has role r.
func (u *User) Has(r Role) bool { return slices.Contains(u.Roles, r) }

// Validate reports an EINVALID error for a user that cannot be stored:
// roles must fit the tenant (a provider's liaison belongs to a provider
// and has that role alone; coordinators and analysts belong to an agency).
func (u *User) Validate() error {
	if !ValidSlug(u.Name) {
		return Errorf(EINVALID, "user name %q must be 1-63 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit", u.Name)
	}
	if u.Email != "" {
		if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email {
			return Errorf(EINVALID, "user %s: %q is not an e-mail address", u.Name, u.Email)
		}
	}
	if len(u.DisplayName) > 200 {
		return Errorf(EINVALID, "user %s: the display name is longer than 200 characters", u.Name)
	}
	if len(u.Roles) == 0 {
		return Errorf(EINVALID, "user %s needs at least one role (%s)", u.Name, joinRoles(Roles))
	}
	for _, r := range u.Roles {
		if !slices.Contains(Roles, r) {
			return Errorf(EINVALID, "user %s: unknown role %q (roles: %s)", u.Name, r, joinRoles(Roles))
		}
	}
	switch {
	case u.Agency != "" && u.Provider != "":
		return Errorf(EINVALID, "user %s belongs to an agency or to a provider, not both", u.Name)
	case u.Has(RoleProvider) && (u.Provider == "" || len(u.Roles) > 1):
		return Errorf(EINVALID, "user %s: the provider role belongs to a provider's liaison (--provider), alone", u.Name)
	case u.Provider != "" && !u.Has(RoleProvider):
		return Errorf(EINVALID, "user %s belongs to a provider and so has the provider role", u.Name)
	case (u.Has(RoleCoordinator) || u.Has(RoleAnalyst)) && u.Agency == "":
		return Errorf(EINVALID, "user %s: coordinators and analysts belong to an agency (--agency)", u.Name)
	}
	return nil
}

// NormalizeRoles sorts roles and drops repeats: the form stored.
func (u *User) NormalizeRoles() {
	rs := slices.Clone(u.Roles)
	slices.Sort(rs)
	u.Roles = slices.Compact(rs)
}

func joinRoles(rs []Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// ParseRoles reads a comma-separated list of roles.
func ParseRoles(s string) ([]Role, error) {
	var out []Role
	for _, f := range strings.Split(s, ",") {
		r := Role(strings.TrimSpace(strings.ToLower(f)))
		if r == "" {
			continue
		}
		if !slices.Contains(Roles, r) {
			return nil, Errorf(EINVALID, "unknown role %q (roles: %s)", r, joinRoles(Roles))
		}
		out = append(out, r)
	}
	return out, nil
}

// UserUpdate changes a user; nil fields stay as they are.
type UserUpdate struct {
	DisplayName  *string `json:"display_name,omitempty"`
	Email        *string `json:"email,omitempty"`
	Roles        *[]Role `json:"roles,omitempty"`
	Disabled     *bool   `json:"disabled,omitempty"`
	OIDCSubject  *string `json:"oidc_subject,omitempty"`
	PasswordHash *string `json:"-"` // from internal/auth, never a password
}

// Scope is what a token may do.
type Scope string

const (
	ScopeRead  Scope = "read"  // GET only
	ScopeWrite Scope = "write" // everything the user may do
)

// Token is a bearer token of a user, for API clients. Its secret is shown
// once, at creation, and stored only as a hash.
type Token struct {
	ID     int64  `json:"id"`
	User   string `json:"user"`
	UserID int64  `json:"-"`
	Name   string `json:"name"` // what it is for
	// Prefix is the secret's first characters, to tell tokens apart.
	Prefix     string     `json:"prefix"`
	Scopes     []Scope    `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// MaxTokenLifetime bounds a token's validity: a leaked token must not
// stay good for years.
const MaxTokenLifetime = 366 * 24 * time.Hour

// Validate reports an EINVALID error for a token that cannot be stored.
func (t *Token) Validate(now time.Time) error {
	if len(t.Name) > 100 {
		return Errorf(EINVALID, "token name is longer than 100 characters")
	}
	if len(t.Scopes) == 0 {
		return Errorf(EINVALID, "a token needs a scope: read or write")
	}
	for _, s := range t.Scopes {
		if s != ScopeRead && s != ScopeWrite {
			return Errorf(EINVALID, "unknown token scope %q: want read or write", s)
		}
	}
	switch {
	case !t.ExpiresAt.After(now):
		return Errorf(EINVALID, "a token must expire in the future")
	case t.ExpiresAt.Sub(now) > MaxTokenLifetime:
		return Errorf(EINVALID, "a token may live at most %d days", int(MaxTokenLifetime.Hours()/24))
	}
	return nil
}

// Usable reports whether the token can authenticate at now.
func (t *Token) Usable(now time.Time) bool {
	return t.RevokedAt == nil && now.Before(t.ExpiresAt)
}

// Session is a browser's login.
type Session struct {
	ID         int64     `json:"id"`
	UserID     int64     `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	// ExpiresAt is the absolute end; an idle session ends earlier.
	ExpiresAt time.Time `json:"expires_at"`
	Address   string    `json:"address"`
	UserAgent string    `json:"user_agent"`
	Via       string    `json:"via"` // "password" or "oidc"
}

// LoginAttempt is one try to log in, kept to limit guessing.
type LoginAttempt struct {
	Account string
	Address string
	At      time.Time
	OK      bool
	Reason  string // why it failed, for the audit chain
}

// UserService manages users and their credentials. Passwords, token
// secrets and session IDs reach it only as hashes (internal/auth makes
// them).
type UserService interface {
	// CreateUser stores u with a password hash ("" for none: a user who
	// logs in with a token or an identity provider) and sets its ID and
	// CreatedAt. Returns EINVALID for a bad user or an unknown agency or
	// provider, ECONFLICT if the name is taken.
	CreateUser(ctx context.Context, u *User, passwordHash string) error
	// FindUser returns the user with the given name. Returns ENOTFOUND if
	// there is none.
	FindUser(ctx context.Context, name string) (*User, error)
	// FindUserByOIDC returns the user linked to an identity provider's
	// subject. Returns ENOTFOUND if there is none.
	FindUserByOIDC(ctx context.Context, subject string) (*User, error)
	// ListUsers returns every user ordered by name.
	ListUsers(ctx context.Context) ([]*User, error)
	// UpdateUser applies upd. Returns ENOTFOUND for an unknown user,
	// EINVALID for a change that makes the user invalid.
	UpdateUser(ctx context.Context, name string, upd UserUpdate) (*User, error)
	// PasswordHash returns a user and its password hash ("" for none).
	// Returns ENOTFOUND for an unknown user.
	PasswordHash(ctx context.Context, name string) (*User, string, error)

	// CreateToken stores t, whose secret hashes to secretHash, and sets
	// its ID and CreatedAt. Returns ENOTFOUND for an unknown user,
	// EINVALID for a bad token.
	CreateToken(ctx context.Context, t *Token, secretHash []byte) error
	// ListTokens returns a user's tokens, newest first.
	ListTokens(ctx context.Context, user string) ([]*Token, error)
	// FindToken returns a token by ID. Returns ENOTFOUND if there is none.
	FindToken(ctx context.Context, id int64) (*Token, error)
	// RevokeToken ends a token now. Returns ENOTFOUND if there is none;
	// revoking a revoked token is not an error.
	RevokeToken(ctx context.Context, id int64) (*Token, error)
	// TokenBySecret returns the token whose secret hashes to secretHash,
	// with its user, and records its use at now. Returns EUNAUTHORIZED
	// for an unknown, expired or revoked token or a disabled user.
	TokenBySecret(ctx context.Context, secretHash []byte, now time.Time) (*Token, *User, error)

	// CreateSession stores a session whose ID hashes to idHash.
	CreateSession(ctx context.Context, s *Session, idHash []byte) error
	// SessionByID returns the session whose ID hashes to idHash, with its
	// user, and records activity at now. Returns EUNAUTHORIZED for an
	// unknown or ended session (idle longer than idle, or past its
	// absolute expiry) or a disabled user.
	SessionByID(ctx context.Context, idHash []byte, now time.Time, idle time.Duration) (*Session, *User, error)
	// EndSession ends a session (logout); an unknown one is not an error.
	EndSession(ctx context.Context, idHash []byte) error

	// RecordLogin records a login attempt (and its audit event).
	RecordLogin(ctx context.Context, a LoginAttempt) error
	// FailedLogins counts the failed attempts since a time, for an
	// account and for an address.
	FailedLogins(ctx context.Context, account, address string, since time.Time) (byAccount, byAddress int, err error)
}
