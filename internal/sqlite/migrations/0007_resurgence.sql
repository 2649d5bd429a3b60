-- Resurgence: what each item's page showed (its signals), when a watched
-- item was last read again and which item led to a candidate, the matches
-- of candidates against removed items with their review, and what each
-- operation does about successors.

ALTER TABLE operations ADD COLUMN successors TEXT NOT NULL DEFAULT 'review';

ALTER TABLE items ADD COLUMN watched_at INTEGER;               -- last read by the watch
ALTER TABLE items ADD COLUMN found_via INTEGER REFERENCES items (id); -- a candidate's watched item
-- Due watch reads, least recently read first.
CREATE INDEX items_watch ON items (watched_at, id);

CREATE TABLE signals (
	item_id        INTEGER PRIMARY KEY REFERENCES items (id),
	operation_id   INTEGER NOT NULL REFERENCES operations (id),
	at             INTEGER NOT NULL,
	capture_id     INTEGER NOT NULL DEFAULT 0,  -- the capture they were last computed from
	title          TEXT NOT NULL DEFAULT '',
	description    TEXT NOT NULL DEFAULT '',
	posts          TEXT NOT NULL DEFAULT '[]',  -- JSON array of strings
	links          TEXT NOT NULL DEFAULT '[]',  -- JSON array of strings
	avatar_pdq     TEXT NOT NULL DEFAULT '',
	avatar_quality INTEGER NOT NULL DEFAULT 0,
	matched_at     INTEGER                      -- a candidate's last matching round
);
CREATE INDEX signals_operation ON signals (operation_id, item_id);

CREATE TABLE matches (
	id             INTEGER PRIMARY KEY,
	operation_id   INTEGER NOT NULL REFERENCES operations (id),
	successor_id   INTEGER NOT NULL REFERENCES items (id),
	predecessor_id INTEGER NOT NULL REFERENCES items (id),
	score          REAL NOT NULL,
	signals        TEXT NOT NULL,               -- JSON object: signal -> value
	state          TEXT NOT NULL,               -- open, confirmed, rejected
	found_at       INTEGER NOT NULL,
	reviewed_at    INTEGER,
	reviewed_by    TEXT NOT NULL DEFAULT '',
	note           TEXT NOT NULL DEFAULT '',
	UNIQUE (successor_id, predecessor_id)
);
CREATE INDEX matches_operation ON matches (operation_id, state, id);
CREATE INDEX matches_predecessor ON matches (predecessor_id);
