-- The latest report of each operation (takedown.Report as JSON), so that
-- a process that starts serves the last figures while it computes new ones.

CREATE TABLE report_snapshots (
	operation_id INTEGER PRIMARY KEY REFERENCES operations (id),
	at           INTEGER NOT NULL,
	body         TEXT NOT NULL
);
