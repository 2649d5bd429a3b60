-- The registry: agencies, operations and who takes part, items under their
-- canonical identity, and every submission of them.
-- Times are INTEGER microseconds since 1970 (UTC). Fingerprints are the 16
-- bytes of takedown.Submission.Fingerprint.

CREATE TABLE agencies (
	id         INTEGER PRIMARY KEY,
	code       TEXT NOT NULL UNIQUE,
	name       TEXT NOT NULL,
	country    TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL
);

CREATE TABLE operations (
	id          INTEGER PRIMARY KEY,
	slug        TEXT NOT NULL UNIQUE,
	name        TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	status      TEXT NOT NULL,
	created_at  INTEGER NOT NULL
);

CREATE TABLE operation_agencies (
	operation_id INTEGER NOT NULL REFERENCES operations (id),
	agency_id    INTEGER NOT NULL REFERENCES agencies (id),
	PRIMARY KEY (operation_id, agency_id)
) WITHOUT ROWID;

CREATE TABLE items (
	id                 INTEGER PRIMARY KEY,
	operation_id       INTEGER NOT NULL REFERENCES operations (id),
	identity           TEXT NOT NULL,
	url                TEXT NOT NULL,
	platform           TEXT NOT NULL,
	kind               TEXT NOT NULL,
	handle             TEXT NOT NULL DEFAULT '',
	title              TEXT NOT NULL DEFAULT '',
	status             TEXT NOT NULL,
	submission_count   INTEGER NOT NULL,
	first_submitted_at INTEGER NOT NULL,
	last_submitted_at  INTEGER NOT NULL,
	UNIQUE (operation_id, identity)
);
-- Lists page newest first within an operation, optionally by one filter.
CREATE INDEX items_operation ON items (operation_id, id);
CREATE INDEX items_operation_platform ON items (operation_id, platform, id);
CREATE INDEX items_operation_kind ON items (operation_id, kind, id);
CREATE INDEX items_operation_status ON items (operation_id, status, id);

CREATE TABLE submissions (
	id                INTEGER PRIMARY KEY,
	item_id           INTEGER NOT NULL REFERENCES items (id),
	agency_id         INTEGER NOT NULL REFERENCES agencies (id),
	fingerprint       BLOB NOT NULL,
	raw_input         TEXT NOT NULL,
	declared_kind     TEXT NOT NULL DEFAULT '',
	declared_platform TEXT NOT NULL DEFAULT '',
	declared_handle   TEXT NOT NULL DEFAULT '',
	title             TEXT NOT NULL DEFAULT '',
	notes             TEXT NOT NULL DEFAULT '',
	tags              TEXT NOT NULL DEFAULT '',   -- JSON array, '' for none
	language          TEXT NOT NULL DEFAULT '',
	found_at          INTEGER,
	attributes        TEXT NOT NULL DEFAULT '',   -- JSON object, '' for none
	source            TEXT NOT NULL,
	submitted_at      INTEGER NOT NULL,
	-- One agency's identical report of an item is one submission.
	UNIQUE (item_id, fingerprint)
);
