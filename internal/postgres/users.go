package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/takedown-project/takedown"
)

const (
	userColumns = `u.id, u.name, u.display_name, u.email, coalesce(a.code, ''), coalesce(u.agency_id, 0), coalesce(p.code, ''), coalesce(u.provider_id, 0),
		u.roles, u.disabled, coalesce(u.oidc_subject, ''), u.password_hash <> '', u.created_at`
	// userJoins name a user's tenant; the user is u.
	userJoins = `LEFT JOIN agencies a ON a.id = u.agency_id LEFT JOIN providers p ON p.id = u.provider_id`
)

// userRow receives a user's columns (userColumns) as they are scanned.
type userRow struct {
	u     takedown.User
	roles string
}

func (r *userRow) dest() []any {
	u := &r.u
	return []any{&u.ID, &u.Name, &u.DisplayName, &u.Email, &u.Agency, &u.AgencyID, &u.Provider, &u.ProviderID,
		&r.roles, &u.Disabled, &u.OIDCSubject, &u.HasPassword, &u.CreatedAt}
}

func (r *userRow) user() (*takedown.User, error) {
	u := r.u
	if err := json.Unmarshal([]byte(r.roles), &u.Roles); err != nil {
		return nil, fmt.Errorf("user %s: roles: %w", u.Name, err)
	}
	u.CreatedAt = u.CreatedAt.UTC()
	return &u, nil
}

// scanUser scans userColumns followed by more.
func scanUser(row pgx.Row, more ...any) (*takedown.User, error) {
	var r userRow
	if err := row.Scan(append(r.dest(), more...)...); err != nil {
		return nil, err
	}
	return r.user()
}

// uniqueViolation returns the constraint a unique violation broke, "" for
// any other error.
func uniqueViolation(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return pe.ConstraintName
	}
	return ""
}

// userConflict explains a unique violation on users.
func userConflict(err error, name string) error {
	switch uniqueViolation(err) {
	case "users_oidc_subject_key":
		return takedown.Errorf(takedown.ECONFLICT, "user %s: the identity provider account is linked to another user", name)
	case "users_name_key":
		return takedown.Errorf(takedown.ECONFLICT, "user %s exists already", name)
	}
	return translate(err, "user "+name)
}

// nullIfEmpty stores "" as NULL, for unique columns that may be unset.
func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (db *DB) CreateUser(ctx context.Context, u *takedown.User, passwordHash string) error {
	u.NormalizeRoles()
	if err := u.Validate(); err != nil {
		return err
	}
	u.HasPassword = passwordHash != ""
	u.CreatedAt = ts(db.now())
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var agencyID, providerID *int64
		if u.Agency != "" {
			if err := tx.QueryRow(ctx, `SELECT id FROM agencies WHERE code = $1`, u.Agency).Scan(&agencyID); err == pgx.ErrNoRows {
				return takedown.Errorf(takedown.EINVALID, "user %s: no agency %q", u.Name, u.Agency)
			} else if err != nil {
				return fmt.Errorf("user %s: find agency: %w", u.Name, err)
			}
		}
		if u.Provider != "" {
			if err := tx.QueryRow(ctx, `SELECT id FROM providers WHERE code = $1`, u.Provider).Scan(&providerID); err == pgx.ErrNoRows {
				return takedown.Errorf(takedown.EINVALID, "user %s: no provider %q", u.Name, u.Provider)
			} else if err != nil {
				return fmt.Errorf("user %s: find provider: %w", u.Name, err)
			}
		}
		err := tx.QueryRow(ctx, `
			INSERT INTO users (name, display_name, email, agency_id, provider_id, roles, disabled, oidc_subject, password_hash, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
			u.Name, u.DisplayName, u.Email, agencyID, providerID, jsonString(u.Roles), u.Disabled, nullIfEmpty(u.OIDCSubject), passwordHash, u.CreatedAt).Scan(&u.ID)
		if err != nil {
			return userConflict(err, u.Name)
		}
		u.AgencyID, u.ProviderID = deref(agencyID), deref(providerID)
		return db.appendAudit(ctx, tx, takedown.AuditUserCreate(u))
	})
	return translate(err, "create user "+u.Name)
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func (db *DB) FindUser(ctx context.Context, name string) (*takedown.User, error) {
	u, err := scanUser(db.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users u `+userJoins+` WHERE u.name = $1`, name))
	if err == pgx.ErrNoRows {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no user %q", name)
	}
	return u, translate(err, "find user "+name)
}

