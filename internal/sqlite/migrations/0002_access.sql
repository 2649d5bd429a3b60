-- Who may see and do what: providers, users and their credentials, holds,
-- referral batches, and the audit chain.

CREATE TABLE providers (
	id         INTEGER PRIMARY KEY,
	code       TEXT NOT NULL UNIQUE,
	name       TEXT NOT NULL,
	platforms  TEXT NOT NULL DEFAULT '[]', -- JSON array
	created_at INTEGER NOT NULL
);

CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	name          TEXT NOT NULL UNIQUE,
	display_name  TEXT NOT NULL DEFAULT '',
	email         TEXT NOT NULL DEFAULT '',
	agency_id     INTEGER REFERENCES agencies (id),
	provider_id   INTEGER REFERENCES providers (id),
	roles         TEXT NOT NULL,              -- JSON array, sorted
	disabled      INTEGER NOT NULL DEFAULT 0,
	oidc_subject  TEXT UNIQUE,                -- NULL for none
	password_hash TEXT NOT NULL DEFAULT '',   -- argon2id PHC string, '' for none
	created_at    INTEGER NOT NULL
);

-- Secrets are kept as SHA-256 hashes only: a copy of the database gives no
-- working token or session.
CREATE TABLE tokens (
	id           INTEGER PRIMARY KEY,
	user_id      INTEGER NOT NULL REFERENCES users (id),
	name         TEXT NOT NULL DEFAULT '',
	prefix       TEXT NOT NULL DEFAULT '',
	secret_hash  BLOB NOT NULL UNIQUE,
	scopes       TEXT NOT NULL,               -- JSON array
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	revoked_at   INTEGER,
	last_used_at INTEGER
);
CREATE INDEX tokens_user ON tokens (user_id, id);

CREATE TABLE sessions (
	id           INTEGER PRIMARY KEY,
	id_hash      BLOB NOT NULL UNIQUE,
	user_id      INTEGER NOT NULL REFERENCES users (id),
	created_at   INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	ended_at     INTEGER,
	address      TEXT NOT NULL DEFAULT '',
	user_agent   TEXT NOT NULL DEFAULT '',
	via          TEXT NOT NULL DEFAULT ''
);

CREATE TABLE login_attempts (
	id      INTEGER PRIMARY KEY,
	account TEXT NOT NULL,
	address TEXT NOT NULL,
	at      INTEGER NOT NULL,
	ok      INTEGER NOT NULL
);
CREATE INDEX login_attempts_account ON login_attempts (account, at);
CREATE INDEX login_attempts_address ON login_attempts (address, at);

ALTER TABLE submissions ADD COLUMN shared INTEGER NOT NULL DEFAULT 0;

CREATE TABLE holds (
	id           INTEGER PRIMARY KEY,
	operation_id INTEGER NOT NULL REFERENCES operations (id),
	agency_id    INTEGER NOT NULL REFERENCES agencies (id),
	scope        TEXT NOT NULL,
	item_id      INTEGER REFERENCES items (id),
	platform     TEXT NOT NULL DEFAULT '',
	handle       TEXT NOT NULL DEFAULT '',
	pattern      TEXT NOT NULL DEFAULT '',
	reason       TEXT NOT NULL,
	note         TEXT NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	created_by   TEXT NOT NULL,
	expires_at   INTEGER NOT NULL,
	released_at  INTEGER,
	released_by  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX holds_operation ON holds (operation_id, id);

CREATE TABLE referrals (
	id           INTEGER PRIMARY KEY,
	operation_id INTEGER NOT NULL REFERENCES operations (id),
	provider_id  INTEGER NOT NULL REFERENCES providers (id),
	legal_basis  TEXT NOT NULL,
	status       TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	created_by   TEXT NOT NULL
);
CREATE INDEX referrals_operation ON referrals (operation_id, id);

CREATE TABLE referral_items (
	referral_id INTEGER NOT NULL REFERENCES referrals (id),
	item_id     INTEGER NOT NULL REFERENCES items (id),
	PRIMARY KEY (referral_id, item_id)
) WITHOUT ROWID;
CREATE INDEX referral_items_item ON referral_items (item_id);

-- The audit chain, and its head: the last event's sequence number and
-- hash, updated with every event, so that a chain cut at its end shows.
CREATE TABLE audit_events (
	seq       INTEGER PRIMARY KEY,
	at        INTEGER NOT NULL,
	actor     TEXT NOT NULL,
	action    TEXT NOT NULL,
	subject   TEXT NOT NULL,
	operation TEXT NOT NULL DEFAULT '',
	details   TEXT NOT NULL,       -- JSON object, hashed as stored
	prev_hash TEXT NOT NULL,
	hash      TEXT NOT NULL
);
CREATE INDEX audit_events_operation ON audit_events (operation, seq);
CREATE INDEX audit_events_subject ON audit_events (subject, seq);

CREATE TABLE audit_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	seq  INTEGER NOT NULL,
	hash TEXT NOT NULL,
	at   INTEGER NOT NULL
);
INSERT INTO audit_head (id, seq, hash, at) VALUES (1, 0, '', 0);
