package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/takedown-project/takedown"
)

func (db *DB) CreateAgency(ctx context.Context, a *takedown.Agency) error {
	if err := a.Validate(); err != nil {
		return err
	}
	a.CreatedAt = db.now().UTC().Truncate(time.Microsecond)
	return db.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO agencies (code, name, country, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			a.Code, a.Name, a.Country, formatTime(a.CreatedAt)).Scan(&a.ID)
		if err != nil {
			return translate(err, "agency "+a.Code)
		}
		return db.appendAudit(ctx, tx, takedown.AuditAgencyCreate(a))
	})
}

func (db *DB) FindAgency(ctx context.Context, code string) (*takedown.Agency, error) {
	as, err := db.agencies(ctx, `WHERE code = ?`, code)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no agency %q", code)
	}
	return as[0], nil
}

func (db *DB) ListAgencies(ctx context.Context) ([]*takedown.Agency, error) {
	return db.agencies(ctx, `ORDER BY code`)
}

func (db *DB) agencies(ctx context.Context, where string, args ...any) ([]*takedown.Agency, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, code, name, country, created_at FROM agencies `+where, args...)
	if err != nil {
		return nil, translate(err, "list agencies")
	}
	defer rows.Close()
	var as []*takedown.Agency
	for rows.Next() {
		var a takedown.Agency
		var created int64
		if err := rows.Scan(&a.ID, &a.Code, &a.Name, &a.Country, &created); err != nil {
			return nil, translate(err, "list agencies")
		}
		a.CreatedAt = parseTime(created)
		as = append(as, &a)
	}
	return as, translate(rows.Err(), "list agencies")
}

func (db *DB) CreateOperation(ctx context.Context, op *takedown.Operation) error {
	if err := op.Validate(); err != nil {
		return err
	}
	op.CreatedAt = db.now().UTC().Truncate(time.Microsecond)
	op.NormalizeAgencies()
	return db.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO operations (slug, name, description, status, evidence, successors, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			op.Slug, op.Name, op.Description, op.Status, op.Evidence, op.Successors, formatTime(op.CreatedAt)).Scan(&op.ID)
		if err != nil {
			return translate(err, "operation "+op.Slug)
		}
		for _, code := range op.Agencies {
			res, err := tx.ExecContext(ctx, `INSERT INTO operation_agencies (operation_id, agency_id) SELECT ?, id FROM agencies WHERE code = ?`, op.ID, code)
			if err != nil {
				return translate(err, "operation "+op.Slug)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return takedown.Errorf(takedown.EINVALID, "operation %s: no agency %q; add it first with `takedown agency add`", op.Slug, code)
			}
		}
		return db.appendAudit(ctx, tx, takedown.AuditOperationCreate(op))
	})
}

func (db *DB) FindOperation(ctx context.Context, slug string) (*takedown.Operation, error) {
	ops, err := db.operations(ctx, `WHERE o.slug = ?`, slug)
	if err != nil {
		return nil, err
	}
	if len(ops) == 0 {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no operation %q", slug)
	}
	return ops[0], nil
}

func (db *DB) ListOperations(ctx context.Context) ([]*takedown.Operation, error) {
	return db.operations(ctx, `ORDER BY o.created_at DESC, o.id DESC`)
}

func (db *DB) operations(ctx context.Context, where string, args ...any) ([]*takedown.Operation, error) {
	rows, err := db.read.QueryContext(ctx, `
		SELECT o.id, o.slug, o.name, o.description, o.status, o.evidence, o.successors, o.created_at,
			coalesce((SELECT group_concat(code, ',') FROM (SELECT a.code FROM operation_agencies oa JOIN agencies a ON a.id = oa.agency_id WHERE oa.operation_id = o.id ORDER BY a.code)), '')
		FROM operations o `+where, args...)
	if err != nil {
		return nil, translate(err, "list operations")
	}
	defer rows.Close()
	var ops []*takedown.Operation
	for rows.Next() {
		var op takedown.Operation
		var created int64
		var agencies string
		if err := rows.Scan(&op.ID, &op.Slug, &op.Name, &op.Description, &op.Status, &op.Evidence, &op.Successors, &created, &agencies); err != nil {
			return nil, translate(err, "list operations")
		}
		op.CreatedAt = parseTime(created)
		op.Agencies = []string{}
		if agencies != "" {
			op.Agencies = strings.Split(agencies, ",")
		}
		ops = append(ops, &op)
	}
	return ops, translate(rows.Err(), "list operations")
}

func (db *DB) AddParticipant(ctx context.Context, slug, code string) error {
	op, err := db.FindOperation(ctx, slug)
	if err != nil {
		return err
	}
	a, err := db.FindAgency(ctx, code)
	if err != nil {
		return err
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO operation_agencies (operation_id, agency_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, op.ID, a.ID)
		if err != nil {
			return translate(err, "add agency "+code+" to operation "+slug)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // taking part already: nothing changed
		}
		return db.appendAudit(ctx, tx, takedown.AuditOperationJoin(slug, code))
	})
}

// providerDetails is what the providers table keeps as JSON in details:
// the directory entry's domains, networks, languages and contacts.
type providerDetails struct {
	Domains   []string                  `json:"domains,omitempty"`
	ASNs      []uint32                  `json:"asns,omitempty"`
	Languages []string                  `json:"languages,omitempty"`
	Contacts  takedown.ProviderContacts `json:"contacts"`
}

func encodeProviderDetails(p *takedown.Provider) string {
	return jsonText(providerDetails{Domains: p.Domains, ASNs: p.ASNs, Languages: p.Languages, Contacts: p.Contacts})
}

func (db *DB) CreateProvider(ctx context.Context, p *takedown.Provider) error {
	if err := p.Validate(); err != nil {
		return err
	}
	p.Normalize()
	p.CreatedAt = db.now().UTC().Truncate(time.Microsecond)
	return db.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO providers (code, name, platforms, details, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			p.Code, p.Name, jsonText(p.Platforms), encodeProviderDetails(p), formatTime(p.CreatedAt)).Scan(&p.ID)
		if err != nil {
			return translate(err, "provider "+p.Code)
		}
		return db.appendAudit(ctx, tx, takedown.AuditProviderCreate(p))
	})
}

func (db *DB) UpdateProvider(ctx context.Context, p *takedown.Provider) error {
	if err := p.Validate(); err != nil {
		return err
	}
	p.Normalize()
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var created int64
		err := tx.QueryRowContext(ctx, `UPDATE providers SET name = ?, platforms = ?, details = ? WHERE code = ? RETURNING id, created_at`,
			p.Name, jsonText(p.Platforms), encodeProviderDetails(p), p.Code).Scan(&p.ID, &created)
		if err == sql.ErrNoRows {
			return takedown.Errorf(takedown.ENOTFOUND, "no provider %q", p.Code)
		} else if err != nil {
			return translate(err, "provider "+p.Code)
		}
		p.CreatedAt = parseTime(created)
		return db.appendAudit(ctx, tx, takedown.AuditProviderUpdate(p))
	})
}

func (db *DB) FindProvider(ctx context.Context, code string) (*takedown.Provider, error) {
	ps, err := providers(ctx, db.read, `WHERE code = ?`, code)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, takedown.Errorf(takedown.ENOTFOUND, "no provider %q", code)
	}
	return ps[0], nil
}

func (db *DB) ListProviders(ctx context.Context) ([]*takedown.Provider, error) {
	return providers(ctx, db.read, `ORDER BY code`)
}

// querier is the read pool or a write transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// providers reads providers through q: the read pool, or a transaction
// that decides on what it reads.
func providers(ctx context.Context, q querier, where string, args ...any) ([]*takedown.Provider, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, code, name, platforms, details, created_at FROM providers `+where, args...)
	if err != nil {
		return nil, translate(err, "list providers")
	}
	defer rows.Close()
	var ps []*takedown.Provider
	for rows.Next() {
		var p takedown.Provider
		var platforms, details string
		var created int64
		if err := rows.Scan(&p.ID, &p.Code, &p.Name, &platforms, &details, &created); err != nil {
			return nil, translate(err, "list providers")
		}
		if err := json.Unmarshal([]byte(platforms), &p.Platforms); err != nil {
			return nil, fmt.Errorf("provider %s: platforms: %w", p.Code, err)
		}
		var d providerDetails
		if err := json.Unmarshal([]byte(details), &d); err != nil {
			return nil, fmt.Errorf("provider %s: details: %w", p.Code, err)
		}
		p.Domains, p.ASNs, p.Languages, p.Contacts = d.Domains, d.ASNs, d.Languages, d.Contacts
		p.Normalize()
		p.CreatedAt = parseTime(created)
		ps = append(ps, &p)
	}
	return ps, translate(rows.Err(), "list providers")
}

// jsonText stores a list as JSON text.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("encode %T: %v", v, err)) // lists of strings always encode
	}
	return string(b)
}