func (db *DB) FindUserByOIDC(ctx context.Context, subject string) (*takedown.User, error) {
	u, err := scanUser(db.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users u `+userJoins+` WHERE u.oidc_subject = $1`, subject))
	if err == pgx.ErrNoRows {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no user linked to %q", subject)
	}
	return u, translate(err, "find user by identity provider account")
}

func (db *DB) ListUsers(ctx context.Context) ([]*takedown.User, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+userColumns+` FROM users u `+userJoins+` ORDER BY u.name`)
	if err != nil {
		return nil, translate(err, "list users")
	}
	us, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*takedown.User, error) { return scanUser(row) })
	return us, translate(err, "list users")
}

func (db *DB) UpdateUser(ctx context.Context, name string, upd takedown.UserUpdate) (*takedown.User, error) {
	var u *takedown.User
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var hash string
		var err error
		u, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+`, u.password_hash FROM users u `+userJoins+` WHERE u.name = $1 FOR NO KEY UPDATE OF u`, name), &hash)
		if err == pgx.ErrNoRows {
			return takedown.Errorf(takedown.ENOTFOUND, "no user %q", name)
		} else if err != nil {
			return fmt.Errorf("find user %s: %w", name, err)
		}
		if upd.DisplayName != nil {
			u.DisplayName = *upd.DisplayName
		}
		if upd.Email != nil {
			u.Email = *upd.Email
		}
		if upd.Roles != nil {
			u.Roles = slices.Clone(*upd.Roles)
			u.NormalizeRoles()
		}
		if upd.Disabled != nil {
			u.Disabled = *upd.Disabled
		}
		if upd.OIDCSubject != nil {
			u.OIDCSubject = *upd.OIDCSubject
		}
		if upd.PasswordHash != nil {
			hash = *upd.PasswordHash
			u.HasPassword = hash != ""
		}
		if err := u.Validate(); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE users SET display_name = $2, email = $3, roles = $4, disabled = $5, oidc_subject = $6, password_hash = $7 WHERE id = $1`,
			u.ID, u.DisplayName, u.Email, jsonString(u.Roles), u.Disabled, nullIfEmpty(u.OIDCSubject), hash)
		if err != nil {
			return userConflict(err, name)
		}
		return db.appendAudit(ctx, tx, takedown.AuditUserUpdate(name, upd))
	})
	if err != nil {
		return nil, translate(err, "update user "+name)
	}
	return u, nil
}

func (db *DB) PasswordHash(ctx context.Context, name string) (*takedown.User, string, error) {
	var hash string
	u, err := scanUser(db.pool.QueryRow(ctx, `SELECT `+userColumns+`, u.password_hash FROM users u `+userJoins+` WHERE u.name = $1`, name), &hash)
	if err == pgx.ErrNoRows {
		return nil, "", takedown.Errorf(takedown.ENOTFOUND, "no user %q", name)
	} else if err != nil {
		return nil, "", translate(err, "find user "+name)
	}
	return u, hash, nil
}

const tokenColumns = `t.id, u.name, t.user_id, t.name, t.prefix, t.scopes, t.created_at, t.expires_at, t.revoked_at, t.last_used_at`

// tokenRow receives a token's columns (tokenColumns) as they are scanned.
type tokenRow struct {
	t      takedown.Token
	scopes string
}

func (r *tokenRow) dest() []any {
	t := &r.t
	return []any{&t.ID, &t.User, &t.UserID, &t.Name, &t.Prefix, &r.scopes, &t.CreatedAt, &t.ExpiresAt, &t.RevokedAt, &t.LastUsedAt}
}

func (r *tokenRow) token() (*takedown.Token, error) {
	t := r.t
	if err := json.Unmarshal([]byte(r.scopes), &t.Scopes); err != nil {
		return nil, fmt.Errorf("token %d: scopes: %w", t.ID, err)
	}
	t.CreatedAt, t.ExpiresAt = t.CreatedAt.UTC(), t.ExpiresAt.UTC()
	t.RevokedAt, t.LastUsedAt = utcPtr(t.RevokedAt), utcPtr(t.LastUsedAt)
	return &t, nil
}

func scanToken(row pgx.Row) (*takedown.Token, error) {
	var r tokenRow
	if err := row.Scan(r.dest()...); err != nil {
		return nil, err
	}
	return r.token()
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func (db *DB) CreateToken(ctx context.Context, t *takedown.Token, secretHash []byte) error {
	now := ts(db.now())
	if err := t.Validate(now); err != nil {
		return err
	}
	if len(secretHash) == 0 {
		return takedown.Errorf(takedown.EINVALID, "token of %s: no secret hash", t.User)
	}
	t.CreatedAt, t.ExpiresAt, t.RevokedAt, t.LastUsedAt = now, ts(t.ExpiresAt), nil, nil
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT id FROM users WHERE name = $1`, t.User).Scan(&t.UserID); err == pgx.ErrNoRows {
			return takedown.Errorf(takedown.ENOTFOUND, "no user %q", t.User)
		} else if err != nil {
			return fmt.Errorf("token of %s: find user: %w", t.User, err)
		}
		err := tx.QueryRow(ctx, `INSERT INTO tokens (user_id, name, prefix, secret_hash, scopes, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			t.UserID, t.Name, t.Prefix, secretHash, jsonString(t.Scopes), t.CreatedAt, t.ExpiresAt).Scan(&t.ID)
		if err != nil {
			return translate(err, "token of "+t.User)
		}
		return db.appendAudit(ctx, tx, takedown.AuditTokenCreate(t))
	})
	return translate(err, "create token of "+t.User)
}

