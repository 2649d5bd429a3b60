-- Evidence: every capture of an item, with the WARC file it made (its
-- SHA-256, size and place in the blob store), or why it failed; and what
-- each operation asks of evidence before a referral.

ALTER TABLE operations ADD COLUMN evidence TEXT NOT NULL DEFAULT 'before';

CREATE TABLE captures (
	id           INTEGER PRIMARY KEY,
	item_id      INTEGER NOT NULL REFERENCES items (id),
	operation_id INTEGER NOT NULL REFERENCES operations (id),
	at           INTEGER NOT NULL,
	url          TEXT NOT NULL,
	state        TEXT NOT NULL,              -- captured, failed
	reason       TEXT NOT NULL DEFAULT '',
	error        TEXT NOT NULL DEFAULT '',
	status       INTEGER NOT NULL DEFAULT 0,
	sha256       TEXT NOT NULL DEFAULT '',
	size         INTEGER NOT NULL DEFAULT 0,
	location     TEXT NOT NULL DEFAULT '',
	records      INTEGER NOT NULL DEFAULT 0,
	resources    INTEGER NOT NULL DEFAULT 0
);
-- An item's captures, newest first.
CREATE INDEX captures_item ON captures (item_id, at, id);
