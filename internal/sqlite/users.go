package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/takedown-project/takedown"
)

const userColumns = `u.id, u.name, u.display_name, u.email, coalesce(a.code, ''), coalesce(u.agency_id, 0), coalesce(p.code, ''), coalesce(u.provider_id, 0),
	u.roles, u.disabled, coalesce(u.oidc_subject, ''), u.password_hash, u.created_at`

const userFrom = ` FROM users u LEFT JOIN agencies a ON a.id = u.agency_id LEFT JOIN providers p ON p.id = u.provider_id `

// scanUser reads a user and its password hash.
func scanUser(sc interface{ Scan(...any) error }) (*takedown.User, string, error) {
	var u takedown.User
	var roles, hash string
	var created int64
	if err := sc.Scan(&u.ID, &u.Name, &u.DisplayName, &u.Email, &u.Agency, &u.AgencyID, &u.Provider, &u.ProviderID,
		&roles, &u.Disabled, &u.OIDCSubject, &hash, &created); err != nil {
		return nil, "", err
	}
	if err := json.Unmarshal([]byte(roles), &u.Roles); err != nil {
		return nil, "", fmt.Errorf("user %s: roles: %w", u.Name, err)
	}
	u.HasPassword, u.CreatedAt = hash != "", parseTime(created)
	return &u, hash, nil
}

func (db *DB) CreateUser(ctx context.Context, u *takedown.User, passwordHash string) error {
	if err := u.Validate(); err != nil {
		return err
	}
	u.NormalizeRoles()
	u.CreatedAt = db.now().UTC().Truncate(time.Microsecond)
	u.HasPassword = passwordHash != ""
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if u.AgencyID, err = idOf(ctx, tx, "agencies", u.Agency); err != nil {
			return err
		}
		if u.ProviderID, err = idOf(ctx, tx, "providers", u.Provider); err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO users (name, display_name, email, agency_id, provider_id, roles, disabled, oidc_subject, password_hash, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			u.Name, u.DisplayName, u.Email, nullID(u.AgencyID), nullID(u.ProviderID), jsonText(u.Roles), u.Disabled, nullString(u.OIDCSubject), passwordHash, formatTime(u.CreatedAt)).Scan(&u.ID)
		if err != nil {
			return translate(err, "user "+u.Name)
		}
		return db.appendAudit(ctx, tx, takedown.AuditUserCreate(u))
	})
}

