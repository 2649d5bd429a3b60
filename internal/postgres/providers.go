package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/takedown-project/takedown"
)

// providerDetails is what the details column holds: the parts of a
// provider's directory entry besides its code, name and platforms, as
// JSON. The contacts keep their secrets; only the audit chain and readers
// without the right see them redacted.
type providerDetails struct {
	Domains   []string                  `json:"domains"`
	ASNs      []uint32                  `json:"asns"`
	Languages []string                  `json:"languages"`
	Contacts  takedown.ProviderContacts `json:"contacts"`
}

func detailsOf(p *takedown.Provider) string {
	return jsonString(providerDetails{Domains: p.Domains, ASNs: p.ASNs, Languages: p.Languages, Contacts: p.Contacts})
}

func (db *DB) CreateProvider(ctx context.Context, p *takedown.Provider) error {
	if err := p.Validate(); err != nil {
		return err
	}
	p.Normalize()
	p.CreatedAt = ts(db.now())
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO providers (code, name, platforms, details, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			p.Code, p.Name, jsonString(p.Platforms), detailsOf(p), p.CreatedAt).Scan(&p.ID)
		if err != nil {
			return translate(err, "provider "+p.Code)
		}
		return db.appendAudit(ctx, tx, takedown.AuditProviderCreate(p))
	})
	return translate(err, "create provider "+p.Code)
}

// UpdateProvider replaces the provider's entry under its row lock and
// sets p's ID and CreatedAt from the stored row.
func (db *DB) UpdateProvider(ctx context.Context, p *takedown.Provider) error {
	if err := p.Validate(); err != nil {
		return err
	}
	p.Normalize()
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `UPDATE providers SET name = $2, platforms = $3, details = $4 WHERE code = $1 RETURNING id, created_at`,
			p.Code, p.Name, jsonString(p.Platforms), detailsOf(p)).Scan(&p.ID, &p.CreatedAt)
		if err == pgx.ErrNoRows {
			return takedown.Errorf(takedown.ENOTFOUND, "no provider %q", p.Code)
		} else if err != nil {
			return fmt.Errorf("provider %s: %w", p.Code, err)
		}
		p.CreatedAt = p.CreatedAt.UTC()
		return db.appendAudit(ctx, tx, takedown.AuditProviderUpdate(p))
	})
	return translate(err, "update provider "+p.Code)
}

func (db *DB) FindProvider(ctx context.Context, code string) (*takedown.Provider, error) {
	ps, err := db.providers(ctx, `WHERE code = $1`, code)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no provider %q", code)
	}
	return ps[0], nil
}

func (db *DB) ListProviders(ctx context.Context) ([]*takedown.Provider, error) {
	return db.providers(ctx, `ORDER BY code`)
}

const providerColumns = `id, code, name, platforms, details, created_at`

func scanProvider(row pgx.Row) (*takedown.Provider, error) {
	var p takedown.Provider
	var platforms, details string
	if err := row.Scan(&p.ID, &p.Code, &p.Name, &platforms, &details, &p.CreatedAt); err != nil {
		return nil, err
	}
	p.CreatedAt = p.CreatedAt.UTC()
	if err := json.Unmarshal([]byte(platforms), &p.Platforms); err != nil {
		return nil, fmt.Errorf("provider %s: platforms: %w", p.Code, err)
	}
	var d providerDetails
	if err := json.Unmarshal([]byte(details), &d); err != nil {
		return nil, fmt.Errorf("provider %s: details: %w", p.Code, err)
	}
	p.Domains, p.ASNs, p.Languages, p.Contacts = d.Domains, d.ASNs, d.Languages, d.Contacts
	p.Normalize() // never nil lists
	return &p, nil
}

func (db *DB) providers(ctx context.Context, where string, args ...any) ([]*takedown.Provider, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+providerColumns+` FROM providers `+where, args...)
	if err != nil {
		return nil, translate(err, "list providers")
	}
	ps, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*takedown.Provider, error) { return scanProvider(row) })
	return ps, translate(err, "list providers")
}
