package takedown

import (
	"context"
	"fmt"
	"slices"
)

// Actor is who does something: a user through a browser session or a
// token, an operator at the command line (who has the database itself),
// or takedown's own background work. Stores record it in the audit chain;
// the API and the UI decide with it what may be seen and done.
type Actor struct {
	// User is nil for the command line and for the system.
	User *User
	// Via is how the actor came: "session" or "token" (a signed-in user),
	// "password" or "oidc" (someone logging in), "cli" or "system".
	Via     string
	TokenID int64
	// Scopes limit a token; a session or the command line has all.
	Scopes []Scope
	// Name is who the command line runs as (the OS user).
	Name    string
	Address string // the client's address, when it came over HTTP
}

const (
	ViaSession = "session"
	ViaToken   = "token"
	ViaCLI     = "cli"
	ViaSystem  = "system"
)

// System is takedown itself: scheduled work, expiries.
var System = &Actor{Via: ViaSystem, Name: "takedown"}

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a *Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor ctx carries, or System.
func ActorFrom(ctx context.Context) *Actor {
	if a, ok := ctx.Value(actorKey{}).(*Actor); ok && a != nil {
		return a
	}
	return System
}

// String names the actor for the audit chain: "user:alice via token 7",
// "cli:root", "system:takedown".
func (a *Actor) String() string {
	switch {
	case a.User != nil && a.Via == ViaToken:
		return fmt.Sprintf("user:%s via token %d", a.User.Name, a.TokenID)
	case a.User != nil:
		return fmt.Sprintf("user:%s via %s", a.User.Name, a.Via)
	case a.Via == ViaCLI:
		return "cli:" + a.Name
	}
	return "system:" + a.Name
}

// Local reports whether the actor has the database itself (the command
// line, the system): it may do everything, and only the audit chain
// watches it. Nothing else is local: an actor without a user that came
// any other way may do nothing.
func (a *Actor) Local() bool { return a.User == nil && (a.Via == ViaCLI || a.Via == ViaSystem) }

// Has reports whether the actor has role r; a local actor has every role.
func (a *Actor) Has(r Role) bool { return a.Local() || (a.User != nil && a.User.Has(r)) }

// MayWrite reports whether the actor's credentials allow changes at all
// (a read-only token does not).
func (a *Actor) MayWrite() bool { return a.Local() || slices.Contains(a.Scopes, ScopeWrite) }

// Agency is the code of the actor's agency, "" for none.
func (a *Actor) Agency() string {
	if a.User == nil {
		return ""
	}
	return a.User.Agency
}

// SeesAll reports whether the actor reads every operation whole: an
// auditor, or the command line.
func (a *Actor) SeesAll() bool { return a.Has(RoleAuditor) }

// MaySeeOperation reports whether the actor may see op and its items: an
// auditor always, a coordinator or analyst of an agency that takes part.
func (a *Actor) MaySeeOperation(op *Operation) bool {
	if a.SeesAll() {
		return true
	}
	u := a.User
	return u != nil && (u.Has(RoleCoordinator) || u.Has(RoleAnalyst)) && u.Agency != "" && slices.Contains(op.Agencies, u.Agency)
}

// MayCoordinate reports whether the actor may run op: add agencies,
// refer, see every hold's details.
func (a *Actor) MayCoordinate(op *Operation) bool {
	if a.Local() {
		return true
	}
	u := a.User
	return u != nil && u.Has(RoleCoordinator) && slices.Contains(op.Agencies, u.Agency)
}

// MaySubmit reports whether the actor may submit items and place holds in
// op for its agency.
func (a *Actor) MaySubmit(op *Operation) bool {
	if a.Local() {
		return true
	}
	u := a.User
	return u != nil && (u.Has(RoleCoordinator) || u.Has(RoleAnalyst)) && slices.Contains(op.Agencies, u.Agency)
}

// SeesSubmission reports whether the actor may read a submission's notes
// and attributes: its own agency's, shared ones, and all of them for
// coordinators and auditors.
func (a *Actor) SeesSubmission(op *Operation, s *Submission) bool {
	if a.SeesAll() || a.MayCoordinate(op) {
		return true
	}
	return s.Shared || (a.User != nil && a.User.Agency == s.Agency)
}

// Redact removes from an item what the actor may not read: other
// agencies' notes and attributes unless shared, and the details of holds
// it may not see.
func (a *Actor) Redact(op *Operation, it *Item) {
	for i, s := range it.Submissions {
		if a.SeesSubmission(op, s) {
			continue
		}
		c := *s
		c.Notes, c.Attributes = "", nil
		c.Redacted = true
		it.Submissions[i] = &c
	}
	if it.Hold != nil {
		a.RedactHold(op, it.Hold)
	}
}