// idOf returns the ID of the agency or provider with a code, 0 for "".
// Returns EINVALID for an unknown code.
func idOf(ctx context.Context, tx *sql.Tx, table, code string) (int64, error) {
	if code == "" {
		return 0, nil
	}
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM `+table+` WHERE code = ?`, code).Scan(&id)
	if err == sql.ErrNoRows {
		what := map[string]string{"agencies": "agency", "providers": "provider"}[table]
		return 0, takedown.Errorf(takedown.EINVALID, "no %s %q", what, code)
	}
	return id, err
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (db *DB) FindUser(ctx context.Context, name string) (*takedown.User, error) {
	u, _, err := db.PasswordHash(ctx, name)
	return u, err
}

func (db *DB) PasswordHash(ctx context.Context, name string) (*takedown.User, string, error) {
	u, hash, err := scanUser(db.read.QueryRowContext(ctx, `SELECT `+userColumns+userFrom+`WHERE u.name = ?`, name))
	if err == sql.ErrNoRows {
		return nil, "", takedown.Errorf(takedown.ENOTFOUND, "no user %q", name)
	}
	return u, hash, translate(err, "find user")
}

func (db *DB) FindUserByOIDC(ctx context.Context, subject string) (*takedown.User, error) {
	u, _, err := scanUser(db.read.QueryRowContext(ctx, `SELECT `+userColumns+userFrom+`WHERE u.oidc_subject = ?`, subject))
	if err == sql.ErrNoRows {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no user linked to %q", subject)
	}
	return u, translate(err, "find user")
}

func (db *DB) ListUsers(ctx context.Context) ([]*takedown.User, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+userColumns+userFrom+`ORDER BY u.name`)
	if err != nil {
		return nil, translate(err, "list users")
	}
	defer rows.Close()
	var out []*takedown.User
	for rows.Next() {
		u, _, err := scanUser(rows)
		if err != nil {
			return nil, translate(err, "list users")
		}
		out = append(out, u)
	}
	return out, translate(rows.Err(), "list users")
}

func (db *DB) UpdateUser(ctx context.Context, name string, upd takedown.UserUpdate) (*takedown.User, error) {
	var u *takedown.User
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var hash string
		var err error
		u, hash, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+userFrom+`WHERE u.name = ?`, name))
		if err == sql.ErrNoRows {
			return takedown.Errorf(takedown.ENOTFOUND, "no user %q", name)
		} else if err != nil {
			return err
		}
		if upd.DisplayName != nil {
			u.DisplayName = *upd.DisplayName
		}
		if upd.Email != nil {
			u.Email = *upd.Email
		}
		if upd.Roles != nil {
			u.Roles = *upd.Roles
		}
		if upd.Disabled != nil {
			u.Disabled = *upd.Disabled
		}
		if upd.OIDCSubject != nil {
			u.OIDCSubject = *upd.OIDCSubject
		}
		if upd.PasswordHash != nil {
			hash = *upd.PasswordHash
		}
		if err := u.Validate(); err != nil {
			return err
		}
		u.NormalizeRoles()
		u.HasPassword = hash != ""
		_, err = tx.ExecContext(ctx, `UPDATE users SET display_name = ?, email = ?, roles = ?, disabled = ?, oidc_subject = ?, password_hash = ? WHERE id = ?`,
			u.DisplayName, u.Email, jsonText(u.Roles), u.Disabled, nullString(u.OIDCSubject), hash, u.ID)
		if err != nil {
			return translate(err, "user "+name)
		}
		return db.appendAudit(ctx, tx, takedown.AuditUserUpdate(name, upd))
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

const tokenColumns = `t.id, u.name, t.user_id, t.name, t.prefix, t.scopes, t.created_at, t.expires_at, t.revoked_at, t.last_used_at`

func scanToken(sc interface{ Scan(...any) error }) (*takedown.Token, error) {
	var t takedown.Token
	var scopes string
	var created, expires int64
	var revoked, used sql.NullInt64
	if err := sc.Scan(&t.ID, &t.User, &t.UserID, &t.Name, &t.Prefix, &scopes, &created, &expires, &revoked, &used); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(scopes), &t.Scopes); err != nil {
		return nil, fmt.Errorf("token %d: scopes: %w", t.ID, err)
	}
	t.CreatedAt, t.ExpiresAt = parseTime(created), parseTime(expires)
	t.RevokedAt, t.LastUsedAt = optionalTime(revoked), optionalTime(used)
	return &t, nil
}

func optionalTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := parseTime(v.Int64)
	return &t
}

func (db *DB) CreateToken(ctx context.Context, t *takedown.Token, secretHash []byte) error {
	now := db.now().UTC().Truncate(time.Microsecond)
	if err := t.Validate(now); err != nil {
		return err
	}
	t.CreatedAt, t.ExpiresAt = now, t.ExpiresAt.UTC().Truncate(time.Microsecond)
	return db.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE name = ?`, t.User).Scan(&t.UserID)
		if err == sql.ErrNoRows {
			return takedown.Errorf(takedown.ENOTFOUND, "no user %q", t.User)
		} else if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO tokens (user_id, name, prefix, secret_hash, scopes, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			t.UserID, t.Name, t.Prefix, secretHash, jsonText(t.Scopes), formatTime(t.CreatedAt), formatTime(t.ExpiresAt)).Scan(&t.ID)
		if err != nil {
			return translate(err, "token")
		}
		return db.appendAudit(ctx, tx, takedown.AuditTokenCreate(t))
	})
}

func (db *DB) ListTokens(ctx context.Context, user string) ([]*takedown.Token, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+tokenColumns+` FROM tokens t JOIN users u ON u.id = t.user_id WHERE u.name = ? ORDER BY t.id DESC`, user)
	if err != nil {
		return nil, translate(err, "list tokens")
	}
	defer rows.Close()
	var out []*takedown.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, translate(err, "list tokens")
		}
		out = append(out, t)
	}
	return out, translate(rows.Err(), "list tokens")
}

func (db *DB) FindToken(ctx context.Context, id int64) (*takedown.Token, error) {
	t, err := scanToken(db.read.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.id = ?`, id))
	if err == sql.ErrNoRows {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no token %d", id)
	}
	return t, translate(err, "find token")
}

func (db *DB) RevokeToken(ctx context.Context, id int64) (*takedown.Token, error) {
	var t *takedown.Token
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		t, err = scanToken(tx.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.id = ?`, id))
		if err == sql.ErrNoRows {
			return takedown.Errorf(takedown.ENOTFOUND, "no token %d", id)
		} else if err != nil || t.RevokedAt != nil {
			return err
		}
		now := db.now().UTC().Truncate(time.Microsecond)
		t.RevokedAt = &now
		if _, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE id = ?`, formatTime(now), id); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, takedown.AuditTokenRevoke(t))
	})
	if err != nil {
		return nil, translate(err, "revoke token")
	}
	return t, nil
}

// lastUseInterval spares a write per request: a token's or session's last
// use is kept to the minute.
const lastUseInterval = time.Minute

func (db *DB) TokenBySecret(ctx context.Context, secretHash []byte, now time.Time) (*takedown.Token, *takedown.User, error) {
	t, err := scanToken(db.read.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.secret_hash = ?`, secretHash))
	if err == sql.ErrNoRows {
		return nil, nil, takedown.Errorf(takedown.EUNAUTHORIZED, "unknown token")
	} else if err != nil {
		return nil, nil, translate(err, "find token")
	}
	if !t.Usable(now) {
		return nil, nil, takedown.Errorf(takedown.EUNAUTHORIZED, "the token has expired or was revoked")
	}
	u, _, err := scanUser(db.read.QueryRowContext(ctx, `SELECT `+userColumns+userFrom+`WHERE u.id = ?`, t.UserID))
	if err != nil {
		return nil, nil, translate(err, "find token user")
	}
	if u.Disabled {
		return nil, nil, takedown.Errorf(takedown.EUNAUTHORIZED, "user %s is disabled", u.Name)
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= lastUseInterval {
		at := now.UTC().Truncate(time.Microsecond)
		t.LastUsedAt = &at
		if _, err := db.write.ExecContext(ctx, `UPDATE tokens SET last_used_at = ? WHERE id = ?`, formatTime(at), t.ID); err != nil {
			return nil, nil, translate(err, "record token use")
		}
	}
	return t, u, nil
}

