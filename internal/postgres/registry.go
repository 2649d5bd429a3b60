package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/takedown-project/takedown"
)

func (db *DB) CreateAgency(ctx context.Context, a *takedown.Agency) error {
	if err := a.Validate(); err != nil {
		return err
	}
	a.CreatedAt = ts(db.now())
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO agencies (code, name, country, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			a.Code, a.Name, a.Country, a.CreatedAt).Scan(&a.ID)
		if err != nil {
			return translate(err, "agency "+a.Code)
		}
		return db.appendAudit(ctx, tx, takedown.AuditAgencyCreate(a))
	})
	return translate(err, "create agency "+a.Code)
}

func (db *DB) FindAgency(ctx context.Context, code string) (*takedown.Agency, error) {
	as, err := db.agencies(ctx, `WHERE code = $1`, code)
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
	rows, err := db.pool.Query(ctx, `SELECT id, code, name, country, created_at FROM agencies `+where, args...)
	if err != nil {
		return nil, translate(err, "list agencies")
	}
	as, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*takedown.Agency, error) {
		var a takedown.Agency
		err := row.Scan(&a.ID, &a.Code, &a.Name, &a.Country, &a.CreatedAt)
		a.CreatedAt = a.CreatedAt.UTC()
		return &a, err
	})
	return as, translate(err, "list agencies")
}

func (db *DB) CreateOperation(ctx context.Context, op *takedown.Operation) error {
	if err := op.Validate(); err != nil {
		return err
	}
	op.CreatedAt = ts(db.now())
	op.NormalizeAgencies()
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO operations (slug, name, description, status, evidence, successors, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			op.Slug, op.Name, op.Description, op.Status, op.Evidence, op.Successors, op.CreatedAt).Scan(&op.ID)
		if err != nil {
			return translate(err, "operation "+op.Slug)
		}
		for _, code := range op.Agencies {
			tag, err := tx.Exec(ctx, `INSERT INTO operation_agencies (operation_id, agency_id) SELECT $1, id FROM agencies WHERE code = $2`, op.ID, code)
			if err != nil {
				return translate(err, "operation "+op.Slug)
			}
			if tag.RowsAffected() == 0 {
				return takedown.Errorf(takedown.EINVALID, "operation %s: no agency %q; add it first with `takedown agency add`", op.Slug, code)
			}
		}
		return db.appendAudit(ctx, tx, takedown.AuditOperationCreate(op))
	})
	return translate(err, "create operation "+op.Slug)
}

func (db *DB) FindOperation(ctx context.Context, slug string) (*takedown.Operation, error) {
	ops, err := db.operations(ctx, `WHERE o.slug = $1`, slug)
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
	rows, err := db.pool.Query(ctx, `
		SELECT o.id, o.slug, o.name, o.description, o.status, o.evidence, o.successors, o.created_at,
			coalesce((SELECT array_agg(a.code ORDER BY a.code) FROM operation_agencies oa JOIN agencies a ON a.id = oa.agency_id WHERE oa.operation_id = o.id), '{}')
		FROM operations o `+where, args...)
	if err != nil {
		return nil, translate(err, "list operations")
	}
	ops, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*takedown.Operation, error) {
		var op takedown.Operation
		err := row.Scan(&op.ID, &op.Slug, &op.Name, &op.Description, &op.Status, &op.Evidence, &op.Successors, &op.CreatedAt, &op.Agencies)
		op.CreatedAt = op.CreatedAt.UTC()
		return &op, err
	})
	return ops, translate(err, "list operations")
}

// AddParticipant records the join only when the agency did not take part
// yet: a repeated call changes nothing, and so records nothing.
func (db *DB) AddParticipant(ctx context.Context, slug, code string) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var opID, agencyID int64
		if err := tx.QueryRow(ctx, `SELECT id FROM operations WHERE slug = $1`, slug).Scan(&opID); err == pgx.ErrNoRows {
			return takedown.Errorf(takedown.ENOTFOUND, "no operation %q", slug)
		} else if err != nil {
			return translate(err, "find operation "+slug)
		}
		if err := tx.QueryRow(ctx, `SELECT id FROM agencies WHERE code = $1`, code).Scan(&agencyID); err == pgx.ErrNoRows {
			return takedown.Errorf(takedown.ENOTFOUND, "no agency %q", code)
		} else if err != nil {
			return translate(err, "find agency "+code)
		}
		tag, err := tx.Exec(ctx, `INSERT INTO operation_agencies (operation_id, agency_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, opID, agencyID)
		if err != nil {
			return translate(err, "add agency "+code+" to operation "+slug)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		return db.appendAudit(ctx, tx, takedown.AuditOperationJoin(slug, code))
	})
	return translate(err, "add agency "+code+" to operation "+slug)
}
