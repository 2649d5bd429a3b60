-- The latest report of each operation (takedown.Report as JSON), so that
-- a process that starts serves the last figures while it computes new ones.
-- (0008 is SQLite's search index; PostgreSQL searches by scanning.)

CREATE TABLE report_snapshots (
	operation_id bigint PRIMARY KEY REFERENCES operations (id),
	at           timestamptz NOT NULL,
	body         text NOT NULL
);