func (db *DB) CreateSession(ctx context.Context, s *takedown.Session, idHash []byte) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var user string
		err := tx.QueryRowContext(ctx, `SELECT name FROM users WHERE id = ?`, s.UserID).Scan(&user)
		if err == sql.ErrNoRows {
			return takedown.Errorf(takedown.ENOTFOUND, "session: no user with ID %d", s.UserID)
		} else if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at, address, user_agent, via) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			idHash, s.UserID, formatTime(s.CreatedAt), formatTime(s.LastSeenAt), formatTime(s.ExpiresAt), s.Address, s.UserAgent, s.Via).Scan(&s.ID)
		if err != nil {
			return translate(err, "create session")
		}
		return db.appendAudit(ctx, tx, takedown.AuditSessionStart(s.ID, user, s.Via, s.Address))
	})
}

func (db *DB) SessionByID(ctx context.Context, idHash []byte, now time.Time, idle time.Duration) (*takedown.Session, *takedown.User, error) {
	var s takedown.Session
	var created, seen, expires int64
	var ended sql.NullInt64
	err := db.read.QueryRowContext(ctx, `SELECT id, user_id, created_at, last_seen_at, expires_at, ended_at, address, user_agent, via FROM sessions WHERE id_hash = ?`, idHash).
		Scan(&s.ID, &s.UserID, &created, &seen, &expires, &ended, &s.Address, &s.UserAgent, &s.Via)
	if err == sql.ErrNoRows {
		return nil, nil, takedown.Errorf(takedown.EUNAUTHORIZED, "unknown session")
	} else if err != nil {
		return nil, nil, translate(err, "find session")
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = parseTime(created), parseTime(seen), parseTime(expires)
	if ended.Valid || !now.Before(s.ExpiresAt) || now.Sub(s.LastSeenAt) > idle {
		return nil, nil, takedown.Errorf(takedown.EUNAUTHORIZED, "the session has ended")
	}
	u, _, err := scanUser(db.read.QueryRowContext(ctx, `SELECT `+userColumns+userFrom+`WHERE u.id = ?`, s.UserID))
	if err != nil {
		return nil, nil, translate(err, "find session user")
	}
	if u.Disabled {
		return nil, nil, takedown.Errorf(takedown.EUNAUTHORIZED, "user %s is disabled", u.Name)
	}
	if now.Sub(s.LastSeenAt) >= lastUseInterval {
		s.LastSeenAt = now.UTC().Truncate(time.Microsecond)
		if _, err := db.write.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id = ?`, formatTime(s.LastSeenAt), s.ID); err != nil {
			return nil, nil, translate(err, "record session activity")
		}
	}
	return &s, u, nil
}

func (db *DB) EndSession(ctx context.Context, idHash []byte) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var id int64
		var user string
		err := tx.QueryRowContext(ctx, `SELECT s.id, u.name FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ? AND s.ended_at IS NULL`, idHash).Scan(&id, &user)
		if err == sql.ErrNoRows {
			return nil
		} else if err != nil {
			return translate(err, "end session")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET ended_at = ? WHERE id = ?`, formatTime(db.now()), id); err != nil {
			return translate(err, "end session")
		}
		return db.appendAudit(ctx, tx, takedown.AuditSessionEnd(id, user))
	})
}

func (db *DB) RecordLogin(ctx context.Context, a takedown.LoginAttempt) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO login_attempts (account, address, at, ok) VALUES (?, ?, ?, ?)`,
			a.Account, a.Address, formatTime(a.At), a.OK); err != nil {
			return translate(err, "record login")
		}
		return db.appendAudit(ctx, tx, takedown.AuditLogin(a))
	})
}

func (db *DB) FailedLogins(ctx context.Context, account, address string, since time.Time) (int, int, error) {
	var byAccount, byAddress int
	// An account's failures count from its last success: a user who got
	// in has proved the password, and earlier typos are forgiven.
	err := db.read.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM login_attempts WHERE account = ? AND at >= ? AND NOT ok
				AND at > coalesce((SELECT max(at) FROM login_attempts WHERE account = ? AND ok), -9223372036854775807)),
			(SELECT count(*) FROM login_attempts WHERE address = ? AND at >= ? AND NOT ok)`,
		account, formatTime(since), account, address, formatTime(since)).Scan(&byAccount, &byAddress)
	return byAccount, byAddress, translate(err, "count failed logins")
}
