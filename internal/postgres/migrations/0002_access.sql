-- Who may see and do what: providers, users and their credentials, holds,
-- referral batches, and the audit chain. Lists (roles, scopes, platforms)
-- are JSON arrays in text, as in the SQLite schema, so both backends read
-- them alike.

CREATE TABLE providers (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	code       text NOT NULL UNIQUE,
	name       text NOT NULL,
	platforms  text NOT NULL DEFAULT '[]', -- JSON array
	created_at timestamptz NOT NULL
);

CREATE TABLE users (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name          text NOT NULL UNIQUE,
	display_name  text NOT NULL DEFAULT '',
	email         text NOT NULL DEFAULT '',
	agency_id     bigint REFERENCES agencies (id),
	provider_id   bigint REFERENCES providers (id),
	roles         text NOT NULL,              -- JSON array, sorted
	disabled      boolean NOT NULL DEFAULT false,
	oidc_subject  text UNIQUE,                -- NULL for none
	password_hash text NOT NULL DEFAULT '',   -- argon2id PHC string, '' for none
	created_at    timestamptz NOT NULL
);

-- Secrets are kept as SHA-256 hashes only: a copy of the database gives no
-- working token or session.
CREATE TABLE tokens (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id      bigint NOT NULL REFERENCES users (id),
	name         text NOT NULL DEFAULT '',
	prefix       text NOT NULL DEFAULT '',
	secret_hash  bytea NOT NULL UNIQUE,
	scopes       text NOT NULL,               -- JSON array
	created_at   timestamptz NOT NULL,
	expires_at   timestamptz NOT NULL,
	revoked_at   timestamptz,
	last_used_at timestamptz
);
CREATE INDEX tokens_user ON tokens (user_id, id);

CREATE TABLE sessions (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id_hash      bytea NOT NULL UNIQUE,
	user_id      bigint NOT NULL REFERENCES users (id),
	created_at   timestamptz NOT NULL,
	last_seen_at timestamptz NOT NULL,
	expires_at   timestamptz NOT NULL,
	ended_at     timestamptz,
	address      text NOT NULL DEFAULT '',
	user_agent   text NOT NULL DEFAULT '',
	via          text NOT NULL DEFAULT ''
);

CREATE TABLE login_attempts (
	id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account text NOT NULL,
	address text NOT NULL,
	at      timestamptz NOT NULL,
	ok      boolean NOT NULL
);
CREATE INDEX login_attempts_account ON login_attempts (account, at);
CREATE INDEX login_attempts_address ON login_attempts (address, at);

-- A column with a constant default is added without rewriting the table.
ALTER TABLE submissions ADD COLUMN shared boolean NOT NULL DEFAULT false;

CREATE TABLE holds (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	operation_id bigint NOT NULL REFERENCES operations (id),
	agency_id    bigint NOT NULL REFERENCES agencies (id),
	scope        text NOT NULL,
	item_id      bigint REFERENCES items (id), -- item holds only
	platform     text NOT NULL DEFAULT '',
	handle       text NOT NULL DEFAULT '',
	pattern      text NOT NULL DEFAULT '',
	reason       text NOT NULL,
	note         text NOT NULL DEFAULT '',
	created_at   timestamptz NOT NULL,
	created_by   text NOT NULL,
	expires_at   timestamptz NOT NULL,
	released_at  timestamptz,
	released_by  text NOT NULL DEFAULT ''
);
CREATE INDEX holds_operation ON holds (operation_id, id);

CREATE TABLE referrals (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	operation_id bigint NOT NULL REFERENCES operations (id),
	provider_id  bigint NOT NULL REFERENCES providers (id),
	legal_basis  text NOT NULL,
	status       text NOT NULL,
	created_at   timestamptz NOT NULL,
	created_by   text NOT NULL
);
CREATE INDEX referrals_operation ON referrals (operation_id, id);

CREATE TABLE referral_items (
	referral_id bigint NOT NULL REFERENCES referrals (id),
	item_id     bigint NOT NULL REFERENCES items (id),
	PRIMARY KEY (referral_id, item_id)
);
CREATE INDEX referral_items_item ON referral_items (item_id);

-- The audit chain, and its head: the last event's sequence number and
-- hash, updated with every event, so that a chain cut at its end shows.
-- Writers lock the head row to append, which also orders the events as
-- their transactions commit. Details are text, not jsonb: the hash is over
-- the text as stored, and jsonb would reformat it.
CREATE TABLE audit_events (
	seq       bigint PRIMARY KEY,
	at        timestamptz NOT NULL,
	actor     text NOT NULL,
	action    text NOT NULL,
	subject   text NOT NULL,
	operation text NOT NULL DEFAULT '',
	details   text NOT NULL,       -- JSON object, hashed as stored
	prev_hash text NOT NULL,
	hash      text NOT NULL
);
CREATE INDEX audit_events_operation ON audit_events (operation, seq);
CREATE INDEX audit_events_subject ON audit_events (subject, seq);

CREATE TABLE audit_head (
	id   integer PRIMARY KEY CHECK (id = 1),
	seq  bigint NOT NULL,
	hash text NOT NULL,
	at   timestamptz              -- NULL before the first event
);
INSERT INTO audit_head (id, seq, hash, at) VALUES (1, 0, '', NULL);
