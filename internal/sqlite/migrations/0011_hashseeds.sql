-- Hash seeds: PDQ hashes an agency brings into an operation from a hash
-- list (a platform's, a partner's), and the items whose avatar matched
-- one of them. Seeds are only ever added, and read by ID from a
-- watermark; hits are listed by operation in ID order.

CREATE TABLE hash_seeds (
	id           INTEGER PRIMARY KEY,
	operation_id INTEGER NOT NULL REFERENCES operations (id),
	agency_id    INTEGER NOT NULL REFERENCES agencies (id),
	value        TEXT NOT NULL,               -- 64 lower-case hex digits
	quality      INTEGER NOT NULL DEFAULT -1, -- 0-100; -1 unknown
	labels       TEXT NOT NULL DEFAULT '[]',  -- JSON array of strings
	source       TEXT NOT NULL DEFAULT '',
	url          TEXT NOT NULL DEFAULT '',
	added_at     INTEGER NOT NULL,
	UNIQUE (operation_id, value)
);
-- ListHashSeeds: an operation's seeds after an ID.
CREATE INDEX hash_seeds_operation ON hash_seeds (operation_id, id);

CREATE TABLE seed_hits (
	id           INTEGER PRIMARY KEY,
	operation_id INTEGER NOT NULL REFERENCES operations (id),
	item_id      INTEGER NOT NULL REFERENCES items (id),
	seed_id      INTEGER NOT NULL REFERENCES hash_seeds (id),
	distance     INTEGER NOT NULL,
	at           INTEGER NOT NULL,
	UNIQUE (item_id, seed_id)
);
-- ListSeedHits: an operation's hits after an ID.
CREATE INDEX seed_hits_operation ON seed_hits (operation_id, id);