func (db *DB) ListTokens(ctx context.Context, user string) ([]*takedown.Token, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+tokenColumns+` FROM tokens t JOIN users u ON u.id = t.user_id WHERE u.name = $1 ORDER BY t.id DESC`, user)
	if err != nil {
		return nil, translate(err, "list tokens of "+user)
	}
	toks, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*takedown.Token, error) { return scanToken(row) })
	return toks, translate(err, "list tokens of "+user)
}

func (db *DB) FindToken(ctx context.Context, id int64) (*takedown.Token, error) {
	t, err := scanToken(db.pool.QueryRow(ctx, `SELECT `+tokenColumns+` FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1`, id))
	if err == pgx.ErrNoRows {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no token %d", id)
	}
	return t, translate(err, "find token")
}

// RevokeToken records the revocation only when it ends the token:
// revoking it again changes nothing and records nothing.
func (db *DB) RevokeToken(ctx context.Context, id int64) (*takedown.Token, error) {
	var t *takedown.Token
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var err error
		t, err = scanToken(tx.QueryRow(ctx, `SELECT `+tokenColumns+` FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1 FOR UPDATE OF t`, id))
		if err == pgx.ErrNoRows {
			return takedown.Errorf(takedown.ENOTFOUND, "no token %d", id)
		} else if err != nil {
			return fmt.Errorf("find token %d: %w", id, err)
		}
		if t.RevokedAt != nil {
			return nil
		}
		now := ts(db.now())
		t.RevokedAt = &now
		if _, err := tx.Exec(ctx, `UPDATE tokens SET revoked_at = $2 WHERE id = $1`, id, now); err != nil {
			return fmt.Errorf("revoke token %d: %w", id, err)
		}
		return db.appendAudit(ctx, tx, takedown.AuditTokenRevoke(t))
	})
	if err != nil {
		return nil, translate(err, "revoke token")
	}
	return t, nil
}

// lastUseInterval spares a write per request: a token's or session's last
// use is kept to the minute. Concurrent requests with one credential then
// rarely queue for its row lock either.
const lastUseInterval = time.Minute

func (db *DB) TokenBySecret(ctx context.Context, secretHash []byte, now time.Time) (*takedown.Token, *takedown.User, error) {
	now = ts(now)
	var tr tokenRow
	var ur userRow
	err := db.pool.QueryRow(ctx, `SELECT `+tokenColumns+`, `+userColumns+` FROM tokens t JOIN users u ON u.id = t.user_id `+userJoins+` WHERE t.secret_hash = $1`,
		secretHash).Scan(append(tr.dest(), ur.dest()...)...)
	if err == pgx.ErrNoRows {
		return nil, nil, takedown.Errorf(takedown.EUNAUTHORIZED, "unknown token")
	} else if err != nil {
		return nil, nil, translate(err, "find token")
	}
	t, err := tr.token()
	if err != nil {
		return nil, nil, err
	}
	u, err := ur.user()
	if err != nil {
		return nil, nil, err
	}
	switch {
	case !t.Usable(now):
		return nil, nil, takedown.Errorf(takedown.EUNAUTHORIZED, "the token has expired or was revoked")
	case u.Disabled:
		return nil, nil, takedown.Errorf(takedown.EUNAUTHORIZED, "user %s is disabled", u.Name)
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= lastUseInterval {
		t.LastUsedAt = &now
		// greatest: a slower request that started earlier does not move
		// the time back.
		if _, err := db.pool.Exec(ctx, `UPDATE tokens SET last_used_at = greatest(last_used_at, $2) WHERE id = $1`, t.ID, now); err != nil {
			return nil, nil, translate(err, "record token use")
		}
	}
	return t, u, nil
}

const sessionColumns = `s.id, s.user_id, s.created_at, s.last_seen_at, s.expires_at, s.address, s.user_agent, s.via`

func sessionDest(s *takedown.Session) []any {
	return []any{&s.ID, &s.UserID, &s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt, &s.Address, &s.UserAgent, &s.Via}
}

func (db *DB) CreateSession(ctx context.Context, s *takedown.Session, idHash []byte) error {
	if len(idHash) == 0 {
		return takedown.Errorf(takedown.EINVALID, "session: no ID hash")
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = db.now()
	}
	if s.LastSeenAt.IsZero() {
		s.LastSeenAt = s.CreatedAt
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = ts(s.CreatedAt), ts(s.LastSeenAt), ts(s.ExpiresAt)
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var user string
		err := tx.QueryRow(ctx, `
			INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at, address, user_agent, via)
			SELECT $1, id, $3, $4, $5, $6, $7, $8 FROM users WHERE id = $2 RETURNING id, (SELECT name FROM users WHERE id = $2)`,
			idHash, s.UserID, s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.Address, s.UserAgent, s.Via).Scan(&s.ID, &user)
		if err == pgx.ErrNoRows {
			return takedown.Errorf(takedown.ENOTFOUND, "session: no user with ID %d", s.UserID)
		} else if err != nil {
			return translate(err, "create session")
		}
		return db.appendAudit(ctx, tx, takedown.AuditSessionStart(s.ID, user, s.Via, s.Address))
	})
}

func (db *DB) SessionByID(ctx context.Context, idHash []byte, now time.Time, idle time.Duration) (*takedown.Session, *takedown.User, error) {
	now = ts(now)
	var s takedown.Session
	var ended *time.Time
	var ur userRow
	err := db.pool.QueryRow(ctx, `SELECT `+sessionColumns+`, s.ended_at, `+userColumns+` FROM sessions s JOIN users u ON u.id = s.user_id `+userJoins+` WHERE s.id_hash = $1`,
		idHash).Scan(append(append(sessionDest(&s), &ended), ur.dest()...)...)
	if err == pgx.ErrNoRows {
		return nil, nil, takedown.Errorf(takedown.EUNAUTHORIZED, "unknown session")
	} else if err != nil {
		return nil, nil, translate(err, "find session")
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = s.CreatedAt.UTC(), s.LastSeenAt.UTC(), s.ExpiresAt.UTC()
	u, err := ur.user()
	if err != nil {
		return nil, nil, err
	}
	switch {
	case ended != nil || !now.Before(s.ExpiresAt) || now.Sub(s.LastSeenAt) > idle:
		return nil, nil, takedown.Errorf(takedown.EUNAUTHORIZED, "the session has ended")
	case u.Disabled:
		return nil, nil, takedown.Errorf(takedown.EUNAUTHORIZED, "user %s is disabled", u.Name)
	}
	if now.Sub(s.LastSeenAt) >= lastUseInterval {
		s.LastSeenAt = now
		if _, err := db.pool.Exec(ctx, `UPDATE sessions SET last_seen_at = greatest(last_seen_at, $2) WHERE id = $1`, s.ID, now); err != nil {
			return nil, nil, translate(err, "record session activity")
		}
	}
	return &s, u, nil
}

// EndSession records the end only when it ends a session: an unknown or
// ended one changes nothing and records nothing.
func (db *DB) EndSession(ctx context.Context, idHash []byte) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var id int64
		var user string
		err := tx.QueryRow(ctx, `
			UPDATE sessions s SET ended_at = $2 FROM users u
			WHERE s.id_hash = $1 AND s.ended_at IS NULL AND u.id = s.user_id
			RETURNING s.id, u.name`, idHash, ts(db.now())).Scan(&id, &user)
		if err == pgx.ErrNoRows {
			return nil
		} else if err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, takedown.AuditSessionEnd(id, user))
	})
	return translate(err, "end session")
}

func (db *DB) RecordLogin(ctx context.Context, a takedown.LoginAttempt) error {
	if a.At.IsZero() {
		a.At = db.now()
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO login_attempts (account, address, at, ok) VALUES ($1, $2, $3, $4)`, a.Account, a.Address, ts(a.At), a.OK); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, takedown.AuditLogin(a))
	})
	return translate(err, "record login attempt")
}

func (db *DB) FailedLogins(ctx context.Context, account, address string, since time.Time) (byAccount, byAddress int, err error) {
	// An account's failures count from its last success: a user who got
	// in has proved the password, and earlier typos are forgiven.
	err = db.pool.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE account = $1 AND at > coalesce((SELECT max(at) FROM login_attempts WHERE account = $1 AND ok), '-infinity')),
			count(*) FILTER (WHERE address = $2)
		FROM login_attempts WHERE (account = $1 OR address = $2) AND at >= $3 AND NOT ok`,
		account, address, ts(since)).Scan(&byAccount, &byAddress)
	return byAccount, byAddress, translate(err, "count failed logins")
}
